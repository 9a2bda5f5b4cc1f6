/**
 * Compile-time tests of the LISTEN/NOTIFY types (checked by `npx tsc -p tsconfig.check.json`, never run): `listen`
 * exists on the async executors only (an async-only feature), `notifies` is an async iterator there and a sync
 * iterator on the synchronous facade, `notify` a Promise or a value.
 */
import type { AsyncDatabase, AsyncTransaction, Connection, Database, Listener, Notification, Transaction } from "../src/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function same<A, B>(_proof: Equal<A, B>): void {}

export async function asyncSide(db: AsyncDatabase, tx: AsyncTransaction): Promise<void> {
  const listener = db.listen(["a", "b"], { signal: AbortSignal.timeout(10), onReconnect: (e) => void e.error.code, reconnectAttempts: Infinity });
  same<typeof listener, Listener>(true);
  for await (const n of listener) same<typeof n, Notification>(true);
  await tx.listen("a").ready;
  same<Awaited<ReturnType<typeof db.notifies>>, Listener>(true);
  same<ReturnType<typeof db.notify>, Promise<void>>(true);
  // @ts-expect-error: listen takes no stopAfter (that is notifies')
  db.listen("a", { stopAfter: 1 });
}

export function syncSide(db: Database, conn: Connection, tx: Transaction): void {
  // @ts-expect-error: listen is async only
  db.listen("a");
  // @ts-expect-error: listen is async only, on connections too
  conn.listen("a");
  // @ts-expect-error: and on transactions
  tx.listen("a");
  const it = db.notifies("a", { timeout: 100, stopAfter: 2 });
  same<typeof it, IterableIterator<Notification> & Disposable>(true);
  for (const n of it) same<typeof n, Notification>(true);
  same<ReturnType<typeof db.notify>, void>(true);
}
