/**
 * DB-API style cursor over a dedicated connection, reading its rows from a server-side cursor (a portal).
 * @module
 */
import { boundStatement } from "../sql/encode.js";
import { isMultiStatement, type QueryParams } from "../sql/placeholders.js";
import type { CursorApi, ExecuteManyOptions, Row } from "./api.js";
import type { AsyncConnection } from "./async-connection.js";
import type { Finishable } from "./scoped.js";
import { fieldsOf, ServerCursor, type RawBatch, type RawRow } from "./server-cursor.js";

/** Rows read from the server per round trip (`execute()` reads the first batch). */
const FETCH_SIZE = 1000;

type Description = { name: string; dataTypeID: number }[];

/**
 * A cursor: `execute()` a statement, then read its rows with `fetchOne()`, `fetchMany()`, `fetchAll()` or
 * `for await (const row of cur)`. Rows are plain objects, equal to `execute()`'s. Runs on a dedicated connection
 * (its own, from `db.cursor()`, or a connection's).
 *
 * Server-side: `execute()` opens a cursor (a portal) on the server and reads its first 1,000 rows; the rest are
 * read 1,000 at a time as they are fetched, so a result of any size is never held whole in memory. While rows
 * remain unread the portal occupies the connection: another statement on it (e.g. `conn.execute()` of the
 * connection the cursor came from) is refused until the rows are read, or the cursor is closed or runs another
 * `execute()` (which discards the unread rows). `commit()` and `rollback()` discard them too. A text of several
 * statements without parameters (a script) runs as `execute()` runs it, and the last result's rows are read whole.
 */
export class AsyncCursor implements CursorApi<"async">, Finishable, AsyncDisposable {
  #portal: ServerCursor | undefined;
  /** Rows read from the server and not fetched yet: `#rows[#pos…]`. */
  #rows: Row[] = [];
  #pos = 0;
  #rowCount = -1;
  #fields: Description | null = null;
  /** The raw rows of the last batch handed to the synchronous facade (it may give the unread ones back). */
  #lastRaw: RawRow[] | undefined;

  /** How many rows `fetchMany()` returns by default. */
  get arraySize(): number {
    return 100;
  }

  /** @internal Use `db.cursor()` or `conn.cursor()`. */
  constructor(
    private readonly conn: AsyncConnection,
    private readonly ownsConnection: boolean,
  ) {}

  /**
   * The rows of the last `execute()`: its row count once all its rows were read from the server (right after
   * `execute()` for a result of at most 1,000 rows, and for statements without rows: the rows they changed); -1
   * while rows remain unread on the server (not known yet) and before any `execute()`. After `executeMany()`,
   * the rows it changed.
   */
  get rowCount(): number {
    return this.#rowCount;
  }

  /** @inheritDoc */
  get description(): Description | null {
    return this.#fields;
  }

  async execute(sql: string, params?: QueryParams | null): Promise<void> {
    await this.#discard();
    if ((params === undefined || params === null) && typeof sql === "string" && isMultiStatement(sql)) {
      // Several statements (a script): the simple protocol runs them, and a portal cannot; the last result's rows
      // are read whole, as `execute()` returns them.
      const r = await this.conn.query(sql);
      this.#rows = r.rows;
      this.#rowCount = r.rowCount ?? -1;
      this.#fields = r.fields.length > 0 ? r.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) : null;
      return;
    }
    const { text, values } = boundStatement(sql, params);
    const portal = new ServerCursor(this.conn, text, values);
    this.#portal = portal;
    await this.#fill(FETCH_SIZE);
    this.#fields = portal.fields.length > 0 ? fieldsOf(portal) : null;
  }

  async executeMany(sql: string, paramsSeq: Iterable<QueryParams> | AsyncIterable<QueryParams>, options?: ExecuteManyOptions): Promise<void> {
    await this.#discard();
    this.#rowCount = await this.conn.executeMany(sql, paramsSeq, options);
  }

  async fetchOne<R extends object = Row>(): Promise<R | null> {
    if (this.#pos >= this.#rows.length) await this.#fill(FETCH_SIZE);
    return (this.#rows[this.#pos++] as R | undefined) ?? null;
  }

  async fetchMany<R extends object = Row>(size = this.arraySize): Promise<R[]> {
    const out: Row[] = [];
    while (out.length < size) {
      if (this.#pos >= this.#rows.length && !(await this.#fill(Math.max(size - out.length, FETCH_SIZE)))) break;
      const take = this.#rows.slice(this.#pos, this.#pos + size - out.length);
      this.#pos += take.length;
      for (const row of take) out.push(row);
    }
    return out as R[];
  }

  async fetchAll<R extends object = Row>(): Promise<R[]> {
    const out: Row[] = [];
    do {
      for (let i = this.#pos; i < this.#rows.length; i++) out.push(this.#rows[i]!);
      this.#pos = this.#rows.length;
    } while (await this.#fill(FETCH_SIZE));
    return out as R[];
  }

  /**
   * Reads the next batch from the server into the buffer (which must be used up); resolves with whether it got
   * rows. Once the server has no more, the row count is known and the connection is free.
   */
  async #fill(size: number, raw = false): Promise<boolean> {
    const portal = this.#portal;
    this.#rows = [];
    this.#pos = 0;
    if (portal === undefined) return false; // (a portal closed under it, by its connection's end, says so)
    try {
      const batch = raw ? await portal.read(size, true) : await portal.read(size);
      if (raw) this.#lastRaw = batch.rows as RawRow[];
      else this.#rows = batch.rows as Row[];
      if (batch.done) this.#exhausted(portal);
      return batch.rows.length > 0;
    } catch (err) {
      this.#portal = undefined;
      throw err;
    }
  }

  #exhausted(portal: ServerCursor): void {
    this.#portal = undefined;
    this.#rowCount = portal.rowCount ?? -1;
  }

  /** Closes the open portal, dropping its unread rows (the connection is free again). */
  async #discard(): Promise<void> {
    const portal = this.#portal;
    this.#portal = undefined;
    this.#rows = [];
    this.#pos = 0;
    this.#lastRaw = undefined;
    this.#rowCount = -1;
    this.#fields = null;
    await portal?.close();
  }

  /**
   * Iterates over the rows of the last statement not fetched yet: `for await (const row of cur)`. Each row taken
   * counts as fetched. (The iterator's `_unread(n)` gives back the last `n` rows taken, and its `_nextBatch()`
   * hands over a batch as the server's text: the synchronous facade moves rows in batches, and gives back those of
   * a batch its loop did not reach.)
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Row> & { _unread(n: number): void; _nextBatch(): Promise<RawBatch> } {
    const it = {
      next: (): Promise<IteratorResult<Row>> => {
        this.#lastRaw = undefined;
        // A row of the batch in memory: no async function's machinery per row.
        if (this.#pos < this.#rows.length) return Promise.resolve({ done: false, value: this.#rows[this.#pos++]! });
        return this.#fill(FETCH_SIZE).then(() =>
          this.#pos < this.#rows.length ? { done: false, value: this.#rows[this.#pos++]! } : { done: true, value: undefined },
        );
      },
      return: async (): Promise<IteratorResult<Row>> => ({ done: true, value: undefined }),
      _unread: (n: number): void => {
        const raw = this.#lastRaw;
        this.#lastRaw = undefined;
        if (raw === undefined) this.#pos = Math.max(0, this.#pos - n);
        else if (n > 0 && this.#parser !== undefined) {
          const parser = this.#parser;
          this.#rows = raw.slice(raw.length - n).map((r) => parser.parseRow(r));
          this.#pos = 0;
        }
      },
      _nextBatch: async (): Promise<RawBatch> => {
        if (this.#pos < this.#rows.length) {
          const values = this.#rows.slice(this.#pos);
          this.#pos = this.#rows.length;
          this.#lastRaw = undefined;
          return { values, done: this.#portal === undefined };
        }
        const portal = this.#portal;
        if (portal === undefined) return { done: true };
        this.#parser = portal;
        await this.#fill(FETCH_SIZE, true);
        return { raw: this.#lastRaw ?? [], fields: fieldsOf(portal), done: this.#portal === undefined };
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** The portal whose raw rows the last batch held (it parses the unread ones given back). */
  #parser: ServerCursor | undefined;

  /** Commits (after discarding the unread rows of the last statement). */
  async commit(): Promise<void> {
    await this.#discard();
    return this.conn.commit();
  }

  /** Rolls back (after discarding the unread rows of the last statement). */
  async rollback(): Promise<void> {
    await this.#discard();
    return this.conn.rollback();
  }

  /** Closes the cursor (and its connection when the cursor owns it, rolling back what was not committed). */
  async close(): Promise<void> {
    await this.#discard();
    if (this.ownsConnection) await this.conn.close();
  }

  /** @internal */
  async _finish(ok: boolean): Promise<void> {
    await this.#discard();
    if (this.ownsConnection) await this.conn._finish(ok);
    else if (!ok) await this.conn.rollback();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `AsyncCursor(rowCount=${this.#rowCount})`;
  }
}
