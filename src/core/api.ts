/**
 * The public method signatures of the core, written once and parametrised by mode: `"async"` returns
 * Promises (AsyncDatabase and its resources), `"sync"` returns values (the generated synchronous facade).
 * @module
 */
import type { QueryParams } from "../sql/placeholders.js";
import type { AsyncConnection } from "./async-connection.js";
import type { AsyncCursor } from "./async-cursor.js";
import type { AsyncTransaction } from "./async-transaction.js";

/** `"async"` for AsyncDatabase and friends, `"sync"` for the blocking facade. */
export type Mode = "async" | "sync";

interface Wrapped<T> {
  async: Promise<T>;
  sync: T;
}
/** `Promise<T>` in async mode, `T` in sync mode. */
export type Out<M extends Mode, T> = Wrapped<T>[M];

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
  /** Runs one statement per parameter set, pipelined, all-or-nothing; returns the total rows affected. */
  executeMany(sql: string, paramsSeq: Iterable<QueryParams>): Out<M, number>;
  /** The first row, or `null` when there is none. */
  fetchOne<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Out<M, R | null>;
  /** The first column of the first row, or `null` when there is no row. */
  fetchVal<T = unknown>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Out<M, T | null>;
  /** All rows (the same as {@link execute}; named after pycopg 0.10's `fetch_all`). */
  fetchAll<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Out<M, R[]>;
}

/** Beginning transactions and savepoints: {@link AsyncTransactionStarter} or the sync facade's `SyncTransactionStarter`. */
export type TransactionStarter<M extends Mode> = {
  async: AsyncTransactionStarter;
  sync: import("../sync/types.js").SyncTransactionStarter;
}[M];

/** Beginning transactions and savepoints on AsyncDatabase, its connections and its transactions. */
export interface AsyncTransactionStarter {
  /**
   * Begins a transaction (or a savepoint, when one is already open) and returns it: call `commit()`, or it rolls
   * back when disposed.
   *
   * ```ts
   * await using tx = await db.transaction();
   * await tx.execute("UPDATE users SET karma = karma + 1");
   * await tx.commit();
   * ```
   */
  transaction(): Promise<AsyncTransaction>;
  /**
   * Runs `fn` inside a transaction (a savepoint when nested): commits when it returns (or its Promise resolves),
   * rolls back when it throws (or rejects), and resolves with what it returned. While it runs, the database's own
   * query methods join the transaction.
   *
   * ```ts
   * const id = await db.transaction(async (tx) => (await tx.fetchOne<{ id: number }>("INSERT … RETURNING id"))!.id);
   * ```
   */
  transaction<T>(fn: (tx: AsyncTransaction) => T | PromiseLike<T>): Promise<T>;
}

/** Statements and finishing of a transaction or savepoint (see {@link TransactionApi}). */
export interface TransactionMethods<M extends Mode> extends QueryApi<M> {
  /** Commits (or releases the savepoint). */
  commit(): Out<M, void>;
  /** Rolls back (to the savepoint). */
  rollback(): Out<M, void>;
  /** 0 for a top-level transaction, 1+ for savepoints. */
  readonly depth: number;
  /** True once committed or rolled back. */
  readonly finished: boolean;
}

/** A transaction or savepoint. */
export type TransactionApi<M extends Mode> = TransactionMethods<M> & TransactionStarter<M>;

/** Cursor methods (DB-API style) over a dedicated connection. */
export interface CursorApi<M extends Mode> {
  /** Runs a statement; its rows become available to the fetch methods. */
  execute(sql: string, params?: QueryParams | null): Out<M, void>;
  /** Runs a statement once per parameter set (pipelined). */
  executeMany(sql: string, paramsSeq: Iterable<QueryParams>): Out<M, void>;
  fetchOne<R extends object = Row>(): Out<M, R | null>;
  fetchMany<R extends object = Row>(size?: number): Out<M, R[]>;
  fetchAll<R extends object = Row>(): Out<M, R[]>;
  /** Rows affected or returned by the last statement (-1 before any). */
  readonly rowCount: number;
  /** Column names of the last result, or `null` when it returned no rows. */
  readonly description: { name: string; dataTypeID: number }[] | null;
  commit(): Out<M, void>;
  rollback(): Out<M, void>;
  close(): Out<M, void>;
}

/** Methods of a dedicated connection besides its transactions (see {@link ConnectionApi}). */
export interface ConnectionMethods<M extends Mode> extends QueryApi<M> {
  readonly autocommit: boolean;
  /** A cursor on this connection. */
  cursor(): Out<M, M extends "async" ? AsyncCursor : import("../sync/types.js").Cursor>;
  commit(): Out<M, void>;
  rollback(): Out<M, void>;
  /** Rolls back anything uncommitted and gives the connection back. */
  close(): Out<M, void>;
}

/** A dedicated connection. */
export type ConnectionApi<M extends Mode> = ConnectionMethods<M> & TransactionStarter<M>;

/** Dedicated connections and cursors of AsyncDatabase (the sync facade's are `SyncDatabaseScopes`). */
export interface AsyncDatabaseScopes extends AsyncTransactionStarter {
  /**
   * A dedicated connection: close it, or dispose of it (`await using conn = await db.connect()`).
   * With `autocommit: false` (the default) a transaction lasts from the first statement to `commit()`.
   */
  connect(options?: ConnectOptions): Promise<AsyncConnection>;
  /**
   * Runs `fn` on a dedicated connection: commits when it returns (or its Promise resolves), rolls back when it
   * throws (or rejects), closes the connection either way, and resolves with what it returned.
   */
  connect<T>(fn: (conn: AsyncConnection) => T | PromiseLike<T>): Promise<T>;
  /** {@link connect} with options and a callback. */
  connect<T>(options: ConnectOptions, fn: (conn: AsyncConnection) => T | PromiseLike<T>): Promise<T>;
  /** A cursor on its own dedicated connection: close it, or dispose of it (`await using cur = await db.cursor()`). */
  cursor(options?: ConnectOptions): Promise<AsyncCursor>;
  /** Runs `fn` with a cursor on its own connection; finished like the callback form of {@link connect}. */
  cursor<T>(fn: (cur: AsyncCursor) => T | PromiseLike<T>): Promise<T>;
  /** {@link cursor} with options and a callback. */
  cursor<T>(options: ConnectOptions, fn: (cur: AsyncCursor) => T | PromiseLike<T>): Promise<T>;
}

/** Database-handle methods besides transactions, connections and cursors (see {@link DatabaseApi}). */
export interface DatabaseMethods<M extends Mode> extends QueryApi<M> {
  /** Closes every connection of this handle. */
  close(): Out<M, void>;
}

/** The database handle. */
export type DatabaseApi<M extends Mode> = DatabaseMethods<M> &
  { async: AsyncDatabaseScopes; sync: import("../sync/types.js").SyncDatabaseScopes }[M];
