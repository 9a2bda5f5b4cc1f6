/**
 * copyInsert on both sides: 100k rows of tricky values read back exactly, all-or-nothing on a failing row or a
 * throwing source (its own error, the connection given back every time), rolled back with a transaction, rows
 * checked, progress reported.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { beforeEach, describe, test } from "node:test";
import { AsyncDatabase, Database, InvalidTextRepresentation, InvalidIdentifier, ParameterError, QueryCanceled, TscopgError } from "../src/index.js";
import { rawQuery, sessionsNamed, type TestSchema } from "./support/db.js";
import { eventually, refusedBeforeSending, sameError, type Either } from "./support/both-sides.js";
import { encodeDate } from "../src/sql/encode.js";
import { bothHandles } from "./support/handles.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

const TABLE = `(id int PRIMARY KEY, s text, big int8, num numeric, ts timestamptz, j jsonb, js json, b bytea,
  ints int[], texts text[], flag bool, f float8)`;

bothHandles("copyins", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute(`CREATE TABLE a ${TABLE}`);
  await adb.execute(`CREATE TABLE s ${TABLE}`);
  await adb.execute("CREATE TABLE small (id int PRIMARY KEY, v text)");
  await adb.execute("CREATE TABLE nokey (v text)");
});

beforeEach(async () => {
  await adb.execute("TRUNCATE a, s, small");
});

const TRICKY = ["a\tb", "line\nbreak", "cr\rlf\r\n", "back\\slash", "\\.", "\\N", "quote'\"", "unicode é 😀 中文", "", "  spaced  ", "{braces},", "end\\"];

function trickyRow(i: number): Record<string, unknown> {
  return {
    id: i,
    s: i % 13 === 12 ? null : TRICKY[i % 13]! + (i % 3 === 0 ? "" : String(i)),
    big: i % 7 === 0 ? null : 9_007_199_254_740_993n * (i % 2 === 0 ? 1n : -1n) + BigInt(i),
    num: `${i + 1}2345678901234567890.123456789`,
    ts: new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999) + i * 61_001),
    j: { i, s: "x\ty\\z\n", nested: [1, null, "q\"r"], u: "é" },
    js: i % 5 === 0 ? null : JSON.stringify([i, "text", { deep: true }]), // (a JS array is a PostgreSQL array, as a parameter)
    b: i % 11 === 0 ? Buffer.alloc(0) : Buffer.from([0, 1, 92, 10, 9, 255, i & 255]),
    ints: [i, null, -3],
    texts: ["a,b", 'c"d', "e\\f", null, "", "NULL"],
    flag: i % 2 === 0,
    f: i % 17 === 0 ? Number.NaN : i / 7,
  };
}

/** The table's qualified name (copyInsert's default schema is public, as every table helper's). */
const T = (name: string): string => `${ctx.schema}.${name}`;

const N = 100_000;
const rows = Array.from({ length: N }, (_, i) => trickyRow(i));

/** The rows as they read back (json arrays stay arrays; json read with execute like any value). */
function expected(r: Record<string, unknown>): Record<string, unknown> {
  return { ...r, js: typeof r.js === "string" ? JSON.parse(r.js) : null };
}

describe("copyInsert: values read back exactly", () => {
  test("100k rows of tricky strings, bigint, numeric, timestamptz, json/jsonb, bytea, arrays, bool, float8: async", async () => {
    assert.equal(await adb.copyInsert(T("a"), rows), N);
    const back = await adb.execute("SELECT * FROM a ORDER BY id");
    assert.equal(back.length, N);
    for (let i = 0; i < N; i++) assert.deepEqual(back[i], expected(rows[i]!), `row ${i}`);
    // The same values as bind parameters would give (one row through insert, compared).
    await adb.execute("INSERT INTO small VALUES (1, $1)", [rows[1]!.s]);
    assert.equal(await adb.fetchVal("SELECT v FROM small WHERE id = 1"), back[1]!.s);
  });

  test("the same on the sync side (an array and a generator)", async () => {
    assert.equal(db.copyInsert(T("s"), rows.slice(0, N / 2)), N / 2);
    function* rest() {
      for (let i = N / 2; i < N; i++) yield rows[i]!;
    }
    assert.equal(db.copyInsert(T("s"), rest()), N / 2);
    const back = db.execute("SELECT * FROM s ORDER BY id");
    for (let i = 0; i < N; i++) assert.deepEqual(back[i], expected(rows[i]!), `row ${i}`);
  });

  test("columns option, a missing key is NULL, schema-qualified names, async iterables and Readables", async () => {
    assert.equal(await adb.copyInsert(`${ctx.schema}.small`, [{ id: 1 }, { id: 2, v: "x" }], { columns: ["id", "v"] }), 2);
    async function* gen() {
      yield { id: 3, v: "three" };
      yield { id: 4, v: null };
    }
    assert.equal(await adb.copyInsert(T("small"), gen(), { schema: ctx.schema }), 2);
    assert.equal(await adb.copyInsert(T("small"), Readable.from([{ id: 5, v: "r" }])), 1);
    assert.equal(await adb.copyInsert(T("small"), []), 0);
    assert.deepEqual(await adb.execute("SELECT * FROM small ORDER BY id"), [
      { id: 1, v: null },
      { id: 2, v: "x" },
      { id: 3, v: "three" },
      { id: 4, v: null },
      { id: 5, v: "r" },
    ]);
  });

  test("the count is the server's: a trigger that skips rows makes it smaller than rows.length", async () => {
    await adb.execute("CREATE FUNCTION skip_odd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id % 2 = 1 THEN RETURN NULL; END IF; RETURN NEW; END $$");
    await adb.execute("CREATE TRIGGER skip BEFORE INSERT ON small FOR EACH ROW EXECUTE FUNCTION skip_odd()");
    try {
      const some = Array.from({ length: 10 }, (_, i) => ({ id: i, v: "v" }));
      assert.equal(await adb.copyInsert(T("small"), some), 5);
      assert.equal(db.copyInsert(T("small"), some.map((r) => ({ ...r, id: r.id + 100 }))), 5);
    } finally {
      await adb.execute("DROP TRIGGER skip ON small");
    }
  });
});

describe("copyInsert encodes as parameters do", () => {
  test("each value reads back as the same value sent as a bind parameter (edge numbers, long and non-ASCII strings, BC dates, toPostgres)", async () => {
    const long = `${"x".repeat(70)}\t${"é".repeat(40)}\\.`;
    const cases: [type: string, values: unknown[]][] = [
      ["int8", [0, -1, 7, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n, null]],
      ["float8", [0.1, -0, 1e300, -1.5e-300, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 60, 12345.678]],
      ["numeric", ["123.4500", "NaN", 12345678901234567890n, -3]],
      ["text", ["", " ", "x".repeat(62), "y".repeat(63), long, "\\N", "a\rb", "tab\tend", "é", "😀".repeat(30), "x".repeat(200_000), 42, true, -0]],
      ["timestamptz", [new Date(0), new Date(Date.UTC(-1, 0, 1)), new Date(Date.UTC(10000, 5, 6, 7, 8, 9, 10)), new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999)), "infinity", "2024-01-01 12:00+05"]],
      ["timestamp", [new Date(Date.UTC(2000, 0, 1, 1, 2, 3, 4)), "-infinity"]],
      ["date", ["2024-02-29", new Date(Date.UTC(2024, 1, 29))]],
      ["bytea", [Buffer.from([0, 92, 10, 255]), new Uint8Array([1, 2, 3]), Buffer.alloc(0)]],
      ["jsonb", [{ a: [1, "\t\\", null] }, { toJSON: () => ({ z: 1 }) }, "\"str\""]],
      ["text[]", [["a", "b,c", 'd"e', "f\\g", null, ""], [], [["x", "y"], ["z", null]]]],
      ["int4[]", [[1, null, -3]]],
      ["bool", [true, false, "yes", null]],
      ["interval", ["1 day 02:00:00"]],
      ["text", [{ toPostgres: () => "from toPostgres\twith tab" }]],
    ];
    for (const [type, values] of cases) {
      await adb.execute(`DROP TABLE IF EXISTS enc; CREATE TABLE enc (i int, v ${type})`);
      for (const [i, v] of values.entries()) await adb.execute("INSERT INTO enc VALUES ($1, $2)", [i, v]);
      const viaParams = await adb.execute("SELECT v FROM enc ORDER BY i");
      await adb.execute("TRUNCATE enc");
      assert.equal(await adb.copyInsert(T("enc"), values.map((v, i) => ({ i, v }))), values.length);
      assert.deepEqual(await adb.execute("SELECT v FROM enc ORDER BY i"), viaParams, type);
      await adb.execute("TRUNCATE enc");
      assert.equal(db.copyInsert(T("enc"), values.map((v, i) => ({ i, v }))), values.length);
      assert.deepEqual(await adb.execute("SELECT v FROM enc ORDER BY i"), viaParams, `${type} (sync)`);
    }
    await adb.execute("DROP TABLE enc");
  });
});

describe("encodeDate's fast path (years 1 to 9999, used by COPY and parameters)", () => {
  test("writes exactly what toISOString writes, at the edges and across the range", () => {
    const edges = [-62_135_596_800_000, 253_402_300_799_999, 0, -1, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, -2_208_988_800_001];
    const first = -62_135_596_800_000; // 0001-01-01
    const range = 253_402_300_800_000 - first; // to 10000-01-01
    // Spread by the golden ratio's fractional parts: every month, weekday and time of day comes up.
    const sample = [...edges, ...Array.from({ length: 40_000 }, (_, i) => first + Math.floor(((i * 0.6180339887498949) % 1) * range))];
    for (const ms of sample) {
      assert.equal(encodeDate(new Date(ms)), new Date(ms).toISOString(), String(ms));
    }
  });
});

const committed = async (table: string): Promise<number> => (await rawQuery<{ n: number }>(`SELECT count(*)::int AS n FROM "${ctx.schema}".${table}`))[0]!.n;

describe("copyInsert: all or nothing", () => {
  test("a value the column refuses fails the COPY: the same error both sides, nothing inserted", async () => {
    await adb.execute("INSERT INTO small VALUES (0, 'kept')");
    const bad = Array.from({ length: 5000 }, (_, i) => ({ id: i === 4321 ? "not a number" : i + 1, v: "x" }));
    await sameError(() => adb.copyInsert(T("small"), bad), () => db.copyInsert(T("small"), bad), InvalidTextRepresentation, /not a number/);
    assert.equal(await committed("small"), 1);
    assert.equal(await adb.fetchVal("SELECT v FROM small"), "kept", "the db is still usable");
  });

  test("a row with a key that is not a column, a NUL character, a non-object row: ParameterError naming the row, nothing inserted", async () => {
    const many = (bad: unknown) => Array.from({ length: 3000 }, (_, i) => (i === 2500 ? bad : { id: i, v: "x" })) as object[];
    await sameError(() => adb.copyInsert(T("small"), many({ id: 1, v: "x", extra: 1 })), () => db.copyInsert(T("small"), many({ id: 1, v: "x", extra: 1 })), ParameterError, /row 2500 has key "extra"/);
    await sameError(() => adb.copyInsert(T("small"), many({ id: 1, v: "a\0b" })), () => db.copyInsert(T("small"), many({ id: 1, v: "a\0b" })), ParameterError, /row 2500, column v: a NUL character/);
    await sameError(() => adb.copyInsert(T("small"), many(7)), () => db.copyInsert(T("small"), many(7)), ParameterError, /row 2500 must be a plain object/);
    await sameError(() => adb.copyInsert(T("small"), many({ id: 1, v: new Map() })), () => db.copyInsert(T("small"), many({ id: 1, v: new Map() })), ParameterError, /row 2500, column v: a Map has no PostgreSQL encoding/);
    assert.equal(await committed("small"), 0);
  });

  test("inside a rolled-back transaction: nothing is left (async and sync)", async () => {
    await assert.rejects(
      adb.transaction(async () => {
        assert.equal(await adb.copyInsert(T("small"), [{ id: 1, v: "a" }]), 1);
        assert.equal(await adb.fetchVal("SELECT count(*) FROM small"), 1n, "visible inside");
        assert.equal(await committed("small"), 0, "not committed yet");
        throw new Error("undo");
      }),
      /undo/,
    );
    assert.throws(
      () =>
        db.transaction(() => {
          assert.equal(db.copyInsert(T("small"), [{ id: 2, v: "b" }]), 1);
          throw new Error("undo");
        }),
      /undo/,
    );
    await adb.transaction(async (tx) => {
      await tx.copyInsert(T("small"), [{ id: 3, v: "c" }]);
    });
    assert.deepEqual(await adb.execute("SELECT id FROM small"), [{ id: 3 }]);
  });

  test("a throwing source: its own error, table unchanged, the connection given back (50 times, no leak)", async () => {
    const name = `${ctx.schema}_leak`;
    await using one = new AsyncDatabase(ctx.config.with({ applicationName: name }), { maxConnections: 1, acquireTimeout: 2000 });
    const boom = new Error("source broke");
    function* failing() {
      for (let i = 0; i < 5000; i++) yield { id: i, v: "x".repeat(50) }; // several 64 KB chunks sent first
      throw boom;
    }
    await one.fetchVal("SELECT 1");
    const before = await sessionsNamed(name);
    for (let k = 0; k < 50; k++) {
      const err = await one.copyInsert(T("small"), failing()).then(() => assert.fail("resolved"), (e: unknown) => e);
      assert.equal(err, boom, "the source's own error object");
    }
    assert.equal(await committed("small"), 0);
    assert.equal(await one.copyInsert(T("small"), [{ id: 1, v: "after" }]), 1, "a dedicated session is still available");
    assert.ok(one.connectionCount <= 2);
    assert.equal(await sessionsNamed(name), Math.max(before, 2));
    // Sync: the same error class and message, table unchanged.
    await adb.execute("TRUNCATE small");
    const serr = (() => {
      try {
        db.copyInsert(T("small"), failing());
      } catch (e) {
        return e as Error;
      }
      return assert.fail("no error");
    })();
    assert.equal(serr.message, "source broke");
    assert.equal(await committed("small"), 0);
  });
});

describe("copyInsert: progress and refusals", () => {
  test("onProgress is called with increasing counts, the last one the server's, on both sides", async () => {
    const some = Array.from({ length: 20_000 }, (_, i) => ({ id: i, v: `value ${i}` }));
    const seenA: { rows: number; bytes: number }[] = [];
    assert.equal(await adb.copyInsert(T("small"), some, { onProgress: (p) => void seenA.push(p) }), 20_000);
    await adb.execute("TRUNCATE small");
    const seenS: { rows: number; bytes: number }[] = [];
    assert.equal(db.copyInsert(T("small"), some, { onProgress: (p) => void seenS.push(p) }), 20_000);
    for (const seen of [seenA, seenS]) {
      assert.ok(seen.length >= 3, `several calls (${seen.length})`);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.rows >= seen[i - 1]!.rows && seen[i]!.bytes > seen[i - 1]!.bytes);
      assert.equal(seen.at(-1)!.rows, 20_000);
    }
    assert.deepEqual(seenA, seenS);
  });

  test("bad names, options and an aborted signal are refused before anything is sent", async () => {
    const aborted = AbortSignal.abort();
    await refusedBeforeSending(
      ctx.config,
      [
        [(q: Either) => q.copyInsert("bad name;", [{ id: 1 }]), InvalidIdentifier],
        [(q: Either) => q.copyInsert(T("small"), [{ "id; DROP": 1 }]), InvalidIdentifier],
        [(q: Either) => q.copyInsert(T("small"), [{ id: 1 }], { columns: ["id", "x y"] as never }), InvalidIdentifier],
        [(q: Either) => q.copyInsert(T("small"), [{ id: 1 }], { nope: 1 } as never), ParameterError, /unknown option "nope"/],
        [(q: Either) => q.copyInsert(T("small"), 42 as never), ParameterError, /rows must be/],
      ],
      (q) => q.copyInsert(T("nokey"), [{ v: "sent" }]),
    );
    // (An AbortSignal cannot cross to the sync facade's worker yet: the cancellation work gives the sync side its own.)
    await assert.rejects(adb.copyInsert(T("small"), [{ id: 1 }], { signal: aborted }), (e: unknown) => e instanceof TscopgError && /abort/.test((e as Error).message));
    assert.equal(await committed("small"), 0);
  });

  test("an abort while the source waits for its next row ends the COPY at once: QueryCanceled, table unchanged, connection back", async () => {
    // PostgreSQL notices a cancel request during COPY FROM STDIN only when more data arrives: the client ends the COPY.
    const before = await sessionsNamed(ctx.schema);
    for (const source of ["generator", "stream"] as const) {
      const controller = new AbortController();
      let stalled!: () => void;
      const waiting = new Promise<void>((resolve) => (stalled = resolve));
      async function* rows(): AsyncGenerator<{ id: number; v: string }> {
        for (let i = 1; i <= 5000; i++) yield { id: i, v: `r${i}` };
        stalled();
        await new Promise(() => undefined); // the next row never comes
      }
      const src = source === "generator" ? rows() : Readable.from(rows());
      const pending = adb.copyInsert(T("small"), src, { signal: controller.signal });
      await waiting;
      controller.abort();
      await assert.rejects(pending, (e: unknown) => e instanceof QueryCanceled && (e as { code?: string }).code === "57014", source);
      assert.equal(await committed("small"), 0, source);
      assert.equal(await adb.fetchVal("SELECT count(*)::int FROM small"), 0, source);
    }
    await eventually(() => sessionsNamed(ctx.schema), (n) => n <= before + 1, "the COPY connections given back");
  });
});
