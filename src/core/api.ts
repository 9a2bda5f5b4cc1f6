/**
 * The public method signatures of the core, written once and parametrised by mode: `"async"` returns
 * Promises (AsyncDatabase and its resources), `"sync"` returns values (the generated synchronous facade).
 * @module
 */
import type { QueryParams } from "../sql/placeholders.js";
import type { AsyncConnection } from "./async-connection.js";
import type { AsyncCursor } from "./async-cursor.js";
import type { AsyncTransaction } from "./async-transaction.js";
import type { TransactionOptions } from "./tx-options.js";

/** `"async"` for AsyncDatabase and friends, `"sync"` for the blocking facade. */
export type Mode = "async" | "sync";

interface Wrapped<T> {
  async: Promise<T>;
  sync: T;
}
/** `Promise<T>` in async mode, `T` in sync mode. */
export type Out<M extends Mode, T> = Wrapped<T>[M];

/**
 * Marks a callback that returns a Promise (an `async` callback) as a type error on the synchronous facade: it
 * would run outside the blocking call, after the transaction or connection was already finished.
 */
export interface AsyncCallbackNotAllowed {
  "a callback given to the synchronous Database must not be async or return a Promise; use AsyncDatabase": never;
}

/**
 * What a callback given to a scoped method may return: anything (or a Promise of it) in async mode; anything but
 * a Promise in sync mode (see {@link AsyncCallbackNotAllowed}).
 */
export type CallbackResult<M extends Mode, T> = M extends "async"
  ? T | PromiseLike<T>
  : T extends PromiseLike<unknown>
    ? AsyncCallbackNotAllowed
    : T;

/** A row: a plain object keyed by column name. */
export type Row = Record<string, unknown>;

/** Options of the query methods. */
export interface ExecuteOptions {
  /**
   * Run outside any ambient transaction, on the database's shared connection, committing at once (needed for
   * statements such as `CREATE DATABASE` or `VACUUM` when called from inside a `transaction()` callback).
   * Outside a transaction every statement already commits on its own. Ignored by connections and
   * transactions, which run everything on their own connection.
   */
  autocommit?: boolean | undefined;
  /**
   * Cancels the statement when it aborts: a cancel request stops it on the server, and the call rejects with
   * `QueryCanceled` (see README "Cancelling a statement"). Already aborted: refused before anything is sent, with
   * a client-side `QueryCanceled`. On the database (outside a transaction) such a statement runs on a dedicated
   * connection, never the shared pipelined one, so a cancel can only stop the caller's own statement. Async only:
   * the synchronous `Database` refuses a live signal (it could never fire during the blocking call); use
   * `timeout` there.
   */
  signal?: AbortSignal | undefined;
  /**
   * A client-side deadline in milliseconds: when it runs out, the statement is cancelled as by `signal` (a real
   * cancel request; `QueryCanceled`). Works on both sides (async: the same as `signal: AbortSignal.timeout(ms)`).
   */
  timeout?: number | undefined;
  /**
   * The statement only reads: on a pool given several hosts, outside a transaction, it may run on a standby (the
   * least loaded one that is up; the primary when none is). See `AsyncPooledDatabase.replicas`. Elsewhere it
   * changes nothing.
   */
  readOnly?: boolean | undefined;
}

/** Options of `executeMany`. */
export interface ExecuteManyOptions<M extends Mode = "async"> {
  /** Cancels the whole call (every chunk; it is all-or-nothing, so nothing stays): see `ExecuteOptions.signal`. */
  signal?: AbortSignal | undefined;
  /** A deadline (ms) for the whole call: see `ExecuteOptions.timeout`. */
  timeout?: number | undefined;
  /**
   * Parameter sets sent per round trip (default 5000). Input that fits in one chunk runs as one pipelined batch
   * on the database's shared connection; longer input runs chunk after chunk in one transaction.
   */
  chunkSize?: number | undefined;
  /** Called after each chunk with the rows affected so far (on the synchronous facade: a plain function). */
  onProgress?: ((rowsSoFar: number) => CallbackResult<M, void>) | undefined;
}

/** A statement's full result. */
export interface QueryResult<R extends object = Row> {
  rows: R[];
  /** Rows affected or returned; `null` for commands that report no count. */
  rowCount: number | null;
  /** The command tag's verb: `SELECT`, `INSERT`, `UPDATE`, `CREATE`, … */
  command: string;
  /** Result columns with their type OIDs. */
  fields: { name: string; dataTypeID: number }[];
}

/** Options of `connect()` and `cursor()`. */
export interface ConnectOptions {
  /**
   * `false` (default): a transaction starts at the first statement and lasts until `commit()`/`rollback()`;
   * the callback form commits on success. `true`: every statement commits at once.
   */
  autocommit?: boolean | undefined;
}

/** Statement methods shared by the database, connections and transactions. */
export interface QueryApi<M extends Mode> {
  /** Runs a statement and returns its rows (`[]` for statements that return none). `$1` params take an array, `:name` params an object. */
  execute<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Out<M, R[]>;
  /** Like {@link execute} but returns the whole result: rows, rowCount, command and fields. */
  query<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Out<M, QueryResult<R>>;
  /**
   * Runs one statement per parameter set, pipelined, all-or-nothing; returns the total rows affected. The sets
   * may come from any iterable or async iterable (a generator of millions): they are read and sent in chunks of
   * `chunkSize`, inside one transaction, so memory stays bounded; `onProgress` is called after each chunk.
   */
  executeMany(sql: string, paramsSeq: Iterable<QueryParams> | AsyncIterable<QueryParams>, options?: ExecuteManyOptions<M>): Out<M, number>;
  /** The first row, or `null` when there is none. */
  fetchOne<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Out<M, R | null>;
  /** The first column of the first row, or `null` when there is no row. */
  fetchVal<T = unknown>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Out<M, T | null>;
  /** All rows (the same as {@link execute}; named after pycopg 0.10's `fetch_all`). */
  fetchAll<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Out<M, R[]>;
}

/**
 * The resource types a mode hands out. The async ones are the core's classes; the synchronous facade passes its
 * own (so the core does not depend on the facade).
 */
export interface ResourceKinds {
  transaction: object;
  connection: object;
  cursor: object;
}

/** The async resource types. */
export interface AsyncResources {
  transaction: AsyncTransaction;
  connection: AsyncConnection;
  cursor: AsyncCursor;
}

/** Beginning transactions and savepoints. */
export interface TransactionStarter<M extends Mode, K extends ResourceKinds = AsyncResources> {
  /**
   * Begins a transaction (or a savepoint, when one is already open) and returns it: call `commit()`, or it rolls
   * back when disposed — `await using tx = await db.transaction()` on AsyncDatabase, `using tx = db.transaction()`
   * on the synchronous Database. `options` may set how it begins (`isolation`, `readOnly`, `deferrable`; refused
   * on a savepoint); `retry` needs the callback form.
   */
  transaction(options?: TransactionOptions): Out<M, K["transaction"]>;
  /**
   * Runs `fn` inside a transaction (a savepoint when nested): commits when it returns, rolls back when it throws,
   * and gives back what it returned. While it runs, the database's own query methods join the transaction. On
   * AsyncDatabase `fn` may be `async` (its Promise is awaited); on the synchronous Database it must be a plain
   * function (an `async` one is a type error). With `options.retry`, `fn` runs again in a new transaction when the
   * transaction fails with a serialization failure or a deadlock (see {@link TransactionOptions.retry}).
   */
  transaction<T>(fn: (tx: K["transaction"]) => CallbackResult<M, T>, options?: TransactionOptions): Out<M, T>;
  /** {@link transaction}`(fn, options)`, in the order of `connect(options, fn)`. */
  transaction<T>(options: TransactionOptions, fn: (tx: K["transaction"]) => CallbackResult<M, T>): Out<M, T>;
}

/** A transaction or savepoint. */
export interface TransactionApi<M extends Mode, K extends ResourceKinds = AsyncResources> extends QueryApi<M>, TransactionStarter<M, K> {
  /** Commits (or releases the savepoint). */
  commit(): Out<M, void>;
  /** Rolls back (to the savepoint). */
  rollback(): Out<M, void>;
  /** 0 for a top-level transaction, 1+ for savepoints. */
  readonly depth: number;
  /** True once committed or rolled back. */
  readonly finished: boolean;
}

/** Cursor methods (DB-API style) over a dedicated connection. */
export interface CursorApi<M extends Mode> {
  /** Runs a statement; its rows become available to the fetch methods. */
  execute(sql: string, params?: QueryParams | null): Out<M, void>;
  /** Runs a statement once per parameter set (pipelined). */
  executeMany(sql: string, paramsSeq: Iterable<QueryParams> | AsyncIterable<QueryParams>, options?: ExecuteManyOptions<M>): Out<M, void>;
  fetchOne<R extends object = Row>(): Out<M, R | null>;
  fetchMany<R extends object = Row>(size?: number): Out<M, R[]>;
  fetchAll<R extends object = Row>(): Out<M, R[]>;
  /** Rows affected or returned by the last statement: -1 before any, and while rows remain unread on the server (a server-side cursor knows the count once it has read them all). */
  readonly rowCount: number;
  /** Column names of the last result, or `null` when it returned no rows. */
  readonly description: { name: string; dataTypeID: number }[] | null;
  commit(): Out<M, void>;
  rollback(): Out<M, void>;
  close(): Out<M, void>;
}

/** A dedicated connection. */
export interface ConnectionApi<M extends Mode, K extends ResourceKinds = AsyncResources> extends QueryApi<M>, TransactionStarter<M, K> {
  readonly autocommit: boolean;
  /** A cursor on this connection. */
  cursor(): Out<M, K["cursor"]>;
  commit(): Out<M, void>;
  rollback(): Out<M, void>;
  /** Rolls back anything uncommitted and gives the connection back. */
  close(): Out<M, void>;
}

/** The database handle. */
export interface DatabaseApi<M extends Mode, K extends ResourceKinds = AsyncResources> extends QueryApi<M>, TransactionStarter<M, K> {
  /**
   * A dedicated connection. Without a callback it is returned: close it, or dispose of it (`await using conn =
   * await db.connect()`; sync: `using conn = db.connect()`). With `autocommit: false` (the default) a transaction
   * lasts from the first statement to `commit()`. With a callback, it commits when the callback returns, rolls back
   * when it throws, and is closed either way (sync: the callback must not be `async`).
   */
  connect(options?: ConnectOptions): Out<M, K["connection"]>;
  connect<T>(fn: (conn: K["connection"]) => CallbackResult<M, T>): Out<M, T>;
  connect<T>(options: ConnectOptions, fn: (conn: K["connection"]) => CallbackResult<M, T>): Out<M, T>;
  /** A cursor on its own dedicated connection; same forms as {@link connect}. */
  cursor(options?: ConnectOptions): Out<M, K["cursor"]>;
  cursor<T>(fn: (cur: K["cursor"]) => CallbackResult<M, T>): Out<M, T>;
  cursor<T>(options: ConnectOptions, fn: (cur: K["cursor"]) => CallbackResult<M, T>): Out<M, T>;
  /** Closes every connection of this handle. */
  close(): Out<M, void>;
}
