/**
 * Bulk insert and upsert (insertMany, upsertMany, insertBatch) against the real server, async and sync alike:
 * beyond 65,535 parameters, all-or-nothing, values read back exactly as a single-row insert stores them, missing
 * keys, returning, conflicts, batches from generators, transactions, and refusals before anything is sent.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { AsyncDatabase, Database, InvalidIdentifier, ParameterError, TableNotFound, UniqueViolation } from "../src/index.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";
import { refusedBeforeSending, sameError, sameErrorOn, type Either } from "./support/both-sides.js";
import { AsyncRecordingDatabase, RecordingDatabase } from "./fixtures/recording-db.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
let S: string;

before(async () => {
  ctx = await createTestSchema("bulk");
  S = ctx.schema;
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
});

beforeEach(async () => {
  await rawQuery(`SET search_path = "${S}";
    DROP TABLE IF EXISTS "${S}".t3, "${S}".t5, "${S}".kv, "${S}".tricky, "${S}".tricky1, "${S}"."Order";
    CREATE TABLE "${S}".t3 (a int PRIMARY KEY, b float8, c text);
    CREATE TABLE "${S}".t5 (a int, b bigint, c text, d boolean, e numeric);
    CREATE TABLE "${S}".kv (k int PRIMARY KEY, v text, w text DEFAULT 'dflt', n int DEFAULT 7);
    CREATE TABLE "${S}"."Order" (id serial PRIMARY KEY, "user" text NOT NULL, "Qty" int DEFAULT 1)`);
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
});

const count = async (table: string) => Number((await rawQuery<{ n: number }>(`SELECT count(*)::int AS n FROM "${S}"."${table}"`))[0]!.n);
const both = (): [string, Either][] => [["async", adb], ["sync", db]];
/** Calls `method` on `q` (either side): a Promise async, a value (or a throw) sync. */
const m = (q: Either, method: string, ...args: unknown[]) => (q as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
/** Calls `method` on `q` (either side) and awaits it. */
const call = async (q: Either, method: string, ...args: unknown[]) => (q as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);

describe("insertMany", () => {
  test("70,000 rows × 3 columns and 30,000 × 5 (more than 65,535 parameters), async and sync", async () => {
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".t3, "${S}".t5`);
      const rows3 = Array.from({ length: 70_000 }, (_, i) => ({ a: i, b: i / 4, c: `row ${i}` }));
      assert.equal(await call(q, "insertMany", "t3", rows3, { schema: S }), 70_000, side);
      const [r] = await rawQuery<{ n: number; sa: string; sb: number; lc: string }>(`SELECT count(*)::int AS n, sum(a)::text AS sa, sum(b) AS sb, max(c) AS lc FROM "${S}".t3`);
      assert.deepEqual(r, { n: 70_000, sa: String((69_999 * 70_000) / 2), sb: (69_999 * 70_000) / 8, lc: "row 9999" }, side);
      const rows5 = Array.from({ length: 30_000 }, (_, i) => ({ a: i, b: BigInt(i) * 10n ** 12n, c: `x${i}`, d: i % 2 === 0, e: `${i}.5` }));
      assert.equal(await call(q, "insertMany", `${S}.t5`, rows5), 30_000, side);
      const [r5] = await rawQuery<Record<string, string>>(`SELECT sum(b)::text AS b, count(*) FILTER (WHERE d)::text AS d, sum(e)::text AS e FROM "${S}".t5`);
      assert.deepEqual(r5, { b: String(((29_999 * 30_000) / 2) * 1e12), d: "15000", e: String((29_999 * 30_000) / 2 + 15_000) + ".0" }, side);
    }
  });

  test("a failing row (unique violation, bad value) at row 50,000 leaves the table unchanged, same error both sides", async () => {
    await rawQuery(`INSERT INTO "${S}".t3 VALUES (-1, 0, 'kept')`);
    const dup = Array.from({ length: 60_000 }, (_, i) => ({ a: i === 50_000 ? 3 : i, b: 1, c: "x" }));
    await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertMany", "t3", dup, { schema: S }), UniqueViolation);
    const bad = Array.from({ length: 60_000 }, (_, i) => ({ a: i, b: i === 50_000 ? "not a number" : 1, c: "x" }));
    await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertMany", "t3", bad, { schema: S }), Error, /invalid input syntax for type double precision: "not a number"/);
    assert.deepEqual(await rawQuery(`SELECT * FROM "${S}".t3`), [{ a: -1, b: 0, c: "kept" }]);
  });

  test("values read back exactly as a single-row insert stores them (bytea, jsonb, int8 > 2^53, timestamptz, numeric, arrays, text)", async () => {
    await rawQuery(`CREATE TABLE "${S}".tricky (i int, by bytea, j jsonb, js json, big int8, ts timestamptz, tsl timestamp, d date, num numeric(20,4),
      ia int[], ta text[], ba bytea[], ja jsonb, t text, vc varchar(12), ch char(4), bits bit(3), f float8, bo bool, iv interval, bx box, pt point);
      CREATE TABLE "${S}".tricky1 (LIKE "${S}".tricky)`);
    const rows = [
      {
        i: 1, by: Buffer.from([0, 1, 92, 34, 255]), j: { a: [1, "two", null], "q\"k": "v\\" }, js: { x: 1 }, big: 2n ** 62n + 1n,
        ts: new Date("2024-02-29T23:59:59.123Z"), tsl: new Date(Date.UTC(-40, 0, 1)), d: "2024-01-02", num: "12345.67891",
        ia: [[1, 2], [3, null]], ta: ["a,b", 'q"uo', "back\\slash", "NULL", "", null, "{}"], ba: [Buffer.from("hi")], ja: '{"pre": "stringified"}',
        t: `quotes ' " backslash \\ tab\t newline\n unicode é 😀 {braces}`, vc: "élan", ch: "ab", bits: "101", f: -0, bo: false, iv: "1 day 02:00:00",
        bx: "(1,1),(0,0)", pt: "(1.5,2)",
      },
      { i: 2, by: null, j: [1, 2], js: '"just text"', big: -(2n ** 63n), ts: new Date(8.64e15), f: Number.NaN, bo: true, num: "-0.00005", t: "", ta: [] },
      { i: 3, f: Infinity, t: "NULL", j: '"a string"', big: 9007199254740993n },
    ];
    rows[1]!.j = JSON.stringify([1, 2]) as never; // a JS array is sent as a PostgreSQL array; as JSON it goes as text
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".tricky, "${S}".tricky1`);
      assert.equal(await call(q, "insertMany", "tricky", rows, { schema: S }), 3, side);
      for (const row of rows) {
        const cols = Object.keys(row);
        await call(q, "execute", `INSERT INTO "${S}".tricky1 (${cols.map((c) => `"${c}"`).join(", ")}) VALUES (${cols.map((_, k) => `$${k + 1}`).join(", ")})`, Object.values(row));
      }
      const bulk = (await call(q, "execute", `SELECT * FROM "${S}".tricky ORDER BY i`)) as Record<string, unknown>[];
      const single = (await call(q, "execute", `SELECT * FROM "${S}".tricky1 ORDER BY i`)) as Record<string, unknown>[];
      assert.deepEqual(bulk, single, side);
      assert.deepEqual(bulk[0]!["by"], rows[0]!.by, side);
      assert.equal(bulk[0]!["big"], 2n ** 62n + 1n, side);
      assert.deepEqual(bulk[0]!["ia"], [[1, 2], [3, null]], side);
      assert.equal(bulk[0]!["t"], rows[0]!.t, side);
      assert.equal(bulk[2]!["big"], 9007199254740993n, side);
    }
  });

  test("a too long varchar, a bit string of the wrong length: the same error as a single-row insert (no silent truncation)", async () => {
    await rawQuery(`CREATE TABLE "${S}".tricky (vc varchar(3), bits bit(3), ch char(2))`);
    for (const [col, v] of [["vc", "abcd"], ["bits", "1011"], ["ch", "abc"]] as const) {
      const single = await sameErrorOn<Either, Either>(adb, db, (q) => q.execute(`INSERT INTO "${S}".tricky (${col}) VALUES ($1)`, [v]));
      const bulk = await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertMany", "tricky", [{ [col]: v }], { schema: S }));
      assert.equal(bulk.constructor, single.constructor);
      assert.equal(bulk.message, single.message);
    }
    assert.equal(await count("tricky"), 0);
  });

  test("missing keys: NULL by default, the column default with { missing: 'default' } (row order kept)", async () => {
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".kv`);
      const rows = [{ k: 1, v: "a", w: "x" }, { k: 2, v: "b" }, { k: 3, n: 1 }, { k: 4, v: null }];
      assert.equal(await call(q, "insertMany", "kv", rows, { schema: S }), 4);
      assert.deepEqual(await rawQuery(`SELECT * FROM "${S}".kv ORDER BY k`), [
        { k: 1, v: "a", w: "x", n: null }, { k: 2, v: "b", w: null, n: null }, { k: 3, v: null, w: null, n: 1 }, { k: 4, v: null, w: null, n: null },
      ], side);
      await rawQuery(`TRUNCATE "${S}".kv`);
      assert.equal(await call(q, "insertMany", "kv", rows, { schema: S, missing: "default" }), 4);
      assert.deepEqual(await rawQuery(`SELECT * FROM "${S}".kv ORDER BY k`), [
        { k: 1, v: "a", w: "x", n: 7 }, { k: 2, v: "b", w: "dflt", n: 7 }, { k: 3, v: null, w: "dflt", n: 1 }, { k: 4, v: null, w: "dflt", n: 7 },
      ], side);
      // A column no row has is not inserted: its default applies either way (the serial id here).
      const back = await call(q, "insertMany", "Order", [{ user: "ann" }, { user: "bob", Qty: 5 }], { schema: S, returning: ["id", "user", "Qty"] });
      const ids = (back as { id: number }[]).map((r) => r.id);
      assert.equal(ids[1], ids[0]! + 1, side);
      assert.deepEqual((back as object[]).map((r) => ({ ...r, id: 0 })), [{ id: 0, user: "ann", Qty: null }, { id: 0, user: "bob", Qty: 5 }], side);
    }
  });

  test("the columns option orders and restricts the columns; a row key outside it is refused", async () => {
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".kv`);
      assert.equal(await call(q, "insertMany", "kv", [{ v: "a", k: 1 }, { k: 2 }], { schema: S, columns: ["k", "v"] }), 2, side);
      assert.deepEqual(await rawQuery(`SELECT k, v, w FROM "${S}".kv ORDER BY k`), [{ k: 1, v: "a", w: "dflt" }, { k: 2, v: null, w: "dflt" }], side);
    }
    await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertMany", "kv", [{ k: 1, v: "a" }], { schema: S, columns: ["k"] }), ParameterError, /row 0 has key "v", which the columns option does not list/);
  });

  test("returning: every column, or a list", async () => {
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".kv`);
      assert.deepEqual(await call(q, "insertMany", "kv", [{ k: 1, v: "a" }, { k: 2, v: "b" }], { schema: S, returning: true }), [
        { k: 1, v: "a", w: "dflt", n: 7 }, { k: 2, v: "b", w: "dflt", n: 7 },
      ], side);
      assert.deepEqual(await call(q, "insertMany", "kv", [{ k: 3 }], { schema: S, returning: ["k", "w"], missing: "default" }), [{ k: 3, w: "dflt" }], side);
      assert.deepEqual(await call(q, "insertMany", "kv", [], { schema: S, returning: true }), [], side);
      // Several statements: their rows, in order.
      const many = Array.from({ length: 9_000 }, (_, i) => ({ k: 10 + i }));
      const back = (await call(q, "insertMany", "kv", many, { schema: S, returning: ["k"] })) as { k: number }[];
      assert.deepEqual(back.map((r) => r.k), many.map((r) => r.k), side);
    }
  });

  test("onConflict: nothing (with or without a target) and update (the named columns only)", async () => {
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".kv; INSERT INTO "${S}".kv VALUES (1, 'old', 'w-old', 1)`);
      assert.equal(await call(q, "insertMany", "kv", [{ k: 1, v: "new" }, { k: 2, v: "two" }], { schema: S, onConflict: { action: "nothing" } }), 1, side);
      assert.equal(await call(q, "insertMany", "kv", [{ k: 1, v: "new" }], { schema: S, onConflict: { columns: ["k"] } }), 0, side);
      const rows = [{ k: 1, v: "new", w: "w-new", n: 9 }, { k: 3, v: "three", w: "w3", n: 3 }];
      assert.equal(await call(q, "insertMany", "kv", rows, { schema: S, onConflict: { columns: "k", action: "update", updateColumns: ["v"] } }), 2, side);
      assert.deepEqual(await rawQuery(`SELECT * FROM "${S}".kv ORDER BY k`), [
        { k: 1, v: "new", w: "w-old", n: 1 }, { k: 2, v: "two", w: "dflt", n: 7 }, { k: 3, v: "three", w: "w3", n: 3 },
      ], side);
    }
  });

  test("empty rows → 0 without a round trip; bad input is refused before anything is sent", async () => {
    const a = new AsyncRecordingDatabase(ctx.config);
    const s = new RecordingDatabase(ctx.config);
    try {
      assert.equal(await a.insertMany("kv", []), 0);
      assert.equal(s.insertMany("kv", []), 0);
      assert.equal(await a.upsertMany("kv", [], "k"), 0);
      assert.equal(await a.insertBatch("kv", (function* () {})()), 0);
      assert.deepEqual(await a.statementsSent(), []);
      assert.deepEqual(s.statementsSent(), []);
    } finally {
      s.close();
      await a.close();
    }
    const late = Array.from({ length: 60_000 }, (_, i) => ({ k: i, v: i === 50_000 ? () => 1 : "x" }));
    await refusedBeforeSending(ctx.config, [
      [(q) => m(q, "insertMany", "kv", [{ k: 1, v: undefined }]), ParameterError, /row 0 has an undefined value at key "v"/],
      [(q) => m(q, "insertMany", "kv", late), ParameterError, /row 50000, column "v": a function has no PostgreSQL encoding/],
      [(q) => m(q, "insertMany", "kv", [{ k: 1 }, new Map() as never]), ParameterError, /row 1 must be a plain object/],
      [(q) => m(q, "insertMany", "kv", { k: 1 } as never), ParameterError, /rows must be an array/],
      [(q) => m(q, "insertMany", "kv", [{ k: 1, "v; --": 1 }]), InvalidIdentifier, /invalid column name/],
      [(q) => m(q, "insertMany", "k v", [{ k: 1 }]), InvalidIdentifier, /invalid table name/],
      [(q) => m(q, "insertMany", "kv", [{ k: 1 }], { schema: "a b" }), InvalidIdentifier, /invalid schema name/],
      [(q) => m(q, "insertMany", "kv", [{ k: 1 }], { missing: "zero" as never }), InvalidIdentifier, /missing "zero": expected one of null, default/],
      [(q) => m(q, "insertMany", "kv", [{ k: 1 }], { bogus: 1 } as never), ParameterError, /unknown option "bogus"/],
      [(q) => m(q, "insertMany", "kv", [{ k: 1 }], { returning: "k" as never }), ParameterError, /returning must be true or an array/],
      [(q) => m(q, "insertMany", "kv", [{ k: 1 }], { onConflict: { action: "update" } as never }), ParameterError, /onConflict.columns/],
      [(q) => m(q, "upsertMany", "kv", [{ k: 1, v: "a" }, { k: 1, v: "b" }], "k"), ParameterError, /rows 0 and 1 have the same conflict key \(k = 1\)/],
      [(q) => m(q, "upsertMany", "kv", [{ k: 1, v: "a" }], "k", { updateColumns: ["w"] }), ParameterError, /updateColumns names "w", which is not a column of the rows/],
      [(q) => m(q, "upsertMany", "kv", [{ k: 1 }], "k", { returning: true } as never), ParameterError, /unknown option "returning"/],
      [(q) => m(q, "upsertMany", "kv", [{ k: 1 }], []), ParameterError, /upsertMany\(\): conflictColumns must name at least one column/],
      [(q) => m(q, "insertBatch", "kv", [{ k: 1 }], { batchSize: 0 }), ParameterError, /batchSize must be an integer ≥ 1/],
      [(q) => m(q, "insertBatch", "kv", 5 as never), ParameterError, /rows must be an iterable/],
    ], (q) => m(q, "insertMany", "kv", [{ k: 100 }], { schema: S, onConflict: { action: "nothing" } }));
  });

  test("a missing table is TableNotFound naming it", async () => {
    const err = await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertMany", "nope", [{ a: 1 }], { schema: S }), TableNotFound, /table .*"nope" does not exist/);
    assert.equal((err as TableNotFound).table, "nope");
    assert.equal((err as TableNotFound).schema, S);
    await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertBatch", "nope", [{ a: 1 }], { schema: S }), TableNotFound);
  });
});

describe("upsertMany", () => {
  test("updates only the named columns; the default updates every non-conflict column; [] does nothing", async () => {
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".kv; INSERT INTO "${S}".kv VALUES (1, 'v1', 'w1', 1), (2, 'v2', 'w2', 2)`);
      const rows = [{ k: 1, v: "V1", w: "W1", n: 10 }, { k: 3, v: "v3", w: "w3", n: 3 }];
      assert.equal(await call(q, "upsertMany", "kv", rows, ["k"], { schema: S, updateColumns: ["w"] }), 2, side);
      assert.deepEqual(await rawQuery(`SELECT * FROM "${S}".kv ORDER BY k`), [
        { k: 1, v: "v1", w: "W1", n: 1 }, { k: 2, v: "v2", w: "w2", n: 2 }, { k: 3, v: "v3", w: "w3", n: 3 },
      ], side);
      assert.equal(await call(q, "upsertMany", "kv", [{ k: 2, v: "V2", n: 20 }], "k", { schema: S }), 1, side);
      assert.deepEqual(await rawQuery(`SELECT * FROM "${S}".kv WHERE k = 2`), [{ k: 2, v: "V2", w: "w2", n: 20 }], side);
      assert.equal(await call(q, "upsertMany", "kv", [{ k: 2, v: "x" }, { k: 4, v: "v4" }], "k", { schema: S, updateColumns: [] }), 1, side);
      assert.deepEqual(await rawQuery(`SELECT k, v FROM "${S}".kv WHERE k IN (2, 4) ORDER BY k`), [{ k: 2, v: "V2" }, { k: 4, v: "v4" }], side);
    }
  });

  test("a duplicate conflict key is refused naming both rows, also across chunks; the table is unchanged", async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ k: i, v: "x" }));
    rows.push({ k: 17, v: "again" });
    await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "upsertMany", "kv", rows, "k", { schema: S }), ParameterError, /rows 17 and 20000 have the same conflict key \(k = 17\)/);
    assert.equal(await count("kv"), 0);
  });
});

describe("insertBatch", () => {
  function* gen(n: number, badAt = -1) {
    for (let i = 0; i < n; i++) {
      if (i === badAt) throw new Error(`source failed at ${i}`);
      yield { a: i, b: i * 0.5, c: `g${i}` };
    }
  }
  async function* agen(n: number) {
    for (let i = 0; i < n; i++) yield { a: i, b: i * 0.5, c: `g${i}` };
  }

  test("a generator, an async generator, an array: the server's count, read back; progress per batch", async () => {
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".t3`);
      const progress: number[] = [];
      assert.equal(await call(q, "insertBatch", "t3", gen(25_000), { schema: S, batchSize: 10_000, onProgress: (n: number) => progress.push(n) }), 25_000, side);
      assert.deepEqual(progress, [10_000, 20_000, 25_000], side);
      assert.equal(await count("t3"), 25_000, side);
      // The count is the server's: conflicting rows skipped are not counted.
      assert.equal(await call(q, "insertBatch", "t3", gen(30_000), { schema: S, onConflict: { action: "nothing" } }), 5_000, side);
      assert.equal(await count("t3"), 30_000, side);
    }
    await rawQuery(`TRUNCATE "${S}".t3`);
    assert.equal(await adb.insertBatch("t3", agen(2_500), { schema: S }), 2_500);
    assert.equal(await count("t3"), 2_500);
  });

  test("columns and missing work per batch as for insertMany", async () => {
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".kv`);
      const rows = [{ k: 1, v: "a" }, { k: 2 }, { k: 3, w: "w" }];
      assert.equal(await call(q, "insertBatch", "kv", rows, { schema: S, batchSize: 2, missing: "default" }), 3, side);
      assert.deepEqual(await rawQuery(`SELECT * FROM "${S}".kv ORDER BY k`), [
        { k: 1, v: "a", w: "dflt", n: 7 }, { k: 2, v: null, w: "dflt", n: 7 }, { k: 3, v: null, w: "w", n: 7 },
      ], side);
      await sameErrorOn<Either, Either>(adb, db, (x) => m(x, "insertBatch", "kv", rows, { schema: S, columns: ["k", "v"] }), ParameterError, /row 2 has key "w", which the columns option does not list/);
    }
  });

  test("all batches in one transaction: a source that throws, or a failing row in a later batch, leaves the table unchanged", async () => {
    await rawQuery(`INSERT INTO "${S}".t3 VALUES (-1, 0, 'kept')`);
    await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertBatch", "t3", gen(5_000, 3_500), { schema: S }), Error, /source failed at 3500/);
    const rows = [...gen(5_000)].map((r) => (r.a === 4_200 ? { ...r, a: -1 } : r));
    await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertBatch", "t3", rows, { schema: S }), UniqueViolation);
    assert.deepEqual(await rawQuery(`SELECT * FROM "${S}".t3`), [{ a: -1, b: 0, c: "kept" }]);
  });
});

describe("transactions", () => {
  test("inside transaction(): joins it and rolls back with it; on a transaction and a connection too", async () => {
    for (const [side, q] of both()) {
      await rawQuery(`TRUNCATE "${S}".t3`);
      const boom = new Error("boom");
      const tx = (q as unknown as { transaction(fn: (t: Either) => unknown): unknown }).transaction.bind(q);
      const err = await Promise.resolve()
        .then(() =>
          tx((t) => {
            const inner = call(side === "async" ? q : t, "insertMany", "t3", [...gen3(6_000)], { schema: S });
            if (side === "sync") throw boom;
            return inner.then(async () => {
              assert.equal(await call(q, "fetchVal", `SELECT count(*)::int FROM "${S}".t3`), 6_000); // seen inside
              throw boom;
            });
          }),
        )
        .catch((e: unknown) => e);
      assert.equal(err, boom, side);
      assert.equal(await count("t3"), 0, side);
    }
    const conn = await adb.connect();
    try {
      const t = await conn.transaction();
      assert.equal(await t.insertBatch("t3", gen3(3_000), { schema: S, batchSize: 500 }), 3_000);
      assert.equal(await t.upsertMany("t3", [{ a: 1, c: "one" }], "a", { schema: S }), 1);
      await t.rollback();
    } finally {
      await conn.close();
    }
    assert.equal(await count("t3"), 0);
    // On a connection (autocommit: false): a failed call rolls back to its savepoint and the connection's
    // transaction goes on; what commits is what the connection commits.
    const conn2 = await adb.connect();
    try {
      const rows = Array.from({ length: 30_000 }, (_, i) => ({ a: i === 29_999 ? 0 : i, b: i, c: "x" }));
      await assert.rejects(conn2.insertMany("t3", rows, { schema: S }), UniqueViolation);
      assert.equal(await conn2.insertMany("t3", rows.slice(0, -1), { schema: S }), 29_999);
      await conn2.commit();
    } finally {
      await conn2.close();
    }
    assert.equal(await count("t3"), 29_999);
  });
});

test("a column the table lacks: the server's error, as for a single-row insert", async () => {
  const single = await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "execute", `INSERT INTO "${S}".t3 (a, zz) VALUES ($1, $2)`, [1, 2]));
  const bulk = await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertMany", "t3", [{ a: 1, zz: 2 }], { schema: S }));
  assert.equal(bulk.constructor, single.constructor);
  assert.equal(bulk.message, single.message);
});

function* gen3(n: number, extra: (i: number) => object = () => ({})) {
  for (let i = 0; i < n; i++) {
    const more = extra(i);
    yield Object.getPrototypeOf(more) === Object.prototype ? { a: i, b: i, c: String(i), ...more } : more;
  }
}

test("sync and async give the same error for an unencodable value, naming row and column", async () => {
  await sameError(
    () => adb.insertMany("t3", [{ a: 1 }, { a: 2, c: new Set([1]) }], { schema: S }),
    () => db.insertMany("t3", [{ a: 1 }, { a: 2, c: new Set([1]) }], { schema: S }),
    ParameterError,
    /row 1, column "c": a Set has no PostgreSQL encoding/,
  );
});

test("sync rows are encoded as the async API encodes them: toPostgres() objects, class instances refused alike", async () => {
  class Money {
    constructor(readonly cents: number) {}
    toPostgres() {
      return `m${this.cents}`;
    }
  }
  class Point {
    constructor(readonly x: number) {}
  }
  for (const [side, q] of both()) {
    await rawQuery(`TRUNCATE "${S}".t3`);
    assert.equal(await call(q, "insertMany", "t3", [{ a: 1, c: new Money(150) }], { schema: S }), 1, side);
    assert.equal(await call(q, "insertBatch", "t3", gen3(3, () => ({ c: new Money(7) })), { schema: S, onConflict: { action: "nothing" } }), 2, side);
    assert.deepEqual(await rawQuery(`SELECT a, c FROM "${S}".t3 ORDER BY a`), [{ a: 0, c: "m7" }, { a: 1, c: "m150" }, { a: 2, c: "m7" }], side);
  }
  await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertMany", "t3", [{ a: 1 }, new Point(1) as never], { schema: S }), ParameterError, /row 1 must be a plain object of column → value, got Point/);
  await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertBatch", "t3", gen3(5, (i) => (i === 3 ? (new Point(1) as never) : {})), { schema: S }), ParameterError, /row 3 must be a plain object of column → value, got Point/);
  await sameErrorOn<Either, Either>(adb, db, (q) => m(q, "insertBatch", "t3", gen3(5, (i) => (i === 4 ? { c: () => 1 } : {})), { schema: S }), ParameterError, /row 4, column "c": a function has no PostgreSQL encoding/);
  assert.equal(await count("t3"), 3);
});
