/**
 * Types of the synchronous facade, derived from the async API (see `core/api.ts`) and the feature registry:
 * nothing here restates a method by hand.
 * @module
 */
import type { ConnectionApi, CursorApi, DatabaseApi, Row, TransactionApi } from "../core/api.js";
import type { AsyncConnection } from "../core/async-connection.js";
import type { AsyncCursor } from "../core/async-cursor.js";
import type { AsyncDatabase } from "../core/async-database.js";
import type { AsyncTransaction } from "../core/async-transaction.js";
import type { AsyncPooledDatabase } from "../pool/async-pooled-database.js";
import type { FeatureApi } from "../features/registry.js";

/**
 * The class table at the type level: async class → its sync twin. A module adding a kind (a pool) adds its pair
 * by augmenting this interface.
 */
export interface SyncTwins {
  AsyncDatabase: [AsyncDatabase, Database];
  AsyncPooledDatabase: [AsyncPooledDatabase, PooledDatabase];
  AsyncConnection: [AsyncConnection, Connection];
  AsyncTransaction: [AsyncTransaction, Transaction];
  AsyncCursor: [AsyncCursor, Cursor];
}

/** The sync twin of exactly class `T` (not of a class it extends), or never. */
type TwinOf<T> = {
  [K in keyof SyncTwins]: [T] extends [SyncTwins[K][0]] ? ([SyncTwins[K][0]] extends [T] ? SyncTwins[K][1] : never) : never;
}[keyof SyncTwins];

/** The sync counterpart of a value an async method resolves with. */
export type Syncify<T> = [TwinOf<T>] extends [never]
  ? T extends AsyncIterableIterator<infer U>
    ? IterableIterator<U> & Disposable
    : T
  : TwinOf<T>;

/** Every member of `T`, with Promise-returning methods turned into blocking ones. */
export type SyncMembers<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => Syncify<R>
    : T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Syncify<R>
      : Syncify<T[K]>;
};

/** Members of an async class not described by its API interface nor by the features (e.g. `connectionCount`). */
export type Extra<TAsync, TApi> = SyncMembers<
  Omit<TAsync, keyof TApi | keyof FeatureApi<"async"> | typeof Symbol.asyncDispose | typeof Symbol.asyncIterator | "_finish">
>;

/** The resource types the synchronous facade hands out. */
export interface SyncResources {
  transaction: Transaction;
  connection: Connection;
  cursor: Cursor;
}

/** A transaction or savepoint of the synchronous facade; `using` rolls back what was not committed. */
export interface Transaction
  extends TransactionApi<"sync", SyncResources>,
    FeatureApi<"sync">,
    Disposable,
    Extra<AsyncTransaction, TransactionApi<"async">> {}

/** A dedicated connection of the synchronous facade; `using` rolls back what was not committed and closes it. */
export interface Connection
  extends ConnectionApi<"sync", SyncResources>,
    FeatureApi<"sync">,
    Disposable,
    Extra<AsyncConnection, ConnectionApi<"async">> {}

/** A cursor of the synchronous facade. */
export interface Cursor extends CursorApi<"sync">, Disposable, Iterable<Row>, Extra<AsyncCursor, CursorApi<"async">> {}

/** The synchronous database handle: every method of AsyncDatabase, blocking. */
export interface Database extends DatabaseApi<"sync", SyncResources>, FeatureApi<"sync">, Disposable, Extra<AsyncDatabase, DatabaseApi<"async">> {}

/** The synchronous counterpart of a class's static side (factories return sync objects). */
export type SyncStatics<C> = {
  [K in keyof C as K extends "prototype" ? never : K]: C[K] extends (...args: infer A) => infer R
    ? (...args: A) => Syncify<Awaited<R>>
    : never;
};

/** `new Sync(...)` and the static factories of the sync twin `S` of async class `C`. */
export type SyncConstructor<C extends abstract new (...args: never[]) => object, S> = SyncStatics<C> & {
  new (...args: ConstructorParameters<C>): S;
  readonly prototype: S;
};

/**
 * The factories of a database class `C` with sync twin `S`: their `this`-typed generics (`fromUrl` on a subclass
 * returns the subclass, with its own options) are lost in a mapped type, so they are spelled out here.
 */
type DatabaseFactories<C extends typeof AsyncDatabase, S> = {
  fromUrl(url: string, options?: ConstructorParameters<C>[1]): S;
  fromEnv(dotenvPath?: string | null, options?: { loadDotenvFile?: boolean | undefined } & ConstructorParameters<C>[1]): S;
  create(...args: Parameters<(typeof AsyncDatabase)["create"]>): S;
  createFromEnv(...args: Parameters<(typeof AsyncDatabase)["createFromEnv"]>): S;
};

/** The sync constructor and statics of database class `C` with sync twin `S`. */
type DatabaseClass<C extends typeof AsyncDatabase, S> = Omit<SyncStatics<C>, keyof DatabaseFactories<C, S>> &
  DatabaseFactories<C, S> & {
    new (...args: ConstructorParameters<C>): S;
    readonly prototype: S;
  };

/** `new Database(...)` and the static factories (`Database.fromUrl`, `Database.create`, …). */
export type DatabaseConstructor = DatabaseClass<typeof AsyncDatabase, Database>;

/** The synchronous connection pool: every method of AsyncPooledDatabase, blocking. */
export interface PooledDatabase
  extends DatabaseApi<"sync", SyncResources>,
    FeatureApi<"sync">,
    Disposable,
    Extra<AsyncPooledDatabase, DatabaseApi<"async">> {}

/** `new PooledDatabase(...)` and its static factories (`PooledDatabase.fromUrl` returns a `PooledDatabase`). */
export type PooledDatabaseConstructor = DatabaseClass<typeof AsyncPooledDatabase, PooledDatabase>;
