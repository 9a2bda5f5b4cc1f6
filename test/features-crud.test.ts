/**
 * CRUD helpers (flat only): upsert, updateWhere, deleteWhere, exists, count, paginate. Statement builders without
 * a server; every helper against the real server with mixed-case and reserved-word names, its effect read back
 * without the library, async and sync alike, inside transactions; errors before anything is sent.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { AsyncDatabase, Database, InvalidIdentifier, ParameterError, TableNotFound } from "../src/index.js";
import {
  countStatement,
  deleteWhereStatement,
  existsStatement,
  paginateStatement,
  pointsAt,
  updateWhereStatement,
  upsertStatement,
} from "../src/features/crud.js";
import { target } from "../src/features/target.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";
import { errorOf, refusedBeforeSending, sameError } from "./support/both-sides.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
let S: string;
/** The options naming this file's schema. */
let inS: { schema: string };

interface Order {
  id: number;
  user: string | null;
  Qty: number | null;
  tags: string[] | null;
}

before(async () => {
  ctx = await createTestSchema("crud");
  S = ctx.schema;
  inS = { schema: S };
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
});

beforeEach(async () => {
  await rawQuery(`SET search_path = "${S}";
    DROP TABLE IF EXISTS "${S}"."Order", "${S}".pairs;
    CREATE TABLE "${S}"."Order" (id int PRIMARY KEY, "user" text, "Qty" int, tags text[]);
    INSERT INTO "${S}"."Order" VALUES (1, 'ann', 5, '{a,b}'), (2, 'bob', NULL, NULL), (3, 'cy', 7, '{c}'), (4, NULL, 1, NULL);
    CREATE TABLE "${S}".pairs (a int, b text, v int, UNIQUE (a, b))`);
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
});

/** The rows of the table, read without the library. */
async function rows(table = "Order"): Promise<Record<string, unknown>[]> {
  return rawQuery(`SELECT * FROM "${S}"."${table}" ORDER BY 1, 2`);
}

describe("statement builders", () => {
  const t = target("upsert", "Order", "s");
  test("upsert: insert with DO UPDATE of the non-conflict columns, values as parameters", () => {
    const b = upsertStatement(t, { id: 1, user: "x", Qty: null }, ["id"]);
    assert.equal(
      b.stmt.text,
      `INSERT INTO "s"."Order" ("id", "user", "Qty") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "user" = EXCLUDED."user", "Qty" = EXCLUDED."Qty" RETURNING *`,
    );
    assert.deepEqual(b.values, [1, "x", null]);
    assert.equal(b.fallback, undefined);
    const only = upsertStatement(t, { id: 1, user: "x", Qty: 2 }, "id", ["Qty"]);
    assert.match(only.stmt.text, /DO UPDATE SET "Qty" = EXCLUDED."Qty" RETURNING \*$/);
  });
  test("upsert without update columns: DO NOTHING, and the existing row in the same statement", () => {
    const b = upsertStatement(t, { a: 1, b: null, v: 3 }, ["a", "b"], []);
    assert.equal(
      b.stmt.text,
      `WITH ins AS (INSERT INTO "s"."Order" ("a", "b", "v") VALUES ($1, $2, $3) ON CONFLICT ("a", "b") DO NOTHING RETURNING *) ` +
        `SELECT * FROM ins UNION ALL (SELECT * FROM "s"."Order" WHERE "a" = $1 AND "b" IS NULL AND NOT EXISTS (SELECT FROM ins) LIMIT 1)`,
    );
    assert.deepEqual(b.values, [1, null, 3]);
    assert.equal(b.fallback!.stmt.text, `SELECT * FROM "s"."Order" WHERE "a" = $1 AND "b" IS NULL LIMIT 1`);
    assert.deepEqual(b.fallback!.values, [1]);
    assert.ok(upsertStatement(t, { id: 1 }, "id").fallback, "a row of conflict columns only");
  });
  test("update, delete, exists, count: where-objects (=, IS NULL, = ANY)", () => {
    const u = updateWhereStatement(t, { user: "x", Qty: null }, { id: [1, 2], user: null, Qty: 3 });
    assert.equal(u.stmt.text, `UPDATE "s"."Order" SET "user" = $1, "Qty" = $2 WHERE "id" = ANY($3) AND "user" IS NULL AND "Qty" = $4`);
    assert.deepEqual(u.values, ["x", null, [1, 2], 3]);
    assert.equal(deleteWhereStatement(t, { id: 1 }).stmt.text, `DELETE FROM "s"."Order" WHERE "id" = $1`);
    assert.equal(existsStatement(t, { user: "a" }).stmt.text, `SELECT EXISTS (SELECT FROM "s"."Order" WHERE "user" = $1)`);
    assert.equal(countStatement(t, undefined).stmt.text, `SELECT count(*) FROM "s"."Order"`);
    assert.equal(countStatement(t, {}).stmt.text, `SELECT count(*) FROM "s"."Order"`);
    assert.equal(countStatement(t, { Qty: [] }).stmt.text, `SELECT count(*) FROM "s"."Order" WHERE "Qty" = ANY($1)`);
  });
  test("paginate: limit and offset as parameters, order by one or more columns", () => {
    assert.deepEqual(paginateStatement(t, { limit: 10 }), {
      stmt: paginateStatement(t, { limit: 10 }).stmt,
      values: [10, 0],
    });
    assert.equal(paginateStatement(t, { limit: 10 }).stmt.text, `SELECT * FROM "s"."Order" LIMIT $1 OFFSET $2`);
    const p = paginateStatement(t, { limit: 5, offset: 10, orderBy: ["user", "id"], descending: true, where: { Qty: 1 } });
    assert.equal(p.stmt.text, `SELECT * FROM "s"."Order" WHERE "Qty" = $1 ORDER BY "user" DESC, "id" DESC LIMIT $2 OFFSET $3`);
    assert.deepEqual(p.values, [1, 5, 10]);
    assert.equal(paginateStatement(t, { limit: 0, orderBy: "id" }).stmt.text, `SELECT * FROM "s"."Order" ORDER BY "id" LIMIT $1 OFFSET $2`);
  });
  test("refusals: names, empty where, undefined values, bad counts", () => {
    assert.throws(() => updateWhereStatement(t, { "a;b": 1 }, { id: 1 }), InvalidIdentifier);
    assert.throws(() => deleteWhereStatement(t, { 'x" OR 1=1 --': 1 }), InvalidIdentifier);
    assert.throws(() => deleteWhereStatement(t, {}), /where must name at least one column/);
    assert.throws(() => deleteWhereStatement(t, null), ParameterError);
    assert.throws(() => existsStatement(t, { id: undefined }), /where.id is undefined/);
    assert.throws(() => updateWhereStatement(t, {}, { id: 1 }), /values must set at least one column/);
    assert.throws(() => upsertStatement(t, {}, "id"), /the row must have at least one column/);
    assert.throws(() => upsertStatement(t, { id: 1 }, "key"), /conflictColumns names "key", which is not a key of the row/);
    assert.throws(() => upsertStatement(t, { id: 1 }, []), /conflictColumns must name at least one column/);
    assert.throws(() => upsertStatement(t, { id: 1, a: 2 }, "id", ["b"]), /updateColumns names "b"/);
    assert.throws(() => upsertStatement(t, { id: 1, a: 2 }, "id", ["b;"]), InvalidIdentifier);
    assert.throws(() => paginateStatement(t, { limit: -1 }), /limit must be an integer ≥ 0/);
    assert.throws(() => paginateStatement(t, { limit: 1, offset: 0.5 }), /offset must be an integer ≥ 0/);
    assert.throws(() => paginateStatement(t, { limit: 1, descending: true }), /descending needs orderBy/);
    assert.throws(() => paginateStatement(t, { limit: 1, orderBy: [] }), /orderBy must name at least one column/);
    assert.throws(() => countStatement(t, new Map([["id", 1]])), /where must be a plain object/);
    assert.throws(() => countStatement(t, [["id", 1]]), /where must be a plain object/);
  });
  test("pointsAt: the server's character position, astral characters counted once", () => {
    const text = `SELECT 1 FROM "s"."t"`;
    assert.equal(pointsAt(text, 15, `"s"."t"`), true);
    assert.equal(pointsAt(text, 14, `"s"."t"`), false);
    assert.equal(pointsAt(text, undefined, `"s"."t"`), false);
    const astral = `SELECT '𝔘' FROM "𝔘"`;
    assert.equal(pointsAt(astral, 17, `"𝔘"`), true);
  });
});

describe("upsert", () => {
  test("inserts, then updates on conflict; returns the row as stored; async and sync agree", async () => {
    const r1 = await adb.upsert<Order>("Order", { id: 10, user: "dee", Qty: 1 }, ["id"], inS);
    assert.deepEqual(r1, { id: 10, user: "dee", Qty: 1, tags: null });
    const r2 = db.upsert<Order>("Order", { id: 10, user: "dan", Qty: 2, tags: ["x"] }, "id", inS);
    assert.deepEqual(r2, { id: 10, user: "dan", Qty: 2, tags: ["x"] });
    assert.deepEqual((await rows()).find((r) => r.id === 10), { id: 10, user: "dan", Qty: 2, tags: ["x"] });
    // schema.table and the flat name reached on a transaction, a connection
    assert.deepEqual(await adb.upsert(`${S}.Order`, { id: 10, Qty: 3 }, "id"), { id: 10, user: "dan", Qty: 3, tags: ["x"] });
  });

  test("updateColumns: only those change on conflict", async () => {
    const r = await adb.upsert<Order>("Order", { id: 1, user: "zed", Qty: 99 }, ["id"], { ...inS, updateColumns: ["Qty"] });
    assert.deepEqual(r, { id: 1, user: "ann", Qty: 99, tags: ["a", "b"] });
    assert.deepEqual(db.upsert<Order>("Order", { id: 1, user: "zed", Qty: 98 }, ["id"], { ...inS, updateColumns: ["user"] }), {
      id: 1, user: "zed", Qty: 99, tags: ["a", "b"],
    });
  });

  test("no update columns: inserts, or returns the existing row untouched (no new row version)", async () => {
    const xmin = async () => (await rawQuery<{ x: string }>(`SELECT xmin::text AS x FROM "${S}"."Order" WHERE id = 2`))[0]!.x;
    const x0 = await xmin();
    assert.deepEqual(await adb.upsert<Order>("Order", { id: 2, user: "other" }, ["id"], { ...inS, updateColumns: [] }), { id: 2, user: "bob", Qty: null, tags: null });
    assert.deepEqual(db.upsert<Order>("Order", { id: 2 }, "id", inS), { id: 2, user: "bob", Qty: null, tags: null });
    assert.equal(await xmin(), x0, "the existing row was not rewritten");
    assert.deepEqual(await adb.upsert<Order>("Order", { id: 20 }, "id", inS), { id: 20, user: null, Qty: null, tags: null });
    assert.equal((await rows()).length, 5);
    // Composite conflict columns; a NULL in one of them never conflicts (a plain unique constraint).
    assert.deepEqual(await adb.upsert("pairs", { a: 1, b: "x", v: 1 }, ["a", "b"], { ...inS, updateColumns: [] }), { a: 1, b: "x", v: 1 });
    assert.deepEqual(db.upsert("pairs", { a: 1, b: "x", v: 2 }, ["a", "b"], { ...inS, updateColumns: [] }), { a: 1, b: "x", v: 1 });
    assert.deepEqual(await adb.upsert("pairs", { a: 1, b: "x", v: 3 }, ["a", "b"], inS), { a: 1, b: "x", v: 3 });
    assert.deepEqual(await adb.upsert("pairs", { a: 1, b: null, v: 4 }, ["a", "b"], { ...inS, updateColumns: [] }), { a: 1, b: null, v: 4 });
    assert.equal((await rows("pairs")).length, 2);
  });

  test("a BEFORE trigger that suppresses the insert: null", async () => {
    await adb.execute(`CREATE FUNCTION "${S}".skip() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
      CREATE TRIGGER skip BEFORE INSERT ON "${S}".pairs FOR EACH ROW EXECUTE FUNCTION "${S}".skip()`);
    assert.equal(await adb.upsert("pairs", { a: 5, b: "q", v: 1 }, ["a", "b"], inS), null);
    assert.equal(db.upsert("pairs", { a: 5, b: "q", v: 1 }, ["a", "b"], { ...inS, updateColumns: [] }), null);
    assert.equal((await rows("pairs")).length, 0);
  });

  test("conflict columns without a unique index: the server's error", async () => {
    const e = await sameError(
      () => adb.upsert("Order", { id: 1, user: "x" }, "user", inS),
      () => db.upsert("Order", { id: 1, user: "x" }, "user", inS),
      Error,
      /no unique or exclusion constraint matching the ON CONFLICT specification/,
    );
    assert.equal((e as { code?: string }).code, "42P10");
  });
});

describe("updateWhere, deleteWhere, exists, count", () => {
  test("updateWhere: the count, and the rows changed as read back", async () => {
    assert.equal(await adb.updateWhere<Order>("Order", { Qty: 0 }, { id: [1, 2, 99] }, inS), 2);
    assert.equal(db.updateWhere<Order>("Order", { user: "nobody", tags: ["n"] }, { user: null }, inS), 1);
    assert.equal(await adb.updateWhere("Order", { Qty: 1 }, { id: 42 }, inS), 0);
    assert.deepEqual(await rows(), [
      { id: 1, user: "ann", Qty: 0, tags: ["a", "b"] },
      { id: 2, user: "bob", Qty: 0, tags: null },
      { id: 3, user: "cy", Qty: 7, tags: ["c"] },
      { id: 4, user: "nobody", Qty: 1, tags: ["n"] },
    ]);
  });

  test("deleteWhere: the count, and the rows gone", async () => {
    assert.equal(await adb.deleteWhere("Order", { Qty: null }, inS), 1);
    assert.equal(db.deleteWhere<Order>("Order", { id: [3, 4], user: "cy" }, inS), 1);
    assert.deepEqual((await rows()).map((r) => r.id), [1, 4]);
  });

  test("exists and count: with a where-object, null and arrays; count without one", async () => {
    assert.equal(await adb.exists("Order", { user: "bob" }, inS), true);
    assert.equal(db.exists<Order>("Order", { user: "bob", Qty: 1 }, inS), false);
    assert.equal(await adb.exists("Order", { user: null }, inS), true);
    assert.equal(await adb.count("Order", null, inS), 4);
    assert.equal(db.count("Order", undefined, inS), 4);
    assert.equal(await adb.count<Order>("Order", { Qty: [1, 5, 7] }, inS), 3);
    assert.equal(db.count("Order", { Qty: [] }, inS), 0);
    assert.equal(db.count("Order", { Qty: null, user: "bob" }, inS), 1);
    assert.equal(typeof (await adb.count(`${S}.Order`)), "number");
  });

  test("an empty or undefined-valued where-object is refused before anything is sent", async () => {
    await refusedBeforeSending(ctx.config, [
      [(q) => q.deleteWhere("Order", {}), ParameterError, /deleteWhere\(\): where must name at least one column/],
      [(q) => q.deleteWhere("Order", null as never), ParameterError, /where must name at least one column/],
      [(q) => q.updateWhere("Order", { Qty: 1 }, {}), ParameterError, /updateWhere\(\): where must name at least one column/],
      [(q) => q.updateWhere("Order", {}, { id: 1 }), ParameterError, /values must set at least one column/],
      [(q) => q.exists("Order", {}), ParameterError, /exists\(\): where must name at least one column/],
      [(q) => q.deleteWhere("Order", { id: undefined }), ParameterError, /where.id is undefined/],
      [(q) => q.updateWhere("Order", { Qty: undefined }, { id: 1 }), ParameterError, /values.Qty is undefined/],
      [(q) => q.upsert("Order", { id: 1, user: undefined }, "id"), ParameterError, /row.user is undefined/],
      [(q) => q.deleteWhere("Order", new Map() as never), ParameterError, /where must be a plain object/],
      [(q) => q.count("Order", { "id; --": 1 }), InvalidIdentifier, /invalid column name/],
      [(q) => q.count("Ord er"), InvalidIdentifier, /invalid table name/],
      [(q) => q.count("Order", null, { schema: "a b" }), InvalidIdentifier, /invalid schema name/],
      [(q) => q.count("Order", null, { shema: "x" } as never), ParameterError, /unknown option "shema"/],
      [(q) => q.upsert("Order", { id: 1 }, "id", { updateColumns: "id" } as never), ParameterError, /updateColumns must be an array/],
      [(q) => q.upsert("Order", { id: 1 }, ["id", "a'b"]), InvalidIdentifier, /invalid column name/],
      [(q) => q.paginate("Order", { limit: 1, orderBy: ["id", "x y"] }), InvalidIdentifier, /invalid column name/],
      [(q) => q.paginate("Order", {} as never), ParameterError, /limit must be an integer ≥ 0, got undefined/],
      [(q) => q.paginate("Order", undefined as never), ParameterError, /limit must be an integer ≥ 0/],
      [(q) => q.paginate("Order", { limit: 1, where: [] as never }), ParameterError, /where must be a plain object/],
    ], (q) => q.count("Order", null, inS));
    assert.equal((await rows()).length, 4);
  });
});

describe("paginate", () => {
  test("pages in order, descending, with a where-object; limit 0; async and sync agree", async () => {
    const page1 = await adb.paginate<Order>("Order", { ...inS, limit: 2, orderBy: "id" });
    assert.deepEqual(page1.map((r) => r.id), [1, 2]);
    assert.deepEqual(db.paginate<Order>("Order", { ...inS, limit: 2, offset: 2, orderBy: "id" }).map((r) => r.id), [3, 4]);
    assert.deepEqual(db.paginate<Order>("Order", { ...inS, limit: 2, offset: 4, orderBy: "id" }), []);
    assert.deepEqual((await adb.paginate<Order>("Order", { ...inS, limit: 10, orderBy: ["Qty", "id"], descending: true })).map((r) => r.id), [2, 3, 1, 4]);
    assert.deepEqual((await adb.paginate<Order>("Order", { ...inS, limit: 10, orderBy: "id", where: { Qty: [1, 7] } })).map((r) => r.id), [3, 4]);
    assert.deepEqual(await adb.paginate("Order", { ...inS, limit: 0 }), []);
    assert.deepEqual(db.paginate<Order>(`${S}.Order`, { limit: 1, orderBy: "user", where: { user: "cy" } }), [{ id: 3, user: "cy", Qty: 7, tags: ["c"] }]);
    assert.deepEqual(await adb.paginate("Order", { ...inS, limit: 100, orderBy: "id" }), await rows());
    assert.deepEqual(db.paginate("Order", { ...inS, limit: 100, orderBy: "id" }), await rows());
  });
});

describe("tables, transactions", () => {
  test("a missing table (or schema) is TableNotFound naming schema and table, async and sync", async () => {
    const calls: [string, (q: AsyncDatabase | Database) => unknown][] = [
      ["upsert", (q) => q.upsert("nope", { id: 1 }, "id", inS)],
      ["upsert (insert-or-get)", (q) => q.upsert("nope", { id: 1 }, "id", { ...inS, updateColumns: [] })],
      ["updateWhere", (q) => q.updateWhere("nope", { a: 1 }, { id: 1 }, inS)],
      ["deleteWhere", (q) => q.deleteWhere("nope", { id: 1 }, inS)],
      ["exists", (q) => q.exists("nope", { id: 1 }, inS)],
      ["count", (q) => q.count("nope", null, inS)],
      ["paginate", (q) => q.paginate("nope", { ...inS, limit: 1, orderBy: "id" })],
    ];
    for (const [label, call] of calls) {
      const e = (await sameError(async () => call(adb), () => call(db), TableNotFound, new RegExp(`table "${S}"."nope" does not exist`))) as TableNotFound;
      assert.deepEqual([e.schema, e.table, e.code], [S, "nope", "42P01"], label);
    }
    const e = (await errorOf(() => adb.count("no_such_schema.t"))) as TableNotFound;
    assert.ok(e instanceof TableNotFound);
    assert.deepEqual([e.schema, e.table], ["no_such_schema", "t"]);
    const es = (await errorOf(() => db.count("nope", null, inS))) as TableNotFound;
    assert.deepEqual([es.schema, es.table], [S, "nope"]);
  });

  test("another relation's undefined_table (a trigger's) is the server's error, not this table's", async () => {
    await adb.execute(`CREATE FUNCTION "${S}".audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO "${S}".audit_log VALUES (1); RETURN NEW; END $$;
      CREATE TRIGGER audit BEFORE UPDATE ON "${S}"."Order" FOR EACH ROW EXECUTE FUNCTION "${S}".audit()`);
    const e = (await errorOf(() => adb.updateWhere("Order", { Qty: 1 }, { id: 1 }, inS))) as TableNotFound;
    assert.ok(e instanceof TableNotFound);
    assert.match(e.message, /relation "[^"]*audit_log" does not exist/);
    assert.notEqual(e.table, "Order");
  });

  test("inside a transaction they join it: seen there, rolled back with it", async () => {
    await adb.transaction(async (tx) => {
      await tx.upsert("Order", { id: 50, user: "tx" }, "id", inS);
      assert.equal(await tx.updateWhere("Order", { Qty: 0 }, { user: "tx" }, inS), 1);
      assert.equal(await tx.deleteWhere("Order", { id: 1 }, inS), 1);
      assert.equal(await adb.exists("Order", { id: 50 }, inS), true, "the database's methods join the transaction");
      assert.equal(await tx.count("Order", null, inS), 4);
      assert.deepEqual((await tx.paginate<Order>("Order", { ...inS, limit: 1, orderBy: "id", descending: true }))[0], { id: 50, user: "tx", Qty: 0, tags: null });
      assert.equal((await rows()).length, 4, "not committed");
      assert.ok((await rows()).some((r) => r.id === 1));
      await tx.rollback();
    });
    assert.equal(await adb.exists("Order", { id: 50 }, inS), false);
    assert.throws(
      () =>
        db.transaction((tx) => {
          tx.upsert("Order", { id: 60 }, "id", inS);
          tx.deleteWhere("Order", { id: [1, 2] }, inS);
          assert.equal(tx.count("Order", null, inS), 3);
          assert.equal(db.count("Order", null, inS), 3);
          throw new Error("roll back");
        }),
      /roll back/,
    );
    assert.deepEqual((await rows()).map((r) => r.id), [1, 2, 3, 4]);
    await adb.connect(async (conn) => {
      assert.equal(await conn.deleteWhere("Order", { id: 4 }, inS), 1);
      await conn.rollback();
    });
    assert.equal(await adb.count("Order", null, inS), 4);
  });
});
