/**
 * Compile-time tests of the CRUD helpers' types (checked by `npx tsc -p tsconfig.check.json`, never run): the row
 * type parameter stays generic through the registry, on AsyncDatabase (Promises) and the synchronous Database
 * (values), on transactions too; interfaces are accepted as row types; misuse is a type error.
 */
import type { AsyncDatabase, AsyncTransaction, Database } from "../src/index.js";

interface User {
  id: number;
  name: string;
  email: string | null;
}

/** Exact type equality. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T>(_value: T): void {}
function same<A, B>(_proof: Equal<A, B>): void {}

export async function asyncDatabase(db: AsyncDatabase, tx: AsyncTransaction): Promise<void> {
  // Rows typed by the caller.
  const page = await db.paginate<User>("users", { limit: 10, orderBy: ["name", "id"], descending: true, where: { email: null } });
  same<typeof page, User[]>(true);
  const up = await db.upsert<User>("users", { id: 1, name: "a" }, ["id"], { updateColumns: ["name"], schema: "app" });
  same<typeof up, User | null>(true);
  same<Awaited<ReturnType<typeof db.count>>, number>(true);
  expectType<number>(await db.updateWhere<User>("users", { name: "b" }, { id: [1, 2] }));
  expectType<number>(await db.deleteWhere<User>("users", { email: "x@y" }));
  expectType<boolean>(await db.exists<User>("users", { id: 1 }));
  expectType<number>(await db.count<User>("users"));
  expectType<number>(await db.count<User>("users", { name: "a" }, { schema: "app" }));
  // The same methods on a transaction; the promise is a Promise.
  const p: Promise<User[]> = tx.paginate<User>("users", { limit: 1 });
  void p;

  // Without a type parameter: rows are plain records, any column name goes.
  const rows = await db.paginate("users", { limit: 5, where: { anything: 1 } });
  same<typeof rows, Record<string, unknown>[]>(true);
  const row = await db.upsert("users", { id: 1, whatever: "x" }, "id");
  same<typeof row, Record<string, unknown> | null>(true);
  expectType<number>(await db.count("users", { any_column: [1, 2] }));

  // Misuse.
  // @ts-expect-error: not a column of User
  await db.paginate<User>("users", { limit: 1, orderBy: "nope" });
  // @ts-expect-error: limit is required
  await db.paginate<User>("users", { orderBy: "id" });
  // @ts-expect-error: a where value of the wrong type
  await db.exists<User>("users", { id: "1" });
  // @ts-expect-error: not a column of User
  await db.deleteWhere<User>("users", { nope: 1 });
  // @ts-expect-error: a conflict column that is not a column of User
  await db.upsert<User>("users", { id: 1 }, ["nope"]);
  // @ts-expect-error: an update column that is not a column of User
  await db.upsert<User>("users", { id: 1 }, "id", { updateColumns: ["nope"] });
  // @ts-expect-error: a row value of the wrong type
  await db.upsert<User>("users", { id: "1" }, "id");
  // @ts-expect-error: values of the wrong type
  await db.updateWhere<User>("users", { name: 5 }, { id: 1 });
  // @ts-expect-error: an unknown option
  await db.count("users", null, { shema: "x" });
  // @ts-expect-error: the where-object is required
  await db.exists("users");
  // @ts-expect-error: a row type must be an object type
  await db.paginate<string>("users", { limit: 1 });
}

export function syncDatabase(db: Database): void {
  const page = db.paginate<User>("users", { limit: 10, offset: 20, orderBy: "id" });
  same<typeof page, User[]>(true);
  const up = db.upsert<User>("users", { id: 1, name: "a", email: null }, "id");
  same<typeof up, User | null>(true);
  expectType<number>(db.updateWhere<User>("users", { email: null }, { name: ["a", "b"] }));
  expectType<number>(db.deleteWhere("users", { id: 1 }));
  expectType<boolean>(db.exists<User>("users", { id: 1 }));
  expectType<number>(db.count("users"));
  db.transaction((tx) => {
    const rows = tx.paginate<User>("users", { limit: 1 });
    same<typeof rows, User[]>(true);
  });
  // @ts-expect-error: the sync facade returns values, not Promises
  const wrong: Promise<User[]> = db.paginate<User>("users", { limit: 1 });
  void wrong;
  // @ts-expect-error: not a column of User
  db.paginate<User>("users", { limit: 1, where: { nope: 1 } });
  // @ts-expect-error: a conflict column that is not a column of User
  db.upsert<User>("users", { id: 1 }, "nope");
}
