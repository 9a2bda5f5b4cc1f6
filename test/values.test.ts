/**
 * How every builtin type reads back, scalar and array, on the async API and on the synchronous facade (which
 * must return deepStrictEqual values), and that what is read back can be sent again as a parameter.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, Database, type QueryParams } from "../src/index.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

before(async () => {
  ctx = await createTestSchema("values");
  // Fixed output settings, so the server's text forms below do not depend on the server's configuration.
  const settings = { TimeZone: "UTC", DateStyle: "ISO, MDY", IntervalStyle: "postgres", lc_monetary: "C" };
  const config = ctx.config.with({ options: { ...ctx.config.options, ...settings } });
  adb = new AsyncDatabase(config);
  db = new Database(config);
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
});

const buf = (...bytes: number[]) => Buffer.from(bytes);
const utc = (iso: string) => new Date(iso);

/**
 * `[SQL expression, exact JS value, cast for the round trip]`. With a cast, the value read back is sent again as
 * `$1::<cast>` and must read back the same.
 */
type Case = readonly [sql: string, expected: unknown, roundTrip?: string];

const cases: Case[] = [
  // integers
  ["'-32768'::int2", -32768, "int2"],
  ["ARRAY[1, NULL, -32768]::int2[]", [1, null, -32768], "int2[]"],
  ["2147483647::int4", 2147483647, "int4"],
  ["'{{1,2},{3,NULL}}'::int4[]", [[1, 2], [3, null]], "int4[]"],
  ["'{{{1,2}},{{3,4}}}'::int4[]", [[[1, 2]], [[3, 4]]], "int4[]"],
  ["'[0:2]={7,8,9}'::int4[]", [7, 8, 9]],
  ["'{}'::int4[]", [], "int4[]"],
  ["NULL::int4[]", null],
  ["'9223372036854775807'::int8", 9223372036854775807n, "int8"],
  ["'-9223372036854775808'::int8", -9223372036854775808n, "int8"],
  ["ARRAY['-9223372036854775808', NULL, '9007199254740993']::int8[]", [-9223372036854775808n, null, 9007199254740993n], "int8[]"],
  ["'{{1,2},{3,4}}'::int8[]", [[1n, 2n], [3n, 4n]], "int8[]"],
  ["4294967295::oid", 4294967295, "oid"],
  ["ARRAY[4294967295, NULL]::oid[]", [4294967295, null], "oid[]"],
  // floating point
  ["'0.1'::float4", 0.1, "float4"],
  ["ARRAY['-0', 'NaN', 'Infinity', '-Infinity', NULL, '3.4028235e38']::float4[]", [-0, NaN, Infinity, -Infinity, null, 3.4028235e38], "float4[]"],
  ["'-0'::float8", -0, "float8"],
  ["'NaN'::float8", NaN, "float8"],
  ["'-Infinity'::float8", -Infinity, "float8"],
  ["'1.7976931348623157e308'::float8", 1.7976931348623157e308, "float8"],
  ["'{{1.5,-0},{NaN,NULL}}'::float8[]", [[1.5, -0], [NaN, null]], "float8[]"],
  // numeric: exact text, arrays included
  ["'123456789012345678901234567890.123456789'::numeric", "123456789012345678901234567890.123456789", "numeric"],
  ["12.50::numeric", "12.50", "numeric"],
  ["'NaN'::numeric", "NaN", "numeric"],
  ["'-Infinity'::numeric", "-Infinity", "numeric"],
  ["ARRAY[12345678901234567890.123456789]::numeric[]", ["12345678901234567890.123456789"], "numeric[]"],
  ["'{{1.10,NaN},{NULL,-2}}'::numeric[]", [["1.10", "NaN"], [null, "-2"]], "numeric[]"],
  ["ARRAY['123456789012345678901234567890', 'Infinity']::numeric[]", ["123456789012345678901234567890", "Infinity"], "numeric[]"],
  // money
  ["'1.5'::money", "$1.50", "money"],
  ["ARRAY['1.5'::money, '-1234.5', NULL]", ["$1.50", "-$1,234.50", null], "money[]"],
  // bool
  ["true", true, "bool"],
  ["ARRAY[true, false, NULL]", [true, false, null], "bool[]"],
  ["'{{t,f},{f,t}}'::bool[]", [[true, false], [false, true]], "bool[]"],
  // strings
  [String.raw`E'a "q" \\ {x,y} \n'::text`, 'a "q" \\ {x,y} \n', "text"],
  ["''::text", "", "text"],
  [String.raw`ARRAY['a b', NULL, 'NULL', '', E'q"uo\\te', '{x,y}', ' pad ', 'x;y']`, ["a b", null, "NULL", "", 'q"uo\\te', "{x,y}", " pad ", "x;y"], "text[]"],
  [`'{{a,"b c"},{NULL,"NULL"}}'::text[]`, [["a", "b c"], [null, "NULL"]], "text[]"],
  ["'héllo ☃'::varchar(10)", "héllo ☃", "varchar"],
  ["ARRAY['héllo'::varchar, NULL, '☃ ,']", ["héllo", null, "☃ ,"], "varchar[]"],
  ["'ab'::char(4)", "ab  ", "char(4)"],
  ["ARRAY['ab'::char(4), NULL]", ["ab  ", null], "char(4)[]"],
  [`'x'::"char"`, "x", `"char"`],
  [`ARRAY['x'::"char", NULL]`, ["x", null], `"char"[]`],
  ["'pg_class'::name", "pg_class", "name"],
  ["ARRAY['pg_class'::name, NULL, 'a b']", ["pg_class", null, "a b"], "name[]"],
  ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "uuid"],
  ["ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, NULL]", ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", null], "uuid[]"],
  // json
  [`'{"a":[1,"x",null],"b":{"c":true}}'::json`, { a: [1, "x", null], b: { c: true } }],
  [`'{"a":[1,"x",null],"b":{"c":true}}'::jsonb`, { a: [1, "x", null], b: { c: true } }, "jsonb"],
  [`'"s"'::jsonb`, "s"],
  [`ARRAY['{"a":1}'::json, '[1]', NULL]`, [{ a: 1 }, [1], null]],
  [`ARRAY['{"a":"x,y}"}'::jsonb, '[1]', '"s"', NULL]`, [{ a: "x,y}" }, [1], "s", null]],
  [`ARRAY['{"a":"x,y}"}'::jsonb, NULL]`, [{ a: "x,y}" }, null], "jsonb[]"],
  // bytea
  [String.raw`'\x00ff0000'::bytea`, buf(0, 255, 0, 0), "bytea"],
  [String.raw`'\x'::bytea`, buf(), "bytea"],
  [String.raw`ARRAY['\x0000'::bytea, NULL, '\x', '\x5c22']`, [buf(0, 0), null, buf(), buf(0x5c, 0x22)], "bytea[]"],
  // date: a calendar day as text
  ["'2024-02-29'::date", "2024-02-29", "date"],
  ["'0044-03-15 BC'::date", "0044-03-15 BC", "date"],
  ["'10000-01-01'::date", "10000-01-01", "date"],
  ["'infinity'::date", "infinity", "date"],
  ["ARRAY['2024-01-02'::date, '-infinity', NULL]", ["2024-01-02", "-infinity", null], "date[]"],
  // time, timetz, interval: the server's text
  ["'12:34:56.789'::time", "12:34:56.789", "time"],
  ["'24:00:00'::time", "24:00:00", "time"],
  ["ARRAY['12:34:56'::time, NULL]", ["12:34:56", null], "time[]"],
  ["'12:34:56+05:30'::timetz", "12:34:56+05:30", "timetz"],
  ["ARRAY['12:34:56+05:30'::timetz, NULL]", ["12:34:56+05:30", null], "timetz[]"],
  ["'1 day 2 hours'::interval", "1 day 02:00:00", "interval"],
  ["'-1 year -2 mons +3 days -04:05:06.789'::interval", "-1 years -2 mons +3 days -04:05:06.789", "interval"],
  ["'0'::interval", "00:00:00", "interval"],
  ["ARRAY['1 day'::interval, NULL, '-00:00:01']", ["1 day", null, "-00:00:01"], "interval[]"],
  // timestamp: UTC wall-clock Date; timestamptz: the instant
  ["'2024-02-29 12:34:56.789'::timestamp", utc("2024-02-29T12:34:56.789Z"), "timestamp"],
  ["'0044-03-15 12:00:00 BC'::timestamp", utc("-000043-03-15T12:00:00Z"), "timestamp"],
  ["'0001-01-01 00:00:00 BC'::timestamp", utc("0000-01-01T00:00:00Z"), "timestamp"],
  ["'12345-06-07 08:09:10'::timestamp", utc("+012345-06-07T08:09:10Z"), "timestamp"],
  ["'infinity'::timestamp", "infinity", "timestamp"],
  ["'-infinity'::timestamp", "-infinity", "timestamp"],
  ["ARRAY['2020-01-01 00:00:00'::timestamp, 'infinity', NULL, '0001-01-01 00:00:00 BC']", [utc("2020-01-01T00:00:00Z"), "infinity", null, utc("0000-01-01T00:00:00Z")], "timestamp[]"],
  ["'2024-02-29 12:34:56.789+02'::timestamptz", utc("2024-02-29T10:34:56.789Z"), "timestamptz"],
  ["'2024-01-01 00:00:00.123456+00'::timestamptz", utc("2024-01-01T00:00:00.123Z")],
  ["'0044-03-15 12:00:00+00 BC'::timestamptz", utc("-000043-03-15T12:00:00Z"), "timestamptz"],
  ["'12345-06-07 08:09:10+00'::timestamptz", utc("+012345-06-07T08:09:10Z"), "timestamptz"],
  ["'infinity'::timestamptz", "infinity", "timestamptz"],
  ["'-infinity'::timestamptz", "-infinity", "timestamptz"],
  ["'{{\"2020-01-01 00:00:00+00\",infinity},{NULL,-infinity}}'::timestamptz[]", [[utc("2020-01-01T00:00:00Z"), "infinity"], [null, "-infinity"]], "timestamptz[]"],
  // network
  ["'192.168.0.1/24'::inet", "192.168.0.1/24", "inet"],
  ["ARRAY['::1'::inet, NULL, '10.0.0.1']", ["::1", null, "10.0.0.1"], "inet[]"],
  ["'10.0.0.0/8'::cidr", "10.0.0.0/8", "cidr"],
  ["ARRAY['10.0.0.0/8'::cidr, NULL]", ["10.0.0.0/8", null], "cidr[]"],
  ["'08:00:2b:01:02:03'::macaddr", "08:00:2b:01:02:03", "macaddr"],
  ["ARRAY['08:00:2b:01:02:03'::macaddr, NULL]", ["08:00:2b:01:02:03", null], "macaddr[]"],
  ["'08:00:2b:01:02:03:04:05'::macaddr8", "08:00:2b:01:02:03:04:05", "macaddr8"],
  ["ARRAY['08:00:2b:01:02:03:04:05'::macaddr8, NULL]", ["08:00:2b:01:02:03:04:05", null], "macaddr8[]"],
  // geometric: the server's text
  ["'(1.5,-2)'::point", "(1.5,-2)", "point"],
  ["ARRAY['(1,2)'::point, NULL]", ["(1,2)", null], "point[]"],
  ["'{1,-1,0}'::line", "{1,-1,0}", "line"],
  ["ARRAY['{1,-1,0}'::line, NULL]", ["{1,-1,0}", null], "line[]"],
  ["'[(0,0),(1,1)]'::lseg", "[(0,0),(1,1)]", "lseg"],
  ["ARRAY['[(0,0),(1,1)]'::lseg]", ["[(0,0),(1,1)]"], "lseg[]"],
  ["'(1,1),(0,0)'::box", "(1,1),(0,0)", "box"],
  ["ARRAY['(1,2),(0,0)'::box, NULL, '(3,3),(1,1)']", ["(1,2),(0,0)", null, "(3,3),(1,1)"]],
  ["'[(0,0),(1,1),(2,0)]'::path", "[(0,0),(1,1),(2,0)]", "path"],
  ["ARRAY['((0,0),(1,1))'::path]", ["((0,0),(1,1))"], "path[]"],
  ["'((0,0),(1,1),(1,0))'::polygon", "((0,0),(1,1),(1,0))", "polygon"],
  ["ARRAY['((0,0),(1,1),(1,0))'::polygon]", ["((0,0),(1,1),(1,0))"], "polygon[]"],
  ["'<(1,2),3>'::circle", "<(1,2),3>", "circle"],
  ["ARRAY['<(1,2),3>'::circle, NULL]", ["<(1,2),3>", null], "circle[]"],
  // ranges and multiranges: the server's text
  ["int4range(1, 10)", "[1,10)", "int4range"],
  ["'[1,10]'::int8range", "[1,11)", "int8range"],
  ["'empty'::int4range", "empty", "int4range"],
  ["'(1.5,2.5]'::numrange", "(1.5,2.5]", "numrange"],
  [`'["2020-01-01 00:00","2020-01-02 00:00")'::tsrange`, `["2020-01-01 00:00:00","2020-01-02 00:00:00")`, "tsrange"],
  [`'["2020-01-01 00:00+00",infinity)'::tstzrange`, `["2020-01-01 00:00:00+00",infinity)`, "tstzrange"],
  ["'[2020-01-01,2020-01-05)'::daterange", "[2020-01-01,2020-01-05)", "daterange"],
  ["ARRAY['[1,2)'::int4range, 'empty', NULL]", ["[1,2)", "empty", null], "int4range[]"],
  ["ARRAY['[1,2)'::int8range]", ["[1,2)"], "int8range[]"],
  ["ARRAY['(1.5,2.5]'::numrange]", ["(1.5,2.5]"], "numrange[]"],
  [`ARRAY['["2020-01-01 00:00","2020-01-02 00:00")'::tsrange]`, [`["2020-01-01 00:00:00","2020-01-02 00:00:00")`], "tsrange[]"],
  [`ARRAY['["2020-01-01 00:00+00",)'::tstzrange, NULL]`, [`["2020-01-01 00:00:00+00",)`, null], "tstzrange[]"],
  ["ARRAY['[2020-01-01,2020-01-05)'::daterange]", ["[2020-01-01,2020-01-05)"], "daterange[]"],
  ["'{[1,3),[5,7)}'::int4multirange", "{[1,3),[5,7)}", "int4multirange"],
  ["ARRAY['{[1,3),[5,7)}'::int4multirange, NULL]", ["{[1,3),[5,7)}", null], "int4multirange[]"],
  // others: the server's text
  ["B'101'", "101", "bit(3)"],
  ["ARRAY[B'101'::varbit, NULL]", ["101", null], "varbit[]"],
  ["'<a>1</a>'::xml", "<a>1</a>"],
  ["'a b:1'::tsvector", "'a' 'b':1", "tsvector"],
  ["ARRAY['pg_class'::regclass, NULL]", ["pg_class", null], "regclass[]"],
  ["'0/16B3748'::pg_lsn", "0/16B3748", "pg_lsn"],
  ["ARRAY['0/16B3748'::pg_lsn]", ["0/16B3748"], "pg_lsn[]"],
  ["ROW(1, 'a b')", '(1,"a b")'],
  ["ARRAY[ROW(1, 'a b'), NULL]", ['(1,"a b")', null]],
  ["NULL::numeric", null],
];

/** Reads `sql` on both APIs, checks they agree exactly, and returns the async value. */
async function readBoth(sql: string, params?: QueryParams): Promise<unknown> {
  const fromAsync = await adb.fetchVal(sql, params);
  const fromSync = db.fetchVal(sql, params);
  assert.deepStrictEqual(fromSync, fromAsync, `sync and async differ for ${sql}`);
  return fromAsync;
}

/** Checks every result node is a primitive, a plain array/object, a Date or a Buffer (no class instances). */
function assertPlain(v: unknown, where: string): void {
  if (v === null || typeof v !== "object" || v instanceof Date || Buffer.isBuffer(v)) return;
  const proto = Object.getPrototypeOf(v) as unknown;
  assert.ok(proto === Array.prototype || proto === Object.prototype, `${where}: a ${String((v as object).constructor?.name)} instance`);
  for (const x of Object.values(v)) assertPlain(x, where);
}

describe("values", () => {
  test("every type reads back as documented, scalar and array, identically on sync and async", async () => {
    const failures: string[] = [];
    for (const [expr, expected] of cases) {
      try {
        const got = await readBoth(`SELECT ${expr} AS v`);
        assert.deepStrictEqual(got, expected);
        assertPlain(got, expr);
      } catch (e) {
        failures.push(`${expr}: ${(e as Error).message.split("\n").slice(0, 8).join("\n  ")}`);
      }
    }
    assert.deepStrictEqual(failures, [], `${failures.length} of ${cases.length} cases fail:\n${failures.join("\n")}`);
  });

  test("a value read back and sent again as a parameter reads back the same", async () => {
    const failures: string[] = [];
    for (const [expr, expected, cast] of cases) {
      if (!cast) continue;
      try {
        assert.deepStrictEqual(await readBoth(`SELECT $1::${cast} AS v`, [expected]), expected);
        assert.deepStrictEqual(await readBoth(`SELECT :v::${cast} AS v`, { v: expected }), expected);
      } catch (e) {
        failures.push(`${expr} as ${cast}: ${(e as Error).message.split("\n").slice(0, 8).join("\n  ")}`);
      }
    }
    assert.deepStrictEqual(failures, [], `${failures.length} round trips fail:\n${failures.join("\n")}`);
  });

  test("an untyped parameter is text: cast it to get another type", async () => {
    assert.equal(await readBoth("SELECT $1 AS v", [1]), "1");
    assert.equal(await readBoth("SELECT $1::int AS v", [1]), 1);
    assert.equal(await adb.fetchVal("SELECT :v AS v", { v: 1 }), "1");
    assert.equal(db.fetchVal("SELECT :v::int AS v", { v: 1 }), 1);
  });

  test("the process-wide pg.types registry is left alone (a plain pg client still gets pg's defaults)", async () => {
    assert.deepEqual(await adb.fetchVal("SELECT '{1.5}'::numeric[]"), ["1.5"]);
    const [row] = await rawQuery<{ n: unknown; p: unknown }>("SELECT '{1.5}'::numeric[] AS n, point(1, 2) AS p");
    assert.deepEqual(row, { n: [1.5], p: { x: 1, y: 2 } });
  });

  test("the same values arrive as rows of a table, in every column", async () => {
    await adb.execute(`CREATE TABLE vals (n numeric[], i interval, p point, t timestamptz, b bytea[], z float8)`);
    await adb.execute("INSERT INTO vals VALUES ($1, $2, $3, $4, $5, $6)", [
      ["12345678901234567890.123456789", null],
      "1 day 02:00:00",
      "(1,2)",
      "infinity",
      [buf(0, 0, 1), null],
      -0,
    ]);
    const expected = [{ n: ["12345678901234567890.123456789", null], i: "1 day 02:00:00", p: "(1,2)", t: "infinity", b: [buf(0, 0, 1), null], z: -0 }];
    assert.deepStrictEqual(await adb.execute("SELECT * FROM vals"), expected);
    assert.deepStrictEqual(db.execute("SELECT * FROM vals"), expected);
  });
});
