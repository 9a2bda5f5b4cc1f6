/**
 * The synchronous facade's classes, generated from the class table (`kinds.ts`).
 * @module
 */
import { makeSyncClass } from "./generate.js";
import type {
  Connection as ConnectionT,
  Cursor as CursorT,
  DatabaseConstructor,
  PooledDatabaseConstructor,
  Transaction as TransactionT,
} from "./types.js";

/**
 * The synchronous database handle, for scripts, REPLs and CLIs. Same methods as {@link AsyncDatabase}, blocking:
 * each call runs in a worker thread that owns the real connections, while this thread waits in
 * `Atomics.wait`. Errors arrive as the same classes with the same fields. A server that stops answering fails the
 * blocked call with `ConnectionError` after the Config's `queryTimeout`, 5 minutes when it sets none (`0` = wait
 * forever), so a frozen server cannot block the thread for good.
 *
 * ```ts
 * using db = Database.fromUrl("postgresql://postgres@localhost/app");
 * const n = db.fetchVal<bigint>("SELECT count(*) FROM users");
 * db.transaction((tx) => { tx.execute("INSERT INTO users(name) VALUES ($1)", ["ann"]); });
 * ```
 */
export const Database = makeSyncClass("AsyncDatabase") as unknown as DatabaseConstructor;
export type Database = InstanceType<DatabaseConstructor>;

/**
 * The synchronous connection pool: same methods as {@link AsyncPooledDatabase}, blocking (see {@link Database}).
 *
 * ```ts
 * using pool = PooledDatabase.fromUrl("postgresql://postgres@localhost/app", { minSize: 2, maxSize: 10 });
 * const n = pool.fetchVal<bigint>("SELECT count(*) FROM users");
 * ```
 */
export const PooledDatabase = makeSyncClass("AsyncPooledDatabase") as unknown as PooledDatabaseConstructor;
export type PooledDatabase = InstanceType<PooledDatabaseConstructor>;

/** Sync twin of AsyncConnection (obtained from `db.connect()`). */
export const Connection = makeSyncClass("AsyncConnection") as unknown as { readonly prototype: ConnectionT };
export type Connection = ConnectionT;

/** Sync twin of AsyncTransaction (obtained from `db.transaction()`). */
export const Transaction = makeSyncClass("AsyncTransaction") as unknown as { readonly prototype: TransactionT };
export type Transaction = TransactionT;

/** Sync twin of AsyncCursor (obtained from `db.cursor()`). */
export const Cursor = makeSyncClass("AsyncCursor") as unknown as { readonly prototype: CursorT };
export type Cursor = CursorT;
