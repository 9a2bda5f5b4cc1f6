/**
 * Types of the synchronous facade, derived from the async API (see `core/api.ts`). Only the scoped forms
 * (`transaction`, `connect`, `cursor`) are written out here, because their callbacks and documentation differ:
 * a sync callback must not be async, and resources are disposed of with `using`, not `await using`.
 * @module
 */
import type { ConnectOptions, ConnectionApi, CursorApi, DatabaseApi, Row, TransactionApi } from "../core/api.js";
import type { AsyncConnection } from "../core/async-connection.js";
import type { AsyncCursor } from "../core/async-cursor.js";
import type { AsyncDatabase } from "../core/async-database.js";
import type { AsyncTransaction } from "../core/async-transaction.js";

/** The sync counterpart of a value an async method resolves with. */
export type Syncify<T> = T extends AsyncDatabase
  ? Database
  : T extends AsyncTransaction
    ? Transaction
    : T extends AsyncConnection
      ? Connection
      : T extends AsyncCursor
        ? Cursor
        : T extends AsyncIterableIterator<infer U>
          ? IterableIterator<U> & Disposable
          : T;

/**
 * Marks a callback that returns a Promise (an `async` callback) as a type error on the synchronous facade: it
 * would run outside the blocking call, after the transaction or connection was already finished.
 */
export interface AsyncCallbackNotAllowed {
  "a callback given to the synchronous Database must not be async or return a Promise; use AsyncDatabase": never;
}

/** What a callback of the synchronous facade may return: anything but a Promise (see {@link AsyncCallbackNotAllowed}). */
export type SyncCallbackResult<T> = T extends PromiseLike<unknown> ? AsyncCallbackNotAllowed : T;

/** Beginning transactions and savepoints on the synchronous Database, its connections and its transactions. */
export interface SyncTransactionStarter {
  /**
   * Begins a transaction (or a savepoint, when one is already open) and returns it: call `commit()`, or it rolls
   * back when disposed.
   *
   * ```ts
   * using tx = db.transaction();
   * tx.execute("UPDATE users SET karma = karma + 1");
   * tx.commit();
   * ```
   */
  transaction(): Transaction;
  /**
   * Runs `fn` inside a transaction (a savepoint when nested): commits when it returns, rolls back when it throws,
   * and returns what it returned. While it runs, the database's own query methods join the transaction. `fn` must
   * be a plain function: an `async` one (or one returning a Promise) is a type error — use AsyncDatabase for that.
   *
   * ```ts
   * db.transaction((tx) => {
   *   tx.execute("INSERT INTO users (name) VALUES ($1)", ["ann"]);
   * });
   * ```
   */
  transaction<T>(fn: (tx: Transaction) => SyncCallbackResult<T>): T;
}

/** Transactions, dedicated connections and cursors of the synchronous Database. */
export interface SyncDatabaseScopes extends SyncTransactionStarter {
  /**
   * A dedicated connection: close it, or dispose of it (`using conn = db.connect()`). With `autocommit: false`
   * (the default) a transaction lasts from the first statement to `commit()`.
   */
  connect(options?: ConnectOptions): Connection;
  /**
   * Runs `fn` on a dedicated connection: commits when it returns, rolls back when it throws, closes the
   * connection either way, and returns what it returned. `fn` must be a plain (not `async`) function.
   */
  connect<T>(fn: (conn: Connection) => SyncCallbackResult<T>): T;
  /** {@link connect} with options and a callback. */
  connect<T>(options: ConnectOptions, fn: (conn: Connection) => SyncCallbackResult<T>): T;
  /** A cursor on its own dedicated connection: close it, or dispose of it (`using cur = db.cursor()`). */
  cursor(options?: ConnectOptions): Cursor;
  /** Runs `fn` with a cursor on its own connection; finished like the callback form of {@link connect}. */
  cursor<T>(fn: (cur: Cursor) => SyncCallbackResult<T>): T;
  /** {@link cursor} with options and a callback. */
  cursor<T>(options: ConnectOptions, fn: (cur: Cursor) => SyncCallbackResult<T>): T;
}

/** Every member of `T`, with Promise-returning methods turned into blocking ones. */
export type SyncMembers<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => Syncify<R>
    : T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Syncify<R>
      : Syncify<T[K]>;
};

type Extra<TAsync, TApi> = SyncMembers<Omit<TAsync, keyof TApi | typeof Symbol.asyncDispose | typeof Symbol.asyncIterator | "_finish">>;

/** A transaction or savepoint of the synchronous facade; `using` rolls back what was not committed. */
export interface Transaction extends TransactionApi<"sync">, Disposable, Extra<AsyncTransaction, TransactionApi<"async">> {}

/** A dedicated connection of the synchronous facade; `using` rolls back what was not committed and closes it. */
export interface Connection extends ConnectionApi<"sync">, Disposable, Extra<AsyncConnection, ConnectionApi<"async">> {}

/** A cursor of the synchronous facade. */
export interface Cursor extends CursorApi<"sync">, Disposable, Iterable<Row>, Extra<AsyncCursor, CursorApi<"async">> {}

/** The synchronous database handle: every method of AsyncDatabase, blocking. */
export interface Database extends DatabaseApi<"sync">, Disposable, Extra<AsyncDatabase, DatabaseApi<"async">> {}

/** The synchronous counterpart of a class's static side (factories return sync objects). */
export type SyncStatics<C> = {
  [K in keyof C as K extends "prototype" ? never : K]: C[K] extends (...args: infer A) => infer R
    ? (...args: A) => Syncify<Awaited<R>>
    : never;
};

/** `new Database(...)` and the static factories (`Database.fromUrl`, `Database.create`, …). */
export type DatabaseConstructor = SyncStatics<typeof AsyncDatabase> & {
  new (...args: ConstructorParameters<typeof AsyncDatabase>): Database;
  readonly prototype: Database;
};
