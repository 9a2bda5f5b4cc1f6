/**
 * The executor seam: every object that runs statements (database, connection, transaction) extends
 * {@link Queryable} and supplies only where its statements go ({@link Queryable._sessionFor}). Feature modules
 * are written once against this class.
 * @module
 */
import { checkSqlText, prepareQuery, type QueryParams } from "../sql/placeholders.js";
import { inChunks } from "./chunks.js";
import { boundStatement, encodeParams } from "../sql/encode.js";
import { ParameterError, locateError } from "../errors.js";
import type { ExecuteManyOptions, ExecuteOptions, QueryApi, QueryResult, Row } from "./api.js";
import { CANCEL_OPTIONS, watchAbort, watched, type AbortWatch } from "./cancel.js";
import { runCancellable } from "./cancel-statement.js";
import { checkOptions } from "./options.js";
import { PgSession, type MakeQuery } from "./pg-session.js";
import { observed, observedBatch, type QueryHooks } from "./query-hooks.js";
import { startTransaction, type BeginOptions, type TransactionOptions } from "./tx-options.js";
import type { AsyncTransaction } from "./async-transaction.js";

/** A plain copy (the driver's result object carries parser functions, which cannot cross a worker boundary). */
const wholeResult = (r: QueryResult): QueryResult => ({ rows: r.rows, rowCount: r.rowCount, command: r.command, fields: r.fields });
const rowsOf = (r: QueryResult): Row[] => r.rows;
const firstRow = (r: QueryResult): Row | null => r.rows[0] ?? null;
function firstValue(r: QueryResult): unknown {
  const row = r.rows[0];
  const first = r.fields[0];
  if (row === undefined || first === undefined) return null;
  return row[first.name] ?? null;
}

/**
 * Awaits a statement's Promise so that a failure is re-thrown from here, in the caller's async context: the
 * error's stack then shows the caller's `at async …` frames, and it carries the statement text as `query`.
 */
async function located<T>(p: Promise<T>, sql: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw locateError(err, sql, located);
  }
}

/** Base class of everything that runs statements. */
export abstract class Queryable implements QueryApi<"async"> {
  /**
   * The hooks of the database handle this object belongs to (its `onQuery`), told about each statement run here;
   * set by the subclass's constructor.
   * @internal
   */
  _hooks: QueryHooks | undefined = undefined;

  /**
   * The session statement `sql` runs on (it may refuse the statement, e.g. transaction control where the
   * object manages the transaction itself).
   * @internal
   */
  abstract _sessionFor(options: ExecuteOptions | undefined, sql: string): PgSession | Promise<PgSession>;

  /**
   * The plain-session seam, for feature modules that need a non-pipelined session (COPY, server-side cursors,
   * LISTEN): runs `fn(session)` and resolves with its result.
   *
   * - On a database handle: inside one of its `transaction()` callbacks, the transaction's session (so a COPY
   *   joins the transaction and rolls back with it), unless `options.autocommit` is `true`; else a dedicated
   *   session taken from its source and given back when `fn` settles (also when it throws), on which every
   *   statement commits on its own.
   * - On a transaction or a connection: its own session, with the checks its statements get (refused once
   *   finished or closed; waits while a savepoint callback runs beneath it; on a connection with
   *   `autocommit: false`, a transaction begins first).
   *
   * Run submittables with `session.submit(…)` (see `PgSession.submit`) and statements with `session.query(…)`.
   * The session must not be used after `fn` has settled.
   * @internal
   */
  abstract _withPlainSession<T>(fn: (session: PgSession) => Promise<T>, options?: ExecuteOptions): Promise<T>;

  /**
   * The own-session seam, for statements PostgreSQL refuses inside a transaction block (`VACUUM`,
   * `CREATE DATABASE`, `DROP DATABASE`, `CREATE INDEX CONCURRENTLY`): runs `fn` on a session of the database's
   * source, never the shared connection, an ambient transaction, a transaction's or a connection's own session,
   * so every statement commits on its own; the session is given back when `fn` settles. Called on a transaction
   * or a connection, it takes a session from the database they came from.
   * @internal
   */
  abstract _withOwnSession<T>(fn: (session: PgSession) => Promise<T>): Promise<T>;

  /**
   * Whether a statement run here now runs inside a transaction block: on a transaction, always; on a database,
   * inside one of its `transaction()` callbacks; on a connection, without autocommit or while a transaction is
   * open on it. Known without asking the server. Feature modules use it to refuse what would wait forever for the
   * caller's own transaction (a `CONCURRENTLY` build on a session of its own).
   * @internal
   */
  abstract _inTransaction(): boolean;

  /**
   * The standalone-session seam, for a feature that keeps a session for itself for a long time (a LISTEN
   * listener): opens a plain session with the database's configuration, never taken from nor given back to its
   * source's idle cache; the feature closes it (`session.close()`), and so does closing the database. Resolves
   * `undefined` once the database handle is closed. On a transaction or a connection: the database's.
   * @internal
   */
  abstract _openStandalone(): Promise<PgSession | undefined>;

  /**
   * Opens a transaction here, with `begin`'s modes: on a database, a transaction on a session of its own (a
   * savepoint of the transaction whose callback runs); on a connection, a transaction (a savepoint inside its own);
   * on a transaction, a savepoint. `scoped`: a callback runs in it (see `Placement.scoped`).
   * @internal
   */
  abstract _openTransaction(begin: BeginOptions | undefined, scoped: boolean): Promise<AsyncTransaction>;

  /**
   * Begins a transaction (a savepoint where one is open) and returns it, or runs `fn` in it: commits when `fn`
   * returns, rolls back when it throws; `options` set how it begins and whether `fn` is retried (see
   * `TransactionStarter.transaction` in `api.ts` and {@link TransactionOptions}).
   */
  transaction(options?: TransactionOptions): Promise<AsyncTransaction>;
  transaction<T>(fn: (tx: AsyncTransaction) => T | PromiseLike<T>, options?: TransactionOptions): Promise<T>;
  transaction<T>(options: TransactionOptions, fn: (tx: AsyncTransaction) => T | PromiseLike<T>): Promise<T>;
  async transaction(a?: unknown, b?: unknown): Promise<unknown> {
    return startTransaction(a, b, (begin, scoped) => this._openTransaction(begin, scoped));
  }

  /**
   * Runs a statement and resolves with `pick(result)`, reporting it to the handle's hooks when it has some (without,
   * that costs this one check).
   * @internal
   */
  #run<T>(
    sql: string,
    params: QueryParams | null | undefined,
    options: ExecuteOptions | undefined,
    pick: (r: QueryResult) => T,
    make?: MakeQuery,
  ): Promise<T> {
    const hooks = this._hooks;
    if (hooks === undefined) return this.#send(sql, params, options, pick, make);
    return observed(hooks, sql, params, pick, (p) => this.#send(sql, params, options, p, make));
  }

  /**
   * Runs a statement and resolves with `pick(result)`. The hot path of every query method: one Promise from the
   * driver's callback, plus one `await` (in `located`) that gives errors the caller's stack.
   */
  #send<T>(
    sql: string,
    params: QueryParams | null | undefined,
    options: ExecuteOptions | undefined,
    pick: (r: QueryResult) => T,
    make?: MakeQuery,
  ): Promise<T> {
    if (options != null && (options.signal !== undefined || options.timeout !== undefined)) {
      return located(runCancellable(this, sql, params, options, pick, make), sql);
    }
    let text: string;
    let values: unknown[] | undefined;
    let session: PgSession | Promise<PgSession>;
    try {
      ({ text, values } = boundStatement(sql, params));
      session = this._sessionFor(options, sql);
    } catch (err) {
      return located(Promise.reject(err), sql);
    }
    if (session instanceof PgSession) return located(session.query(text, values, pick, make), sql);
    return located(session.then((s) => s.query(text, values, pick, make)), sql);
  }

  /**
   * Runs a statement exactly as the query methods do (same session, ambient transaction, parameter encoding,
   * errors), with `make` building the driver's query object: the synchronous facade's worker uses one that packs
   * the rows as they arrive instead of parsing them.
   * @internal
   */
  _runWith<T>(
    sql: string,
    params: QueryParams | null | undefined,
    options: ExecuteOptions | undefined,
    pick: (r: QueryResult) => T,
    make: MakeQuery,
  ): Promise<T> {
    return this.#run(sql, params, options, pick, make);
  }

  /** @inheritDoc */
  query<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<QueryResult<R>> {
    return this.#run(sql, params, options, wholeResult) as Promise<QueryResult<R>>;
  }

  /** @inheritDoc */
  execute<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R[]> {
    return this.#run(sql, params, options, rowsOf) as Promise<R[]>;
  }

  /** @inheritDoc */
  fetchAll<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R[]> {
    return this.execute<R>(sql, params, options);
  }

  /** @inheritDoc */
  fetchOne<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R | null> {
    return this.#run(sql, params, options, firstRow) as Promise<R | null>;
  }

  /** @inheritDoc */
  fetchVal<T = unknown>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<T | null> {
    return this.#run(sql, params, options, firstValue) as Promise<T | null>;
  }

  /** @inheritDoc */
  executeMany(sql: string, paramsSeq: Iterable<QueryParams> | AsyncIterable<QueryParams>, options?: ExecuteManyOptions): Promise<number> {
    return located(this.#runMany(sql, paramsSeq, options), sql);
  }

  async #runMany(sql: string, paramsSeq: Iterable<QueryParams> | AsyncIterable<QueryParams>, options?: ExecuteManyOptions): Promise<number> {
    checkSqlText(sql); // also when there is nothing to run
    const { chunkSize = DEFAULT_CHUNK, onProgress } = checkOptions("executeMany", options, MANY_OPTIONS);
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new ParameterError(`executeMany(): chunkSize must be an integer ≥ 1, got ${chunkSize}`);
    const watch = watchAbort("executeMany", options);
    const chunks = chunksOf(sql, paramsSeq, chunkSize);
    try {
      const first = await chunks.next();
      if (first.done) return 0;
      const second = await chunks.next();
      if (second.done) {
        // One chunk: one pipelined burst (BEGIN + statements + COMMIT), wherever this object's statements go.
        const n = await this.#runBatch(sql, first.value, watch);
        await onProgress?.(n);
        return n;
      }
      // More: chunk after chunk inside one transaction (a savepoint when one is open), so all or nothing.
      return await this.transaction(async (tx: Queryable) => {
        let total = 0;
        for (let next: IteratorResult<Batch> = first; !next.done; next = next === first ? second : await chunks.next()) {
          total += await tx.#runBatch(sql, next.value, watch);
          await onProgress?.(total);
        }
        return total;
      });
    } finally {
      watch?.dispose();
      await chunks.return(undefined);
    }
  }

  /**
   * Runs one chunk of `executeMany` (atomic on its own; joins the transaction it runs in). Under a `watch` (a
   * signal or timeout), never on the shared pipelined connection, where a cancel could stop other callers'
   * statements: on a dedicated session instead.
   * @internal
   */
  #runBatch(sql: string, batch: Batch, watch: AbortWatch | undefined): Promise<number> {
    const hooks = this._hooks;
    if (hooks === undefined) return this.#sendBatch(sql, batch, watch);
    return observedBatch(hooks, sql, batch.values, () => this.#sendBatch(sql, batch, watch));
  }

  async #sendBatch(sql: string, batch: Batch, watch: AbortWatch | undefined): Promise<number> {
    const session = await this._sessionFor(undefined, sql);
    const run = (s: PgSession) => s.batch(batch.text, batch.values, true);
    if (watch === undefined) return run(session);
    if (!session.pipelined) return watched(session, watch, () => run(session));
    return this._withOwnSession((own) => watched(own, watch, () => run(own)));
  }
}

/** One chunk of `executeMany`: the statement text and its parameter lists. */
interface Batch {
  text: string;
  values: unknown[][];
}

const DEFAULT_CHUNK = 5000;
const MANY_OPTIONS = { chunkSize: "number", onProgress: "function", ...CANCEL_OPTIONS } as const;

/** Reads parameter sets (from an iterable or an async iterable) into encoded chunks of at most `size`. */
async function* chunksOf(sql: string, seq: Iterable<QueryParams> | AsyncIterable<QueryParams>, size: number): AsyncGenerator<Batch, void, undefined> {
  if (seq === null || typeof seq !== "object" || !(Symbol.iterator in seq || Symbol.asyncIterator in seq)) {
    throw new ParameterError(`executeMany(): the parameter sets must be an iterable (an array, a generator, …), got ${seq === null ? "null" : typeof seq}`);
  }
  let text: string | undefined;
  const encode = (params: QueryParams): unknown[] => {
    const q = prepareQuery(sql, params);
    text ??= q.text;
    return encodeParams(q.values) ?? [];
  };
  for await (const values of inChunks(seq, size, encode)) yield { text: text!, values };
}
