/**
 * The synchronous facade's `rows` transport: the query methods of Database, Connection and Transaction move rows as
 * packed text decoded on the main thread, and must give exactly what the async API gives (deepStrictEqual), errors
 * included, for every shape of result: NULLs, empty results, non-ASCII text, duplicate column names,
 * multi-statement strings, commands without rows, very wide rows, results spanning many chunks.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AsyncCursor, AsyncDatabase, Database, type QueryParams } from "../src/index.js";
import { typeParsers } from "../src/sql/values.js";
import { chunkLimits } from "../src/sync/rows-pack.js";
import { RowsReceiver } from "../src/sync/rows-unpack.js";
import { surfaceOf } from "../src/sync/surface.js";
import { bothHandles } from "./support/handles.js";

let adb: AsyncDatabase;
let db: Database;

bothHandles("syncrows", async (h) => {
  ({ adb, db } = h);
  await adb.execute("CREATE TABLE t (id int PRIMARY KEY, name text)");
  await adb.execute("CREATE TABLE log (id serial, name text)");
});

const METHODS = ["execute", "query", "fetchAll", "fetchOne", "fetchVal"] as const;
type Method = (typeof METHODS)[number];
type SyncQ = Record<Method, (sql: string, params?: QueryParams | null) => unknown>;
type AsyncQ = Record<Method, (sql: string, params?: QueryParams | null) => Promise<unknown>>;
interface Pair {
  name: string;
  s: SyncQ;
  a: AsyncQ;
}

/** An answer as it may cross threads: `query`'s fields are node-postgres `Field` instances, compared by content. */
function plain(v: unknown): unknown {
  if (v !== null && typeof v === "object" && "fields" in v && "command" in v) {
    const r = v as { fields: object[] };
    return { ...r, fields: r.fields.map((f) => ({ ...f })) };
  }
  return v;
}

/** What a call gave: its value, or its error's class and fields. */
function outcome(run: () => unknown): { value: unknown } | { error: Record<string, unknown> } {
  try {
    return { value: plain(run()) };
  } catch (e) {
    return { error: errorFacts(e) };
  }
}

async function outcomeAsync(run: () => Promise<unknown>): Promise<{ value: unknown } | { error: Record<string, unknown> }> {
  try {
    return { value: plain(await run()) };
  } catch (e) {
    return { error: errorFacts(e) };
  }
}

function errorFacts(e: unknown): Record<string, unknown> {
  const err = e as Error & Record<string, unknown>;
  return { cls: err.constructor.name, message: err.message, code: err.code, query: err.query, detail: err.detail, position: err.position };
}

/** Checks every method of `p` gives the same on both sides for `sql`; returns the async `query` answer. */
async function agree(p: Pair, sql: string, params?: QueryParams, methods: readonly Method[] = METHODS): Promise<unknown> {
  let whole: unknown;
  for (const m of methods) {
    const want = await outcomeAsync(() => p.a[m](sql, params));
    const got = outcome(() => p.s[m](sql, params));
    assert.deepStrictEqual(got, want, `${p.name}.${m}(${sql.slice(0, 80)}) differs`);
    if (m === "query") whole = want;
  }
  return whole;
}

/** Runs `fn` on the database, on a connection and on a transaction of each side. */
async function onEveryTarget(fn: (p: Pair) => Promise<void>): Promise<void> {
  await fn({ name: "database", s: db as unknown as SyncQ, a: adb as unknown as AsyncQ });
  const sconn = db.connect();
  const aconn = await adb.connect();
  try {
    await fn({ name: "connection", s: sconn as unknown as SyncQ, a: aconn as unknown as AsyncQ });
  } finally {
    sconn.close();
    await aconn.close();
  }
  const stx = db.transaction();
  const atx = await adb.transaction();
  try {
    await fn({ name: "transaction", s: stx as unknown as SyncQ, a: atx as unknown as AsyncQ });
  } finally {
    stx.rollback();
    await atx.rollback();
  }
}

/** Counts the chunks the main thread receives as parts while `run` runs (small results travel in the answer only). */
function countingParts<T>(run: () => T): { value: T; parts: number } {
  const original = RowsReceiver.prototype.onPart;
  let parts = 0;
  RowsReceiver.prototype.onPart = function (this: RowsReceiver, part: unknown) {
    parts++;
    original.call(this, part);
  };
  try {
    return { value: run(), parts };
  } finally {
    RowsReceiver.prototype.onPart = original;
  }
}

const shapes: [label: string, sql: string, params?: QueryParams][] = [
  ["NULLs", "SELECT NULL AS a, NULL::int AS b, NULL::text AS c, 1 AS d, NULL::float8 AS e"],
  ["rows of NULLs", "SELECT NULL::int AS n, g FROM generate_series(1, 5) g"],
  ["empty result", "SELECT 1 AS a WHERE false"],
  ["empty table", "SELECT * FROM t WHERE id < 0"],
  ["empty strings", "SELECT ''::text AS e, ''::bytea AS b, '{}'::int[] AS arr"],
  ["non-ASCII", "SELECT 'héllo' AS a, '☃' AS b, '😀 astral 𝄞' AS c, e'e\\u0301' AS d, 'Ω≈ç√∫' AS e"],
  ["non-ASCII in many rows", "SELECT g, repeat('😀é', g % 5) AS t, g * 2 AS h, repeat('x', g % 3) AS x FROM generate_series(1, 3000) g"],
  ["duplicate column names", "SELECT 1 AS a, 'x' AS a, 2 AS b, NULL AS a"],
  ["duplicate first column", "SELECT 1 AS a, 2 AS b, 3 AS a FROM generate_series(1, 3)"],
  ["odd column names", `SELECT 1 AS "__proto__", 2 AS "constructor", 3 AS "0", 4 AS "a b", 5 AS "é", 6 AS "hasOwnProperty"`],
  ["no columns", "SELECT FROM generate_series(1, 4)"],
  ["parameters", "SELECT $1::int AS a, $2::text AS b, $3::float8 AS c", [7, "sëven", -0.5]],
  ["named parameters", "SELECT :a::int AS a, :b AS b", { a: 1, b: null }],
  ["multi-statement: the last with rows", "SELECT 1 AS one; SELECT 2 AS two, 'x' AS y"],
  ["multi-statement: rows, then a command", "SELECT g AS one FROM generate_series(1, 3) g; UPDATE t SET name = name WHERE false"],
  ["multi-statement: a command, then rows", "UPDATE t SET name = name WHERE false; SELECT 2 AS two"],
  ["multi-statement: rows, then an empty result", "SELECT g FROM generate_series(1, 3) g; SELECT 1 AS a WHERE false"],
  ["multi-statement: no columns anywhere", "SELECT FROM generate_series(1, 3); UPDATE t SET name = name WHERE false"],
  ["multi-statement: no columns, then rows", "SELECT FROM generate_series(1, 3); SELECT 5 AS five"],
  // (Both sides' connections and transactions are open at once: their writes must not wait for each other's locks.)
  ["command without rows", "INSERT INTO log (name) SELECT 'n' || g FROM generate_series(1, 5) g"],
  ["command returning rows", "INSERT INTO log (name) SELECT 'r' || g FROM generate_series(1, 3) g RETURNING name, length(name) AS len"],
  ["DDL", "CREATE TEMP TABLE IF NOT EXISTS scratch (a int)"],
  [
    "mixed types",
    `SELECT g AS i, g::int8 * 3000000000 AS big, (g / 7.0)::numeric(20, 10) AS num, g % 2 = 0 AS b,
            decode(lpad(to_hex(g), 4, '0'), 'hex') AS bin, json_build_object('g', g, 's', 'é') AS j,
            '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour' AS tz, '2024-02-29 12:00'::timestamp AS ts,
            '2024-02-29'::date AS d, interval '1 day' * g AS iv, ARRAY[g, NULL, -g] AS arr, point(g, -g) AS pt,
            md5(g::text)::uuid AS u, NULL::jsonb AS nj
       FROM generate_series(1, 50) g`,
  ],
  // Errors last (a failed statement aborts the transaction of the connection and transaction targets).
  ["error: missing named parameter", "SELECT :a::int AS a", {}],
  ["error: statement", "SELECT 1 / 0 AS x"],
];

describe("sync rows transport: the same answers as the async API", () => {
  test("each shape of result, with every query method, on the database, a connection and a transaction", async () => {
    await onEveryTarget(async (p) => {
      for (const [label, sql, params] of shapes) {
        const whole = (await agree(p, sql, params)) as object;
        assert.equal("error" in whole, label.startsWith("error:"), `${p.name}: ${label}: ${JSON.stringify(whole, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))}`);
      }
    });
  });

  test("commands report their row count and command; a statement that returns no rows gives [] and null", async () => {
    const whole = db.query("INSERT INTO t SELECT g, 'm' || g FROM generate_series(2000, 2009) g");
    assert.deepStrictEqual([whole.rows, whole.rowCount, whole.command, whole.fields], [[], 10, "INSERT", []]);
    assert.equal(db.fetchOne("DELETE FROM t WHERE id >= 2000 AND id < 2005"), null);
    assert.equal(db.fetchVal("DELETE FROM t WHERE id >= 2005 AND id < 2010"), null);
    assert.equal(await adb.fetchVal("SELECT count(*) FROM t WHERE id >= 2000"), 0n);
  });

  test("very wide rows: 1,200 columns of mixed types", async () => {
    const cols = Array.from({ length: 1200 }, (_, i) =>
      i % 4 === 0 ? `g + ${i} AS c${i}` : i % 4 === 1 ? `NULL AS c${i}` : i % 4 === 2 ? `'v${i}é' || g AS c${i}` : `(g * ${i})::float8 / 3 AS c${i}`,
    );
    const whole = (await agree({ name: "database", s: db as unknown as SyncQ, a: adb as unknown as AsyncQ }, `SELECT ${cols.join(", ")} FROM generate_series(1, 20) g`, undefined, ["execute", "query", "fetchOne"])) as {
      value: { rows: Record<string, unknown>[] };
    };
    assert.equal(whole.value.rows.length, 20);
    assert.equal(whole.value.rows[19]!["c1199"], (20 * 1199) / 3);
  });

  test("numbers decode exactly as the driver's parsers do: edge values and 20,000 random floats", async () => {
    const p = { name: "database", s: db as unknown as SyncQ, a: adb as unknown as AsyncQ };
    const floats = ["-0", "0", "NaN", "Infinity", "-Infinity", "1e-300", "5e-324", "1.7976931348623157e308", "0.1", "0.30000000000000004",
      "123456789012345", "1234567890123456", "9007199254740993", "1e22", "1e23", "0.000001", "1.5e-7", "-2.5", "100", "99999999999999.9"];
    await agree(p, `SELECT f::float8 AS d, f::float4 AS r FROM unnest($1::text[]) f`, [floats]);
    await agree(p, `SELECT (-32768)::int2 AS a, 32767::int2 AS b, (-2147483648)::int4 AS c, 2147483647 AS d, 0::oid AS e, 4294967295::oid AS f, -0::int AS g`);
    const random = `SELECT setseed(0.42); SELECT (random() * 10 ^ (g % 40 - 20))::float8 AS f, (random() * 1000)::float4 AS r,
                           ((random() - 0.5) * 4e9)::int8::int4 / 2 AS i, (random() * 4e9)::int8::oid AS o
                      FROM generate_series(1, 20000) g`;
    const whole = (await agree(p, random, undefined, ["query"])) as { value: { rows: unknown[] } };
    assert.equal(whole.value.rows.length, 20000);
  });
});

describe("sync rows transport: results larger than one chunk", () => {
  const big = "SELECT g AS id, g * 1.5::float8 AS val, 'label-' || g AS label, CASE WHEN g % 7 = 0 THEN NULL ELSE 'é' END AS e FROM generate_series(1, 60000) g";

  test("a 60,000-row result arrives in many chunks, identical to async", async () => {
    const want = await adb.execute(big);
    const { value: got, parts } = countingParts(() => db.execute(big));
    assert.ok(parts > 5, `only ${parts} chunk(s) were sent as parts`);
    assert.deepStrictEqual(got, want);
    assert.deepStrictEqual(db.fetchOne(big), await adb.fetchOne(big));
    assert.deepStrictEqual(plain(db.query(big)), plain(await adb.query(big)));
  });

  test("fetchOne and fetchVal of a large result send no rows but the first", () => {
    const one = countingParts(() => db.fetchOne(big));
    assert.deepStrictEqual([one.value, one.parts], [{ id: 1, val: 1.5, label: "label-1", e: "é" }, 0]);
    const val = countingParts(() => db.fetchVal(big));
    assert.deepStrictEqual([val.value, val.parts], [1, 0]);
  });

  test("chunk boundaries: full lengths arrays, values larger than a chunk, rows without columns", async () => {
    const p = { name: "database", s: db as unknown as SyncQ, a: adb as unknown as AsyncQ };
    const { firstChars, maxChars, maxValues } = chunkLimits;
    const cases = [
      `SELECT NULL::int AS n FROM generate_series(1, ${maxValues})`, // one full lengths array, sent: no tail
      `SELECT NULL::int AS n FROM generate_series(1, ${maxValues + 1})`, // and one more row, in the tail
      `SELECT NULL::int AS n FROM generate_series(1, ${maxValues * 8 + 1})`,
      `SELECT NULL::int AS a, NULL::text AS b, NULL::float8 AS c FROM generate_series(1, ${maxValues * 3})`, // rows across the limit
      `SELECT repeat('a', ${firstChars}) AS a`, // exactly the first chunk's text
      `SELECT repeat('a', ${firstChars} - g) AS a, g FROM generate_series(0, 2) g`,
      `SELECT repeat('b', ${maxChars} - 1) AS b UNION ALL SELECT repeat('c', ${maxChars}) UNION ALL SELECT 'd'`,
      "SELECT repeat('x', 300000) AS big, 1 AS after, repeat('é', 150000) AS big2",
      "SELECT g, repeat('é', g * 3000) AS t, g AS h FROM generate_series(1, 40) g",
      "SELECT FROM generate_series(1, 70000)",
      "SELECT g FROM generate_series(1, 100000) g; SELECT 'last' AS x", // a streamed statement, then superseded
    ];
    for (const sql of cases) await agree(p, sql, undefined, ["execute", "query", "fetchVal"]);
  });
});

describe("sync rows transport: errors", () => {
  test("a statement failing mid-stream gives the async error, and the next call its own answer", async () => {
    const sql = "SELECT 1 / (g - 40000) AS x, repeat('y', 20) AS y FROM generate_series(1, 60000) g";
    const want = await outcomeAsync(() => adb.execute(sql));
    const { value: got, parts } = countingParts(() => outcome(() => db.execute(sql)));
    assert.deepStrictEqual(got, want);
    assert.equal((want as { error: { cls: string; code: string } }).error.cls, "DivisionByZero");
    assert.equal((want as { error: { code: string } }).error.code, "22012");
    assert.ok(parts > 0, "the rows before the error were not streamed");
    assert.equal(db.fetchVal("SELECT 7"), 7);
  });

  test("a value failing to decode on the main thread: the async error; the rest is drained; the next calls are right", async () => {
    const sql = "SELECT g::numeric AS n, g AS i FROM generate_series(1, 150000) g";
    const original = typeParsers.getTypeParser;
    typeParsers.getTypeParser = (oid, format) => {
      if (oid !== 1700) return original(oid, format);
      return (v: string) => {
        if (v === "30000") throw new RangeError(`cannot decode ${v}`);
        return v;
      };
    };
    let seenAfterFailure = 0;
    const onPart = RowsReceiver.prototype.onPart;
    RowsReceiver.prototype.onPart = function (this: RowsReceiver, part: unknown) {
      if ((this as unknown as { failed: boolean }).failed) seenAfterFailure++;
      onPart.call(this, part);
    };
    let want: unknown;
    let got: unknown;
    try {
      want = await outcomeAsync(() => adb.execute(sql));
      got = outcome(() => db.execute(sql));
    } finally {
      typeParsers.getTypeParser = original;
      RowsReceiver.prototype.onPart = onPart;
    }
    assert.deepStrictEqual(got, want);
    assert.deepStrictEqual((want as { error: object }).error, {
      cls: "TscopgError", message: "cannot decode 30000", code: undefined, query: sql, detail: undefined, position: undefined,
    });
    assert.ok(seenAfterFailure > 0, "the parts after the failure were not taken");
    assert.deepStrictEqual(db.execute("SELECT g FROM generate_series(1, 3) g"), [{ g: 1 }, { g: 2 }, { g: 3 }]);
    assert.equal(db.execute(sql).length, 150000);
    assert.equal(db.fetchVal("SELECT 'after'"), "after");
  });
});

describe("sync rows transport: where statements run", () => {
  test("inside a sync transaction callback, the database's calls join it (ambient transaction)", async () => {
    assert.throws(() =>
      db.transaction((tx) => {
        tx.execute("INSERT INTO t VALUES (3001, 'in tx')");
        assert.deepStrictEqual(db.execute("SELECT id, name FROM t WHERE id = 3001"), [{ id: 3001, name: "in tx" }]);
        assert.equal(db.fetchVal("SELECT count(*) FROM t WHERE id = 3001"), 1n);
        throw new Error("roll back");
      }),
    );
    assert.equal(db.fetchVal("SELECT count(*) FROM t WHERE id = 3001"), 0n);
  });

  test("only Queryable's own methods use it: a cursor's execute, or an override, keeps the value transport", () => {
    class Logged extends AsyncDatabase {
      override execute<R extends object>(sql: string, params?: QueryParams | null): Promise<R[]> {
        return super.execute<R>(sql, params);
      }
    }
    assert.equal(surfaceOf(AsyncDatabase.prototype).methods.get("execute"), "rows");
    assert.equal(surfaceOf(AsyncDatabase.prototype).methods.get("fetchVal"), "rows");
    assert.equal(surfaceOf(Logged.prototype).methods.get("execute"), "value");
    assert.equal(surfaceOf(Logged.prototype).methods.get("query"), "rows");
    assert.equal(surfaceOf(AsyncCursor.prototype).methods.get("execute"), "value");
    using cur = db.cursor();
    assert.equal(cur.execute("SELECT g FROM generate_series(1, 3) g"), undefined);
    assert.deepStrictEqual([...cur], [{ g: 1 }, { g: 2 }, { g: 3 }]);
  });
});
