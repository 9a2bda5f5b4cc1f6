/**
 * Types of the synchronous facade, derived from the async API (see `core/api.ts`): nothing here restates a
 * method by hand (the scoped forms' sync callbacks are typed there, by mode).
 * @module
 */
import type { ConnectionApi, CursorApi, DatabaseApi, Row, TransactionApi } from "../core/api.js";
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
