/**
 * Introspection (`db.schema.primaryKey / foreignKeys / sequences / views / describe`), pycopg 0.10's helpers,
 * against the real server, async and sync, compared with what the catalog says, inside transactions, and their
 * errors.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, Database, InvalidIdentifier, InvalidSchemaName, ParameterError, TableNotFound } from "../src/index.js";
import { loose, sameErrorOn, type Loose } from "./support/both-sides.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
const q = (name: string) => `${ctx.schema}.${name}`;

/** The same answer flat and in the namespace, async and sync. */
async function all(name: string, args: unknown[], expected: unknown): Promise<void> {
  assert.deepEqual(await loose(adb)[name]!(...args), expected, `async ${name}`);
  assert.deepEqual(await (adb.schema as unknown as Loose<Promise<unknown>>)[name]!(...args), expected, `async schema.${name}`);
  assert.deepEqual(loose(db)[name]!(...args), expected, `sync ${name}`);
  assert.deepEqual((db.schema as unknown as Loose)[name]!(...args), expected, `sync schema.${name}`);
}

before(async () => {
  ctx = await createTestSchema("introspection");
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
  await adb.execute(`CREATE SCHEMA "${ctx.schema}_ref"`);
  await adb.execute(`CREATE TABLE "${ctx.schema}_ref"."user" (a int, b int, PRIMARY KEY (b, a))`);
  await adb.execute(`CREATE TABLE "Order" (id serial, "Key" int, uid int, ua int, ub int, note text,
      CONSTRAINT "Order_pk" PRIMARY KEY ("Key", id))`);
  await adb.execute(`CREATE TABLE line (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "orderKey" int, "orderId" int, x int,
      CONSTRAINT to_order FOREIGN KEY ("orderKey", "orderId") REFERENCES "Order" ("Key", id) ON DELETE CASCADE ON UPDATE SET NULL,
      CONSTRAINT a_user FOREIGN KEY (x, "orderId") REFERENCES "${ctx.schema}_ref"."user" (b, a) ON UPDATE RESTRICT)`);
  await adb.execute(`CREATE TABLE nokey (n int)`);
  await adb.execute(`CREATE SEQUENCE "Seq"`);
  await adb.execute(`CREATE VIEW "select" AS SELECT 1 AS one`);
  await adb.execute(`CREATE MATERIALIZED VIEW mat AS SELECT 1 AS one`);
});

after(async () => {
  db?.close();
  await adb?.close();
  await rawQuery(`DROP SCHEMA IF EXISTS "${ctx.schema}_ref" CASCADE`);
  await ctx?.drop();
});

describe("primaryKey", () => {
  test("name and columns in key order (not table order), or null; views have none", async () => {
    await all("primaryKey", [q("Order")], { name: "Order_pk", columns: ["Key", "id"] });
    await all("primaryKey", ["user", { schema: `${ctx.schema}_ref` }], { name: "user_pkey", columns: ["b", "a"] });
    await all("primaryKey", [q("nokey")], null);
    await all("primaryKey", [q("select")], null);
  });
});

describe("foreignKeys", () => {
  test("columns and referenced columns pairwise in key order, the referenced schema and table, actions as words", async () => {
    await all("foreignKeys", [q("line")], [
      { name: "a_user", columns: ["x", "orderId"], refSchema: `${ctx.schema}_ref`, refTable: "user", refColumns: ["b", "a"], onDelete: "NO ACTION", onUpdate: "RESTRICT" },
      { name: "to_order", columns: ["orderKey", "orderId"], refSchema: ctx.schema, refTable: "Order", refColumns: ["Key", "id"], onDelete: "CASCADE", onUpdate: "SET NULL" },
    ]);
    await all("foreignKeys", [q("Order")], []); // referenced, but declares none
  });
});

describe("sequences and views", () => {
  test("sequences: those created and those behind serial and identity columns, sorted", async () => {
    await all("sequences", [{ schema: ctx.schema }], ["Order_id_seq", "Seq", "line_id_seq"]);
    await all("sequences", [{ schema: `${ctx.schema}_ref` }], []);
    await sameErrorOn(loose(adb), loose(db), (x) => x.sequences!({ schema: "no_such_schema" }), InvalidSchemaName, /schema "no_such_schema" does not exist/);
  });

  test("views: ordinary and materialized by default (pycopg drops the latter), or one kind", async () => {
    await all("views", [{ schema: ctx.schema }], ["mat", "select"]);
    await all("views", [{ schema: ctx.schema, materialized: true }], ["mat"]);
    await all("views", [{ schema: ctx.schema, materialized: false }], ["select"]);
    await all("views", [{ schema: `${ctx.schema}_ref` }], []);
    await sameErrorOn(loose(adb), loose(db), (x) => x.views!({ schema: "no_such_schema" }), InvalidSchemaName);
  });

  test("they agree with the catalog", async () => {
    const cat = await rawQuery<{ relname: string; relkind: string }>(
      `SELECT relname, relkind::text FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('S', 'v', 'm') ORDER BY relname`,
      [ctx.schema],
    );
    assert.deepEqual(await adb.sequences({ schema: ctx.schema }), cat.filter((r) => r.relkind === "S").map((r) => r.relname));
    assert.deepEqual(await adb.views({ schema: ctx.schema }), cat.filter((r) => r.relkind !== "S").map((r) => r.relname));
  });
});

describe("inside a transaction", () => {
  const ddl = `CREATE TABLE fresh (id int, k int, PRIMARY KEY (k, id));
    CREATE TABLE fresh_child (a int, b int, FOREIGN KEY (a, b) REFERENCES fresh (k, id) ON DELETE SET DEFAULT);
    CREATE SEQUENCE fresh_seq; CREATE VIEW fresh_view AS SELECT 1 AS one`;

  test("they see the transaction's uncommitted work, async and sync, and it rolls back", async () => {
    const fk = [{ name: "fresh_child_a_b_fkey", columns: ["a", "b"], refSchema: ctx.schema, refTable: "fresh", refColumns: ["k", "id"], onDelete: "SET DEFAULT", onUpdate: "NO ACTION" }];
    await adb.transaction(async (tx) => {
      await tx.execute(ddl);
      assert.deepEqual(await tx.primaryKey(q("fresh")), { name: "fresh_pkey", columns: ["k", "id"] });
      assert.deepEqual(await adb.schema.foreignKeys(q("fresh_child")), fk); // the ambient transaction
      assert.ok((await tx.schema.sequences({ schema: ctx.schema })).includes("fresh_seq"));
      assert.ok((await tx.views({ schema: ctx.schema, materialized: false })).includes("fresh_view"));
      await tx.rollback();
    });
    await assert.rejects(adb.primaryKey(q("fresh")), TableNotFound);
    assert.throws(
      () =>
        db.transaction((tx) => {
          tx.execute(ddl);
          assert.deepEqual(tx.schema.primaryKey(q("fresh")), { name: "fresh_pkey", columns: ["k", "id"] });
          assert.deepEqual(db.foreignKeys(q("fresh_child")), fk);
          assert.ok(tx.sequences({ schema: ctx.schema }).includes("fresh_seq"));
          assert.deepEqual(db.schema.views({ schema: ctx.schema, materialized: false }), ["fresh_view", "select"]);
          throw new Error("roll back");
        }),
      /roll back/,
    );
    assert.throws(() => db.foreignKeys(q("fresh_child")), TableNotFound);
    assert.deepEqual(db.sequences({ schema: ctx.schema }), ["Order_id_seq", "Seq", "line_id_seq"]);
  });
});

describe("describe", () => {
  test("columns, primary key, foreign keys, indexes, constraints, size and exact row count in one call, async and sync", async () => {
    await adb.execute(`INSERT INTO "Order" ("Key", note) SELECT g % 3, repeat('x', 100) FROM generate_series(1, 250) g`);
    const [cat] = await rawQuery<{ bytes: string; pretty: string; n: string }>(
      `SELECT pg_total_relation_size('"${ctx.schema}"."Order"')::text AS bytes, pg_size_pretty(pg_total_relation_size('"${ctx.schema}"."Order"')) AS pretty,
              (SELECT count(*) FROM "${ctx.schema}"."Order")::text AS n`,
    );
    const expected = {
      schema: ctx.schema,
      name: "Order",
      columns: await adb.tableInfo("Order", { schema: ctx.schema }),
      primaryKey: { name: "Order_pk", columns: ["Key", "id"] },
      foreignKeys: [],
      indexes: await adb.listIndexes(q("Order")),
      constraints: await adb.listConstraints(q("Order")),
      size: { bytes: BigInt(cat!.bytes), pretty: cat!.pretty },
      rowCount: 250,
    };
    assert.equal(cat!.n, "250");
    assert.deepEqual(expected.columns.map((c) => c.name), ["id", "Key", "uid", "ua", "ub", "note"]);
    assert.deepEqual(expected.indexes.map((i) => i.name), ["Order_pk"]);
    assert.deepEqual(expected.constraints.map((c) => [c.name, c.type]), [["Order_pk", "primary key"]]);
    assert.ok(expected.size.bytes > 8192n);
    await all("describe", [q("Order")], expected);
    await all("describe", ["Order", { schema: ctx.schema }], expected);

    const line = await adb.describe(q("line"));
    assert.deepEqual(line.foreignKeys, await adb.foreignKeys(q("line")));
    assert.deepEqual(line.foreignKeys.map((f) => f.name), ["a_user", "to_order"]);
    assert.deepEqual(line.primaryKey, { name: "line_pkey", columns: ["id"] });
    assert.deepEqual(line.constraints.map((c) => c.type), ["foreign key", "primary key", "foreign key"]);
    assert.equal(line.rowCount, 0);
    const view = db.describe(q("select"));
    assert.deepEqual([view.primaryKey, view.indexes, view.constraints, view.size.bytes, view.rowCount], [null, [], [], 0n, 1]);
  });

  test("inside a transaction it sees the transaction's rows and indexes; a missing table is TableNotFound", async () => {
    await adb.transaction(async (tx) => {
      await tx.execute("INSERT INTO nokey SELECT generate_series(1, 7)");
      await tx.createIndex(q("nokey"), "n");
      const d = await tx.schema.describe(q("nokey"));
      assert.equal(d.rowCount, 7);
      assert.deepEqual(d.indexes.map((i) => i.name), ["nokey_n_idx"]);
      await tx.rollback();
    });
    db.transaction((tx) => {
      tx.execute("INSERT INTO nokey VALUES (1)");
      assert.equal(db.describe(q("nokey")).rowCount, 1);
      tx.rollback();
    });
    assert.equal(db.schema.describe(q("nokey")).rowCount, 0);
    const e = await sameErrorOn(loose(adb), loose(db), (x) => x.describe!(q("missing")));
    assert.ok(e instanceof TableNotFound);
    assert.equal(e.message, `table "${ctx.schema}"."missing" does not exist`);
    await sameErrorOn(loose(adb), loose(db), (x) => x.describe!(q("nokey"), { pretty: true }), ParameterError);
    await sameErrorOn(loose(adb), loose(db), (x) => x.describe!("no key"), InvalidIdentifier);
  });
});

describe("errors", () => {
  test("missing table, bad names and options: the same on both sides", async () => {
    for (const m of ["primaryKey", "foreignKeys"]) {
      const e = await sameErrorOn(loose(adb), loose(db), (x) => x[m]!(q("missing")));
      assert.ok(e instanceof TableNotFound, m);
      assert.equal(e.message, `table "${ctx.schema}"."missing" does not exist`);
    }
    const cases: [(x: Loose) => unknown, new (...a: never[]) => Error, RegExp][] = [
      [(x) => x.primaryKey!("Order", { schema: "a;b" }), InvalidIdentifier, /invalid schema name/],
      [(x) => x.foreignKeys!("bad table"), InvalidIdentifier, /invalid table name/],
      [(x) => x.sequences!({ schema: "" }), InvalidIdentifier, /invalid schema name/],
      [(x) => x.views!({ schema: ctx.schema, materialized: "yes" }), ParameterError, /option materialized must be a boolean/],
      [(x) => x.views!({ schemas: ctx.schema }), ParameterError, /unknown option "schemas"/],
      [(x) => x.sequences!("public"), ParameterError, /options must be a plain object/],
    ];
    for (const [call, cls, pattern] of cases) await sameErrorOn(loose(adb), loose(db), call, cls, pattern);
  });
});
