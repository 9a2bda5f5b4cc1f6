/**
 * Compile-time tests of the bulk helpers' types (checked by `npx tsc -p tsconfig.check.json`, never run): the row
 * type parameter stays generic through the registry, async and sync, on transactions too; `returning` switches the
 * answer from a count to rows; misuse is a type error.
 */
import type { AsyncDatabase, AsyncTransaction, Database } from "../src/index.js";

interface User {
  id: number;
  name: string;
  email: string | null;
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function same<A, B>(_proof: Equal<A, B>): void {}

export async function asyncSide(db: AsyncDatabase, tx: AsyncTransaction): Promise<void> {
  const n = await db.insertMany<User>("users", [{ id: 1, name: "a" }, { id: 2, name: "b", email: null }], { schema: "app", missing: "default" });
  same<typeof n, number>(true);
  const back = await db.insertMany<User>("users", [{ id: 1, name: "a" }], { returning: ["id", "name"], onConflict: { columns: "id", action: "update", updateColumns: ["name"] } });
  same<typeof back, User[]>(true);
  const all = await tx.insertMany<User>("users", [{ id: 1 }], { returning: true });
  same<typeof all, User[]>(true);
  const up = await db.upsertMany<User>("users", [{ id: 1, name: "a" }], ["id"], { updateColumns: ["name"] });
  same<typeof up, number>(true);
  async function* gen() {
    yield { id: 1, name: "x" };
  }
  const b = await db.insertBatch<User>("users", gen(), { batchSize: 500, onProgress: (rows) => void rows, onConflict: { action: "nothing" } });
  same<typeof b, number>(true);
  const untyped = await db.insertMany("t", [{ anything: 1 }], { returning: true });
  same<typeof untyped, Record<string, unknown>[]>(true);

  // @ts-expect-error: not a column of User
  await db.insertMany<User>("users", [{ id: 1, nope: 2 }]);
  // @ts-expect-error: a value of the wrong type
  await db.insertMany<User>("users", [{ id: "1" }]);
  // @ts-expect-error: updateColumns names a column User lacks
  await db.upsertMany<User>("users", [{ id: 1 }], "id", { updateColumns: ["nope"] });
  // @ts-expect-error: insertBatch has no returning
  await db.insertBatch<User>("users", [{ id: 1 }], { returning: true });
}

export function syncSide(db: Database): void {
  const n = db.insertMany<User>("users", [{ id: 1, name: "a" }]);
  same<typeof n, number>(true);
  const back = db.insertMany<User>("users", [{ id: 1, name: "a" }], { returning: true });
  same<typeof back, User[]>(true);
  same<ReturnType<typeof db.upsertMany>, number>(true);
  function* gen() {
    yield { id: 1, name: "x" };
  }
  const b = db.insertBatch<User>("users", gen());
  same<typeof b, number>(true);
}
