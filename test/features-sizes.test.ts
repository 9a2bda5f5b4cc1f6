/**
 * Sizes (`db.maint`): tableSize, tableSizes (size is in registry.test.ts too). Against the real server, the
 * answers compared with the server's own size functions read without the library, async and sync alike, inside a
 * transaction; errors the same on both sides.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, Database, InvalidIdentifier, InvalidSchemaName, ParameterError, TableNotFound } from "../src/index.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";
import { errorOf, sameError } from "./support/both-sides.js";

let ctx: TestSchema;
let empty: TestSchema;
let adb: AsyncDatabase;
let db: Database;
let S: string;

before(async () => {
  ctx = await createTestSchema("sizes");
  empty = await createTestSchema("sizes_empty");
  S = ctx.schema;
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
  await adb.execute(`CREATE TABLE "Order" (id int PRIMARY KEY, "user" text, note text);
    INSERT INTO "Order" SELECT g, 'u' || g, repeat('x', 200) FROM generate_series(1, 2000) g;
    CREATE TABLE small (id int);
    CREATE VIEW order_view AS SELECT id FROM "Order";
    CREATE MATERIALIZED VIEW order_mv AS SELECT * FROM "Order";
    CREATE TABLE parted (id int, body text) PARTITION BY RANGE (id);
    CREATE TABLE parted_a PARTITION OF parted FOR VALUES FROM (0) TO (1000);
    CREATE TABLE parted_b PARTITION OF parted FOR VALUES FROM (1000) TO (2000);
    CREATE INDEX ON parted (id);
    INSERT INTO parted SELECT g, repeat('y', 100) FROM generate_series(0, 1999) g;`);
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
  await empty?.drop();
});

describe("sizes", () => {
  test("tableSize: the server's total size, in bytes or pretty, async and sync", async () => {
    const [{ bytes, pretty }] = await rawQuery<{ bytes: string; pretty: string }>(
      `SELECT pg_total_relation_size('"${S}"."Order"')::text AS bytes, pg_size_pretty(pg_total_relation_size('"${S}"."Order"')) AS pretty`,
    );
    assert.ok(BigInt(bytes!) > 400_000n, "2000 rows of 200 bytes and an index");
    const forms: [string, { schema?: string }?][] = [["Order", { schema: S }], [`${S}.Order`], [`${S}.Order`, { schema: S }]];
    for (const [table, options] of forms) {
      assert.equal(await adb.maint.tableSize(table, options), pretty);
      assert.equal(db.tableSize(table, options), pretty);
    }
    assert.equal(await adb.tableSize("Order", { schema: S, pretty: false }), BigInt(bytes!));
    assert.equal(db.maint.tableSize("Order", { schema: S, pretty: false }), BigInt(bytes!));
  });

  test("tableSize: a partitioned table is the sum of its partitions; a view is 0", async () => {
    const [{ sum }] = await rawQuery<{ sum: string }>(
      `SELECT sum(pg_total_relation_size(format('%I.%I', $1::text, p)::regclass))::text AS sum FROM unnest(ARRAY['parted_a','parted_b']) p`,
      [S],
    );
    assert.ok(BigInt(sum!) > 0n);
    assert.equal(await adb.tableSize("parted", { schema: S, pretty: false }), BigInt(sum!));
    assert.equal(db.tableSize("parted", { schema: S, pretty: false }), BigInt(sum!));
    assert.equal(await adb.tableSize("order_view", { schema: S, pretty: false }), 0n);
  });

  test("tableSize: a missing table is TableNotFound naming schema and table; a bad name or option is refused", async () => {
    const e = (await sameError(() => adb.tableSize("nope", { schema: S }), () => db.tableSize("nope", { schema: S }), TableNotFound, /"nope" does not exist/)) as TableNotFound;
    assert.equal(e.schema, S);
    assert.equal(e.table, "nope");
    assert.equal(e.code, "42P01");
    const es = (await errorOf(() => db.maint.tableSize("nope", { schema: S }))) as TableNotFound;
    assert.deepEqual([es.schema, es.table, es.code], [S, "nope", "42P01"]);
    await sameError(() => adb.tableSize(`${S}.Order`, { schema: "public" }), () => db.tableSize(`${S}.Order`, { schema: "public" }), ParameterError, /schema option says public/);
    await sameError(() => adb.tableSize("Order", { pretty: "yes" } as never), () => db.tableSize("Order", { pretty: "yes" } as never), ParameterError, /pretty must be a boolean/);
    await sameError(() => adb.tableSize("a;b"), () => db.tableSize("a;b"), InvalidIdentifier, /invalid table name/);
  });

  test("tableSize inside a transaction sees the tables it created", async () => {
    await adb.transaction(async (tx) => {
      await tx.execute("CREATE TABLE fresh AS SELECT g FROM generate_series(1, 5000) g");
      const inside = (await tx.maint.tableSize("fresh", { schema: S, pretty: false })) as bigint;
      assert.equal(inside, BigInt((await tx.fetchVal<bigint>("SELECT pg_total_relation_size('fresh')"))!));
      assert.ok(inside > 100_000n);
      await tx.rollback();
    });
    await assert.rejects(adb.tableSize("fresh", { schema: S }), TableNotFound);
  });

  test("tableSizes: every table and matview, largest first, bytes and pretty as the server computes them", async () => {
    const expected = await rawQuery<{ table: string; total: string; data: string; index: string }>(
      `SELECT relname AS table, pg_total_relation_size(c.oid)::text AS total, pg_table_size(c.oid)::text AS data,
              pg_indexes_size(c.oid)::text AS index
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND relkind IN ('r','m') AND NOT relispartition`,
      [S],
    );
    const [parts] = await rawQuery<{ total: string; data: string; index: string }>(
      `SELECT sum(pg_total_relation_size(c.oid))::text AS total, sum(pg_table_size(c.oid))::text AS data,
              sum(pg_indexes_size(c.oid))::text AS index
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND relispartition AND relkind = 'r'`,
      [S],
    );
    expected.push({ table: "parted", ...parts! });
    const want = expected
      .map((r) => ({ table: r.table, totalBytes: BigInt(r.total), dataBytes: BigInt(r.data), indexBytes: BigInt(r.index) }))
      .sort((a, b) => (a.totalBytes === b.totalBytes ? (a.table < b.table ? -1 : 1) : a.totalBytes > b.totalBytes ? -1 : 1));
    const got = await adb.maint.tableSizes({ schema: S });
    assert.deepEqual(db.tableSizes({ schema: S }), got);
    assert.deepEqual(
      got.map(({ table, totalBytes, dataBytes, indexBytes }) => ({ table, totalBytes, dataBytes, indexBytes })),
      want,
    );
    assert.deepEqual(got.map((r) => r.table).sort(), ["Order", "order_mv", "parted", "small"]);
    for (const r of got) {
      assert.equal(r.totalBytes, r.dataBytes + r.indexBytes, r.table);
      const [p] = await rawQuery<{ t: string; d: string; i: string }>(
        "SELECT pg_size_pretty($1::bigint) AS t, pg_size_pretty($2::bigint) AS d, pg_size_pretty($3::bigint) AS i",
        [String(r.totalBytes), String(r.dataBytes), String(r.indexBytes)],
      );
      assert.deepEqual([r.totalSize, r.dataSize, r.indexSize], [p!.t, p!.d, p!.i]);
    }
  });

  test("tableSizes: limit (default 20, null for all, 0), an empty schema, a missing one, bad options", async () => {
    assert.deepEqual((await adb.tableSizes({ schema: S, limit: 2 })).map((r) => r.table), (await adb.tableSizes({ schema: S })).slice(0, 2).map((r) => r.table));
    assert.equal(db.maint.tableSizes({ schema: S, limit: null }).length, 4);
    assert.deepEqual(await adb.tableSizes({ schema: S, limit: 0 }), []);
    assert.deepEqual(await adb.tableSizes({ schema: empty.schema }), []);
    assert.deepEqual(db.tableSizes({ schema: empty.schema }), []);
    // Default schema: public (whatever it holds, it answers a list).
    assert.ok(Array.isArray(await adb.tableSizes()));
    await adb.execute("CREATE TABLE IF NOT EXISTS many (id int)");
    const e = await sameError(() => adb.tableSizes({ schema: "no_such_schema_x" }), () => db.tableSizes({ schema: "no_such_schema_x" }), InvalidSchemaName, /schema "no_such_schema_x" does not exist/);
    assert.equal((e as InvalidSchemaName).code, "3F000");
    for (const limit of [-1, 1.5, Number.NaN]) {
      await sameError(() => adb.tableSizes({ schema: S, limit }), () => db.tableSizes({ schema: S, limit }), ParameterError, /limit must be an integer ≥ 0/);
    }
    await sameError(() => adb.tableSizes({ schema: S, limit: "5" } as never), () => db.tableSizes({ schema: S, limit: "5" } as never), ParameterError, /limit must be a number/);
    await sameError(() => adb.tableSizes({ schema: "x y" }), () => db.tableSizes({ schema: "x y" }), InvalidIdentifier, /invalid schema name/);
  });

  test("size: pretty as pg_size_pretty writes it", async () => {
    assert.match((await adb.maint.size()) as string, /^\d+ (bytes|kB|MB|GB|TB)$/);
    assert.equal(typeof db.size({ pretty: false }), "bigint");
  });
});
