/**
 * Server-side cursors: a statement's rows read from a portal in batches (pg-cursor, run as a Submittable on a
 * plain session), so memory is bounded by the batch size whatever the result's size. `stream()` and the cursors
 * of `db.cursor()` are built on {@link ServerCursor}.
 *
 * The plain-session seam takes a callback; a server cursor must hold its session across the reader's awaits, so
 * the callback runs a small loop that waits for the reader's next request (read a batch, or close) and serves it,
 * and settles (giving the session back) once the rows are exhausted, the cursor is closed, or the server fails it.
 *
 * While the portal is open it occupies its connection: node-postgres would queue any other statement behind it,
 * and that statement would wait forever for a cursor its own caller is waiting on. Such a statement is refused
 * with a {@link TscopgError} instead (see {@link occupy}).
 * @module
 */
import Cursor from "pg-cursor";
import type { FieldDef } from "pg";
import { TscopgError } from "../errors.js";
import { typeParsers } from "../sql/values.js";
import type { Row } from "./api.js";
import { cancellable } from "./cancel.js";
import type { PgSession } from "./pg-session.js";

/** A row as the server sent it: each value's text, `null` for NULL. */
export type RawRow = (string | null)[];

/** What a server cursor runs on: the plain-session seam of an executor. */
export interface PlainSessionHost {
  _withPlainSession<T>(fn: (session: PgSession) => Promise<T>): Promise<T>;
}

/** pg-cursor, able to hand over the server's text of each row instead of parsing it (for the sync facade). */
class RowCursor extends Cursor {
  /** Whether the current read keeps rows as {@link RawRow}s. */
  raw = false;
  declare _result: { fields: FieldDef[]; rowCount: number | null; command: string; parseRow(values: RawRow): Row };
  declare _rows: unknown[];
  declare state: string;

  handleDataRow(msg: { fields: RawRow }): void {
    if (this.raw) this._rows.push(msg.fields);
    else (Cursor.prototype as unknown as { handleDataRow(m: unknown): void }).handleDataRow.call(this, msg);
  }
}

/** A request from the reader to the loop that holds the session. */
interface Request {
  /** Rows to read. */
  rows: number;
  raw: boolean;
  resolve(batch: { rows: unknown[]; done: boolean }): void;
  reject(err: unknown): void;
}

/** One batch: the rows and whether they were the last. */
export interface Batch<T> {
  rows: T[];
  done: boolean;
}

/**
 * One statement's portal. Nothing is sent until the first {@link read}. Reads are served one at a time, in order.
 */
export class ServerCursor {
  #cursor: RowCursor;
  /** The loop holding the session: settles when the session is given back (rejects with the statement's error). */
  #running: Promise<void> | undefined;
  #request: Request | undefined;
  #wake: (() => void) | undefined;
  #over = false;
  /** Set by {@link close}: the loop closes the portal instead of waiting for another read. */
  #closing = false;
  #error: unknown;

  constructor(
    private readonly host: PlainSessionHost,
    text: string,
    values: unknown[] | undefined,
    private readonly signal?: AbortSignal,
  ) {
    this.#cursor = new RowCursor(text, values, { types: typeParsers } as never);
  }

  /** The result's columns (known after the first read). */
  get fields(): FieldDef[] {
    return this.#cursor._result.fields;
  }

  /**
   * The statement's row count, once the rows are exhausted: the rows read for a statement with a result (the
   * command tag only counts the last batch's), else the tag's count (the rows an INSERT, UPDATE… changed).
   */
  get rowCount(): number | null {
    return this.fields.length > 0 ? this.#rowsRead : this.#cursor._result.rowCount;
  }

  #rowsRead = 0;

  /** The command (`SELECT`, `INSERT`, …), once the rows are exhausted. */
  get command(): string {
    return this.#cursor._result.command;
  }

  /** Whether the portal is over (exhausted, closed or failed) and its session given back. */
  get over(): boolean {
    return this.#over;
  }

  /** Parses a raw row as the driver would have (same type parsers). */
  parseRow(raw: RawRow): Row {
    return this.#cursor._result.parseRow(raw);
  }

  /** Reads up to `rows` rows (parsed, or with `raw` the server's text); `done` once the last one was read. */
  read(rows: number, raw?: false): Promise<Batch<Row>>;
  read(rows: number, raw: true): Promise<Batch<RawRow>>;
  read(rows: number, raw = false): Promise<Batch<unknown>> {
    if (this.#over || this.#closing) return this.#error === undefined ? Promise.resolve({ rows: [], done: true }) : Promise.reject(this.#error);
    if (this.#request !== undefined) return Promise.reject(new TscopgError("a server cursor read is already in progress"));
    const answer = new Promise<Batch<unknown>>((resolve, reject) => (this.#request = { rows, raw, resolve, reject }));
    this.#running ??= this.#start();
    this.#wake?.();
    return answer;
  }

  /**
   * Closes the portal because the transaction or connection it runs on ends (see {@link closePortals}): a later
   * read fails, saying so, instead of ending quietly.
   * @internal
   */
  async _closeForEnd(): Promise<void> {
    this.#error ??= new TscopgError(
      "the transaction or connection this server-side cursor ran on ended (or was closed), which closed the cursor",
    );
    await this.close();
  }

  /** Closes the portal (if open) and resolves once its session is given back. Never rejects. Idempotent. */
  async close(): Promise<void> {
    if (this.#running === undefined) {
      this.#over = true;
      return;
    }
    this.#closing = true;
    this.#wake?.();
    await this.#running.catch(() => undefined);
  }

  #start(): Promise<void> {
    const run = this.host._withPlainSession(async (session) => {
      // An already-aborted signal: refused before anything is sent.
      await cancellable(session, this.signal, () => Promise.resolve());
      let open = openPortals.get(session);
      if (open === undefined) openPortals.set(session, (open = new Set()));
      open.add(this);
      try {
        return await session.submit(this.#cursor, (c) => occupy(session, c, () => this.#serve(c, session)));
      } finally {
        open.delete(this);
      }
    });
    return run.then(
      () => this.#end(undefined),
      (err: unknown) => this.#end(err ?? new TscopgError("the server cursor failed")),
    );
  }

  /**
   * Ends the cursor: the request waiting (if any) gets the error, or the last batch (answered only now, once the
   * session is given back, so a statement run right after the last row finds it free).
   */
  #end(err: unknown): void {
    this.#over = true;
    this.#error ??= err;
    const req = this.#request;
    const last = this.#last ?? [];
    this.#request = undefined;
    this.#last = undefined;
    if (req === undefined) return;
    if (this.#error === undefined) req.resolve({ rows: last, done: true });
    else req.reject(this.#error);
  }

  /** The rows of the last read, kept for {@link #end}. */
  #last: unknown[] | undefined;

  /** The loop holding the session: serves the reader's requests until the end. */
  async #serve(c: RowCursor, session: PgSession): Promise<void> {
    for (let first = true; ; first = false) {
      const req = await this.#next();
      // Between reads the portal waits for the reader, not for the server: it is not counted as a statement in
      // flight then (the answer limit does not run out on a slow reader, and an idle socket does not keep the
      // process alive); it is counted again before anything is sent, so the exchange ends counted.
      if (!first) session._begin();
      if (req === undefined) {
        await c.close();
        return;
      }
      c.raw = req.raw;
      // Each read is cancellable (between reads nothing runs on the server: an abort then fails the next read).
      const rows = await cancellable(session, this.signal, () => c.read(req.rows));
      this.#rowsRead += rows.length;
      if (c.state === "done") {
        this.#last = rows;
        return;
      }
      session._answered(undefined);
      this.#request = undefined;
      req.resolve({ rows, done: false });
    }
  }

  /** The next request of the reader (waits for one). */
  #next(): Promise<Request | undefined> {
    const req = this.#request;
    if (this.#closing) return Promise.resolve(undefined);
    if (req !== undefined) return Promise.resolve(req);
    return new Promise<void>((resolve) => (this.#wake = resolve)).then(() => {
      this.#wake = undefined;
      return this.#next();
    });
  }
}

/** The portals open on each session. */
const openPortals = new WeakMap<PgSession, Set<ServerCursor>>();

/**
 * Closes the server-side cursors open on `session` (their unread rows are dropped; their next read fails saying
 * why). A transaction or connection ends with this before its session is given back, so an abandoned stream or
 * cursor never leaves a portal occupying a session someone else gets next.
 * @internal
 */
export async function closePortals(session: PgSession): Promise<void> {
  const open = openPortals.get(session);
  if (open !== undefined && open.size > 0) await Promise.all([...open].map((c) => c._closeForEnd()));
}

/**
 * Runs `serve` while `cursor`'s portal occupies `session`: any other statement sent on the session meanwhile is
 * refused (it would wait forever behind the open portal).
 */
async function occupy<T>(session: PgSession, cursor: object, serve: () => Promise<T>): Promise<T> {
  const client = session.client as unknown as { query(q: unknown, ...rest: unknown[]): unknown };
  const own = Object.prototype.hasOwnProperty.call(client, "query");
  const query = client.query;
  client.query = function (this: unknown, q: unknown, ...rest: unknown[]) {
    if (q === cursor) return query.call(this, q, ...rest);
    throw portalOpen();
  };
  // (Waiting for the session to settle, before a BEGIN or a COMMIT, does not wait for the portal: between reads
  // it is not counted in flight, see ServerCursor.#serve. The statement that follows is refused here.)
  try {
    return await serve();
  } finally {
    if (own) client.query = query;
    else delete (client as { query?: unknown }).query;
  }
}

function portalOpen(): TscopgError {
  return new TscopgError(
    "a server-side cursor (a stream() being iterated, or a cursor with unread rows) is open on this connection: " +
      "read it to its end or close it (break out of the loop, cursor.close()) before running another statement on it",
  );
}

/**
 * A batch of rows for the synchronous facade's worker (the `_nextBatch` method of the iterators over server
 * cursors): rows already parsed (`values`), or rows as the server's text with their columns (`raw`, `fields`), which
 * the worker packs and the main thread decodes with the same type parsers.
 * @internal
 */
export interface RawBatch {
  values?: Row[];
  raw?: RawRow[];
  fields?: { name: string; dataTypeID: number }[];
  done: boolean;
}

/** The columns of a raw batch. @internal */
export function fieldsOf(cursor: ServerCursor): { name: string; dataTypeID: number }[] {
  return cursor.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
}
