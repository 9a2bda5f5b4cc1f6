/**
 * The feature registry: every feature is reachable flat and through its namespace, on the database, inside a
 * transaction and on a connection, async and sync alike, and each call gives the same answer, read from the server.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { AsyncDatabase, Database, ParameterError } from "../src/index.js";
import { featureNamespaces, registry } from "../src/features/registry.js";
import { SURFACE_FILE, renderSurface } from "../src/sync/surface-doc.js";
import { rawQuery, type TestSchema } from "./support/db.js";
import { bothHandles } from "./support/handles.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

bothHandles("registry", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute("CREATE TABLE widgets (id int)");
  await adb.execute("CREATE VIEW widget_view AS SELECT * FROM widgets");
});

type Target = Record<string, unknown>;

/** An expected value that is not exact: a bigint within `tolerance` of `value`. */
class Near {
  constructor(
    readonly value: bigint,
    readonly tolerance: bigint,
  ) {}
}
const near = (value: bigint, tolerance: bigint) => new Near(value, tolerance);

/** An expected schema list: in the server's order, without system schemas, holding this file's schema and `public`. */
class SchemaList {
  constructor(readonly seen: string[]) {}
}
const schemaList = (seen: string[]) => new SchemaList(seen);

/** deepEqual, or a Near / RegExp / SchemaList match. */
function check(actual: unknown, expected: unknown, label: string): void {
  if (expected instanceof Near) {
    assert.equal(typeof actual, "bigint", label);
    const d = (actual as bigint) - expected.value;
    assert.ok(d <= expected.tolerance && -d <= expected.tolerance, `${label}: ${actual} is not near ${expected.value}`);
  } else if (expected instanceof SchemaList) {
    const list = actual as string[];
    assert.ok(Array.isArray(list), label);
    // Ordered as the server orders them (its collation): the names both lists share come in the same order.
    const shared = new Set(list.filter((n) => expected.seen.includes(n)));
    assert.deepEqual(list.filter((n) => shared.has(n)), expected.seen.filter((n) => shared.has(n)), `${label}: order`);
    for (const name of ["public", ctx.schema]) assert.ok(list.includes(name), `${label}: has ${name}`);
    assert.ok(expected.seen.includes(ctx.schema), label);
    assert.ok(!list.some((n) => n.startsWith("pg_") || n === "information_schema"), `${label}: no system schemas`);
  } else if (expected instanceof RegExp) {
    assert.match(String(actual), expected, label);
  } else {
    assert.deepEqual(actual, expected, label);
  }
}

/**
 * One call per feature, with arguments for this test's schema, and the answer the server gives (read without the
 * library).
 */
async function expectations(): Promise<{ ns: string; name: string; args: unknown[]; expected: unknown }[]> {
  const [{ user }] = await rawQuery<{ user: string }>("SELECT current_user AS user");
  const schemas = (await rawQuery<{ n: string }>(
    "SELECT nspname AS n FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname",
  )).map((r) => r.n);
  const [{ bytes }] = await rawQuery<{ bytes: string }>("SELECT pg_database_size(current_database())::text AS bytes");
  return [
    // Other test files create and drop their schemas meanwhile: the list is checked for what is stable in it.
    { ns: "schema", name: "listSchemas", args: [], expected: schemaList(schemas) },
    { ns: "schema", name: "schemaExists", args: [ctx.schema], expected: true },
    { ns: "schema", name: "listTables", args: [{ schema: ctx.schema }], expected: ["widgets"] },
    { ns: "schema", name: "tableExists", args: ["widget_view", { schema: ctx.schema }], expected: true },
    { ns: "admin", name: "roleExists", args: [user!], expected: true },
    // The database grows while other test files write: the size read by the library and the one read beside it
    // agree within a few MB (a wrong function, unit or type would be far off or not a bigint).
    { ns: "maint", name: "size", args: [{ pretty: false }], expected: near(BigInt(bytes!), 16n * 1024n * 1024n) },
    { ns: "maint", name: "size", args: [], expected: /^\d+ (bytes|kB|MB|GB)$/ },
  ];
}

describe("the feature registry", () => {
  // Every feature of the registry is called four ways by test/parity.test.ts; these are the registry's own checks.
  test("features answer the same flat and through their namespace, async and sync, on the database", async () => {
    for (const { ns, name, args, expected } of await expectations()) {
      const label = `${ns}.${name}`;
      check(await (adb as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args), expected, `async flat ${label}`);
      check(await ((adb as unknown as Record<string, Target>)[ns]![name] as (...a: unknown[]) => Promise<unknown>)(...args), expected, `async ${label}`);
      check((db as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args), expected, `sync flat ${label}`);
      check(((db as unknown as Record<string, Target>)[ns]![name] as (...a: unknown[]) => unknown)(...args), expected, `sync ${label}`);
    }
  });

  test("inside a transaction and on a connection, features run there (they see uncommitted work)", async () => {
    const cases = await expectations();
    await adb.transaction(async (tx) => {
      await tx.execute("CREATE TABLE gadgets (id int)");
      assert.deepEqual(await tx.schema.listTables({ schema: ctx.schema }), ["gadgets", "widgets"]);
      assert.deepEqual(await adb.schema.listTables({ schema: ctx.schema }), ["gadgets", "widgets"]); // joins the transaction
      for (const { ns, name, args, expected } of cases.filter((c) => c.name !== "listTables")) {
        check(await ((tx as unknown as Record<string, Target>)[ns]![name] as (...a: unknown[]) => Promise<unknown>)(...args), expected, `tx ${ns}.${name}`);
      }
      await tx.rollback();
    });
    assert.throws(
      () =>
        db.transaction((tx) => {
          tx.execute("CREATE TABLE gizmos (id int)");
          assert.deepEqual(tx.schema.listTables({ schema: ctx.schema }), ["gizmos", "widgets"]);
          assert.deepEqual(tx.listTables({ schema: ctx.schema }), ["gizmos", "widgets"]);
          assert.deepEqual(db.schema.listTables({ schema: ctx.schema }), ["gizmos", "widgets"]); // joins the transaction
          for (const { ns, name, args, expected } of cases.filter((c) => c.name !== "listTables")) {
            check(((tx as unknown as Record<string, Target>)[ns]![name] as (...a: unknown[]) => unknown)(...args), expected, `sync tx ${ns}.${name}`);
          }
          throw new Error("roll back");
        }),
      /roll back/,
    );
    // Both rolled back: the tables created inside are gone.
    assert.deepEqual(db.schema.listTables({ schema: ctx.schema }), ["widgets"]);
    await adb.connect(async (conn) => {
      await conn.execute("CREATE TABLE doohickeys (id int)");
      assert.equal(await conn.schema.tableExists("doohickeys", { schema: ctx.schema }), true);
      await conn.rollback();
      assert.equal(await conn.tableExists("doohickeys", { schema: ctx.schema }), false);
    });
    db.connect((conn) => {
      conn.execute("CREATE TABLE doohickeys (id int)");
      assert.equal(conn.schema.tableExists("doohickeys", { schema: ctx.schema }), true);
      conn.rollback();
      assert.equal(conn.tableExists("doohickeys", { schema: ctx.schema }), false);
    });
  });

  test("a namespace is one cached object per handle, and its methods are plain functions on both sides", () => {
    assert.equal(adb.schema, adb.schema);
    assert.equal(db.schema, db.schema);
    assert.notEqual(db.schema, new Database(ctx.config).schema);
    for (const [ns, names] of featureNamespaces) {
      for (const n of names) {
        assert.equal(typeof (db as unknown as Record<string, Target>)[ns]![n], "function", `Database.${ns}.${n}`);
        assert.equal(typeof (adb as unknown as Record<string, Target>)[ns]![n], "function", `AsyncDatabase.${ns}.${n}`);
      }
    }
    assert.deepEqual(Object.keys(registry).sort(), [...featureNamespaces.keys()].sort());
  });

  test("bad arguments are the same error on both sides", async () => {
    const cases: [(q: Record<string, Target>) => unknown, RegExp][] = [
      [(q) => (q.schema!.listTables as (o: unknown) => unknown)({ shema: "x" }), /unknown option "shema"/],
      [(q) => (q.schema!.tableExists as (n: unknown, o: unknown) => unknown)("t", { schema: 5 }), /option schema must be a string/],
      [(q) => (q.schema!.tableExists as (n: unknown) => unknown)("bad name; drop"), /./],
      [(q) => (q.maint!.size as (o: unknown) => unknown)(new Map()), /options must be a plain object/],
    ];
    for (const [call, pattern] of cases) {
      const ea = await Promise.resolve()
        .then(() => call(adb as never))
        .then(() => assert.fail("async: expected an error"), (e: unknown) => e as Error);
      let es: Error | undefined;
      try {
        call(db as never);
      } catch (e) {
        es = e as Error;
      }
      assert.ok(es, "sync: expected an error");
      assert.equal(es.constructor, ea.constructor);
      assert.equal(es.message, ea.message);
      assert.match(ea.message, pattern);
    }
    await assert.rejects(adb.schema.listTables({ shema: "x" } as never), ParameterError);
  });
});

describe("the sync surface listing", () => {
  test(`${SURFACE_FILE} is current (run \`npm run gen:sync\` after changing the async classes or the registry)`, () => {
    const committed = readFileSync(new URL(`../${SURFACE_FILE}`, import.meta.url), "utf8");
    assert.equal(committed, renderSurface());
  });
});
