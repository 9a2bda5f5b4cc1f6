/**
 * Parity: every feature of the registry is called four ways — async flat, async through its namespace, sync flat,
 * sync through its namespace (flat-only features: flat twice per side, and they are in no namespace; async-only
 * features such as `listen`: the two async ways only, and asserted absent on the sync side) — and the four
 * answers agree (read-only features give equal values) or each call's effect is read back from the server
 * (features that change something get their own object per call). The case table must cover every feature.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { AsyncDatabase, Database } from "../src/index.js";
import { asyncOnlyFeatures, featureFunctions, featureNamespaces } from "../src/features/registry.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
let S: string;
/** A second schema, for the constraint cases' tables. */
let K: string;
let adb: AsyncDatabase;
let db: Database;
/** Listens on the notify case's channel (each call's check reads its one notification). */
let notes: AsyncIterator<{ payload: string }>;
/** A throwaway database for the extension features (extensions are database-wide). */
let extDb: string;
let adbExt: AsyncDatabase;
let dbExt: Database;
const P = `par_${randomBytes(3).toString("hex")}_`;
const ROLE = `${P}member`;

type Call = (name: string, args: unknown[]) => Promise<unknown>;
type Fn = (...a: unknown[]) => unknown;

const nsOf = new Map<string, string>();
for (const [ns, names] of featureNamespaces) for (const n of names) nsOf.set(n, ns);

/** The four ways to call a feature on a pair of handles: [label, call]. */
function ways(a: AsyncDatabase, s: Database): [string, Call][] {
  const flat = (h: object) => (name: string) => (h as Record<string, Fn>)[name]!.bind(h);
  const viaNs = (h: object) => (name: string) => {
    const ns = nsOf.get(name);
    return ns === undefined ? flat(h)(name) : ((h as Record<string, Record<string, Fn>>)[ns]![name] as Fn);
  };
  return [
    ["async flat", async (n, args) => await flat(a)(n)(...args)],
    ["async namespace", async (n, args) => await viaNs(a)(n)(...args)],
    ["sync flat", async (n, args) => flat(s)(n)(...args)],
    ["sync namespace", async (n, args) => viaNs(s)(n)(...args)],
  ];
}

interface Case {
  name: string;
  /** The arguments of call `i` (0–3); features that change something get their own object per call. */
  args: (i: number) => unknown[];
  /** Checks call `i`'s answer (and its effect, read back from the server). */
  check?: (value: unknown, i: number) => void | Promise<void>;
  /** Whether the four answers must be equal when the four calls have the same arguments (default: true). */
  same?: boolean;
  /** Run on the extension database's handles. */
  ext?: boolean;
}

/** The items of an async or sync iterator. */
async function drain(it: unknown): Promise<unknown[]> {
  const out: unknown[] = [];
  if (Symbol.asyncIterator in (it as object)) for await (const x of it as AsyncIterable<unknown>) out.push(x);
  else for (const x of it as Iterable<unknown>) out.push(x);
  return out;
}

/** The notifications of an iterator a call returned (async on the async side, sync on the sync side). */
async function payloads(v: unknown): Promise<string[]> {
  return ((await drain(v)) as { payload: string }[]).map((n) => n.payload);
}

/** The channel of the parity cases of the LISTEN/NOTIFY features. */
const CH = `${P}ch`;

const rows = <R extends Record<string, unknown>>(sql: string, values?: unknown[]) => rawQuery<R>(sql, values);
const one = async (sql: string, values?: unknown[]) => Object.values((await rows(sql, values))[0] ?? {})[0];

function cases(): Case[] {
  const inS = { schema: S };
  return [
    // Databases and extensions
    { name: "listDatabases", args: () => [], check: (v) => assert.ok((v as string[]).includes("postgres")), same: false },
    { name: "databaseExists", args: () => ["postgres"], check: (v) => assert.equal(v, true) },
    { name: "createDatabase", args: (i) => [`${P}db${i}`], check: async (_v, i) => assert.equal(await one("SELECT count(*)::int FROM pg_database WHERE datname = $1", [`${P}db${i}`]), 1) },
    { name: "dropDatabase", args: (i) => [`${P}db${i}`], check: async (_v, i) => assert.equal(await one("SELECT count(*)::int FROM pg_database WHERE datname = $1", [`${P}db${i}`]), 0) },
    { name: "createExtension", ext: true, args: (i) => [["hstore", "pgcrypto", "citext", "pg_trgm"][i], { schema: "public" }], check: async (_v, i) => assert.equal(await adbExt.hasExtension(["hstore", "pgcrypto", "citext", "pg_trgm"][i]!), true) },
    { name: "listExtensions", ext: true, args: () => [], check: (v) => assert.deepEqual((v as { name: string }[]).map((e) => e.name), ["citext", "hstore", "pg_trgm", "pgcrypto", "plpgsql"]) },
    { name: "hasExtension", ext: true, args: () => ["pgcrypto"], check: (v) => assert.equal(v, true) },
    { name: "dropExtension", ext: true, args: (i) => [["hstore", "pgcrypto", "citext", "pg_trgm"][i]], check: async (_v, i) => assert.equal(await adbExt.hasExtension(["hstore", "pgcrypto", "citext", "pg_trgm"][i]!), false) },
    // Schemas and tables
    { name: "listSchemas", args: () => [], check: (v) => assert.ok((v as string[]).includes(S)), same: false },
    { name: "schemaExists", args: () => [S], check: (v) => assert.equal(v, true) },
    { name: "createSchema", args: (i) => [`${P}s${i}`], check: async (_v, i) => assert.equal(await one("SELECT count(*)::int FROM pg_namespace WHERE nspname = $1", [`${P}s${i}`]), 1) },
    { name: "dropSchema", args: (i) => [`${P}s${i}`], check: async (_v, i) => assert.equal(await one("SELECT count(*)::int FROM pg_namespace WHERE nspname = $1", [`${P}s${i}`]), 0) },
    { name: "listTables", args: () => [inS], check: (v) => assert.deepEqual(v, ["Order", "items", "trunc0", "trunc1", "trunc2", "trunc3"]) },
    { name: "tableExists", args: () => ["order_view", inS], check: (v) => assert.equal(v, true) },
    { name: "tableInfo", args: () => ["Order", inS], check: (v) => assert.deepEqual((v as { name: string; dataType: string }[]).map((c) => [c.name, c.dataType]), [["id", "integer"], ["user", "text"], ["n", "integer"]]) },
    { name: "listColumns", args: () => ["Order", inS], check: (v) => assert.deepEqual(v, ["id", "user", "n"]) },
    { name: "columnsWithTypes", args: () => [`${S}.items`], check: (v) => assert.deepEqual(v, [["id", "integer"], ["order_id", "integer"], ["note", "character varying(20)"]]) },
    { name: "rowCount", args: () => ["items", inS], check: (v) => assert.equal(v, 2) },
    { name: "truncateTable", args: (i) => [`trunc${i}`, inS], check: async (_v, i) => assert.equal(await one(`SELECT count(*)::int FROM "${S}".trunc${i}`), 0) },
    { name: "dropTable", args: (i) => [`trunc${i}`, inS], check: async (_v, i) => assert.equal(await one("SELECT to_regclass($1) IS NULL", [`"${S}".trunc${i}`]), true) },
    // Indexes, constraints, introspection (the constraint cases work on tables of schema K)
    { name: "createIndex", args: (i) => ["Order", ["n"], { ...inS, name: `ix${i}` }], check: async (v, i) => { assert.equal(v, `ix${i}`); assert.equal(await one("SELECT to_regclass($1) IS NOT NULL", [`"${S}".ix${i}`]), true); } },
    { name: "listIndexes", args: () => ["Order", inS], check: (v) => assert.deepEqual((v as { name: string; columns: string[] }[]).map((x) => [x.name, x.columns]), [["Order_pkey", ["id"]], ["ix0", ["n"]], ["ix1", ["n"]], ["ix2", ["n"]], ["ix3", ["n"]]]) },
    { name: "dropIndex", args: (i) => [`ix${i}`, inS], check: async (_v, i) => assert.equal(await one("SELECT to_regclass($1) IS NULL", [`"${S}".ix${i}`]), true) },
    { name: "addPrimaryKey", args: (i) => [`k${i}`, ["id"], { schema: K }], check: async (v, i) => { assert.equal(v, `k${i}_pkey`); assert.equal(await one("SELECT contype FROM pg_constraint WHERE conname = $1 AND connamespace = $2::regnamespace", [`k${i}_pkey`, K]), "p"); } },
    { name: "addUniqueConstraint", args: (i) => [`k${i}`, ["code"], { schema: K }], check: async (v, i) => assert.equal(await one("SELECT contype FROM pg_constraint WHERE conname = $1 AND connamespace = $2::regnamespace", [v, K]), "u") },
    { name: "addForeignKey", args: (i) => [`${K}.k${i}`, ["order_id"], `${S}.Order`, ["id"], { onDelete: "cascade" }], check: async (v, i) => assert.deepEqual((await rows("SELECT contype, confdeltype FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass", [v, `"${K}".k${i}`]))[0], { contype: "f", confdeltype: "c" }) },
    { name: "listConstraints", args: () => ["k0", { schema: K }], check: (v) => assert.deepEqual((v as { type: string; columns: string[] }[]).map((c) => [c.type, c.columns]).sort(), [["foreign key", ["order_id"]], ["primary key", ["id"]], ["unique", ["code"]]]) },
    { name: "primaryKey", args: () => ["Order", inS], check: (v) => assert.deepEqual(v, { name: "Order_pkey", columns: ["id"] }) },
    { name: "foreignKeys", args: () => ["items", inS], check: (v) => assert.deepEqual((v as { columns: string[]; refTable: string; refColumns: string[] }[]).map((f) => [f.columns, f.refTable, f.refColumns]), [[["order_id"], "Order", ["id"]]]) },
    { name: "sequences", args: () => [inS], check: (v) => assert.deepEqual(v, ["items_id_seq"]) },
    { name: "views", args: () => [inS], check: (v) => assert.deepEqual(v, ["order_view"]) },
    { name: "describe", args: () => ["items", inS], check: (v) => { const d = v as { rowCount: number; columns: unknown[]; primaryKey: { columns: string[] }; foreignKeys: unknown[] }; assert.deepEqual([d.rowCount, d.columns.length, d.primaryKey.columns, d.foreignKeys.length], [2, 3, ["id"], 1]); }, same: false },
    // Roles and grants
    { name: "createRole", args: (i) => [`${P}r${i}`, { login: false }], check: async (v, i) => { assert.equal(v, true); assert.equal(await one("SELECT count(*)::int FROM pg_roles WHERE rolname = $1", [`${P}r${i}`]), 1); } },
    { name: "roleExists", args: (i) => [`${P}r${i}`], check: (v) => assert.equal(v, true) },
    { name: "alterRole", args: (i) => [`${P}r${i}`, { createdb: true, connectionLimit: i }], check: async (_v, i) => assert.deepEqual((await rows("SELECT rolcreatedb, rolconnlimit FROM pg_roles WHERE rolname = $1", [`${P}r${i}`]))[0], { rolcreatedb: true, rolconnlimit: i }) },
    { name: "listRoles", args: () => [], check: (v) => assert.ok((v as { name: string }[]).some((r) => r.name === `${P}r0`)), same: false },
    { name: "grantRole", args: (i) => [ROLE, `${P}r${i}`], check: async (_v, i) => assert.equal(await one("SELECT pg_has_role($1, $2, 'MEMBER')", [`${P}r${i}`, ROLE]), true) },
    { name: "listRoleMembers", args: () => [ROLE], check: (v) => assert.deepEqual(v, [0, 1, 2, 3].map((i) => `${P}r${i}`)) },
    { name: "revokeRole", args: (i) => [ROLE, `${P}r${i}`], check: async (_v, i) => assert.equal(await one("SELECT pg_has_role($1, $2, 'MEMBER')", [`${P}r${i}`, ROLE]), false) },
    { name: "grant", args: (i) => ["SELECT", "Order", `${P}r${i}`, inS], check: async (_v, i) => assert.equal(await one("SELECT has_table_privilege($1, $2, 'SELECT')", [`${P}r${i}`, `"${S}"."Order"`]), true) },
    { name: "listRoleGrants", args: (i) => [`${P}r${i}`], check: (v) => assert.deepEqual((v as { name: string; privilege: string }[]).map((g) => [g.name, g.privilege]), [["Order", "SELECT"]]) },
    { name: "revoke", args: (i) => ["SELECT", "Order", `${P}r${i}`, inS], check: async (_v, i) => assert.equal(await one("SELECT has_table_privilege($1, $2, 'SELECT')", [`${P}r${i}`, `"${S}"."Order"`]), false) },
    { name: "dropRole", args: (i) => [`${P}r${i}`], check: async (_v, i) => assert.equal(await one("SELECT count(*)::int FROM pg_roles WHERE rolname = $1", [`${P}r${i}`]), 0) },
    // Sizes and maintenance
    { name: "size", args: () => [{ pretty: false }], check: (v) => assert.equal(typeof v, "bigint"), same: false },
    { name: "tableSize", args: () => ["Order", { ...inS, pretty: false }], check: async (v) => assert.equal(v, BigInt((await one(`SELECT pg_total_relation_size('"${S}"."Order"')::text`)) as string)) },
    { name: "tableSizes", args: () => [inS], check: (v) => assert.deepEqual((v as { table: string }[]).map((t) => t.table).sort(), ["Order", "items"]) },
    { name: "analyze", args: () => [{ table: "items", schema: S }], check: async () => assert.equal(await one("SELECT reltuples::int FROM pg_class WHERE oid = $1::regclass", [`"${S}".items`]), 2) },
    { name: "vacuum", args: () => [{ table: "items", schema: S }], check: (v) => assert.equal(v, undefined) },
    { name: "explain", args: () => ['SELECT * FROM "Order" WHERE id = $1', [1], { format: "json" }], check: (v) => assert.equal((v as { plan: { Plan: { "Relation Name": string } }[] }).plan[0]!.Plan["Relation Name"], "Order") },
    // Streaming (flat only): the answer is an iterator, drained by the check
    { name: "stream", args: () => ['SELECT id, "user" FROM "Order" WHERE id >= $1 ORDER BY id', [1], { batchSize: 1 }], same: false, check: async (v) => assert.deepEqual(await drain(v), [{ id: 1, user: "ada" }, { id: 2, user: "grace" }]) },
    // CRUD (flat only)
    { name: "upsert", args: (i) => ["Order", { id: 10 + i, user: `u${i}`, n: i }, ["id"], inS], check: (v, i) => assert.deepEqual(v, { id: 10 + i, user: `u${i}`, n: i }), same: false },
    { name: "updateWhere", args: (i) => ["Order", { n: 100 + i }, { id: 10 + i }, inS], check: async (v, i) => { assert.equal(v, 1); assert.equal(await one(`SELECT n FROM "${S}"."Order" WHERE id = $1`, [10 + i]), 100 + i); } },
    { name: "exists", args: (i) => ["Order", { id: 10 + i, n: 100 + i }, inS], check: (v) => assert.equal(v, true), same: false },
    { name: "count", args: () => ["Order", { user: ["u0", "u1", "u2", "u3"] }, inS], check: (v) => assert.equal(v, 4) },
    { name: "paginate", args: () => ["Order", { limit: 2, offset: 1, orderBy: "id", descending: true, schema: S }], check: (v) => assert.deepEqual((v as { id: number }[]).map((r) => r.id), [12, 11]) },
    { name: "deleteWhere", args: (i) => ["Order", { id: 10 + i }, inS], check: async (v, i) => { assert.equal(v, 1); assert.equal(await one(`SELECT count(*)::int FROM "${S}"."Order" WHERE id = $1`, [10 + i]), 0); } },
    // Bulk insert and upsert (flat only), on a table of schema K: each call its own keys, 100 + 10i …
    { name: "insertMany", args: (i) => ["bulk", [{ k: 100 + 10 * i, v: "a" }, { k: 101 + 10 * i }], { schema: K, returning: ["k", "v"] }], check: (v, i) => assert.deepEqual(v, [{ k: 100 + 10 * i, v: "a" }, { k: 101 + 10 * i, v: null }]), same: false },
    { name: "upsertMany", args: (i) => ["bulk", [{ k: 100 + 10 * i, v: `u${i}` }, { k: 102 + 10 * i, v: "n" }], "k", { schema: K }], check: async (v, i) => { assert.equal(v, 2); assert.deepEqual(await rows(`SELECT k, v FROM "${K}".bulk WHERE k BETWEEN $1 AND $1 + 2 ORDER BY k`, [100 + 10 * i]), [{ k: 100 + 10 * i, v: `u${i}` }, { k: 101 + 10 * i, v: null }, { k: 102 + 10 * i, v: "n" }]); } },
    { name: "insertBatch", args: (i) => ["bulk", (function* () { for (let k = 3; k < 8; k++) yield { k: 100 + 10 * i + k, v: String(k) }; })(), { schema: K, batchSize: 2 }], check: async (v, i) => { assert.equal(v, 5); assert.equal(await one(`SELECT count(*)::int FROM "${K}".bulk WHERE k BETWEEN $1 AND $1 + 9`, [100 + 10 * i]), 8); } },
    // COPY (flat only; the table is in K, whose tables no listing case counts)
    { name: "copyInsert", args: (i) => ["copy_t", [{ id: i * 10 + 1, v: "a\tb\\c" }, { id: i * 10 + 2, v: null }], { schema: K }], check: async (v, i) => { assert.equal(v, 2); assert.deepEqual(await rows(`SELECT * FROM "${K}".copy_t WHERE id / 10 = $1 ORDER BY id`, [i]), [{ id: i * 10 + 1, v: "a\tb\\c" }, { id: i * 10 + 2, v: null }]); } },
    { name: "copyFrom", args: (i) => [`COPY "${K}".copy_t (id, v) FROM STDIN (FORMAT csv)`, `${100 + i},"x,y"\n`], check: async (v, i) => { assert.equal(v, 1); assert.equal(await one(`SELECT v FROM "${K}".copy_t WHERE id = $1`, [100 + i]), "x,y"); } },
    { name: "copyTo", args: () => [`COPY (SELECT 1 AS a, E'x\\ty' AS b) TO STDOUT`], same: false, check: async (v) => { let text = ""; for await (const c of v as AsyncIterable<Uint8Array>) text += Buffer.from(c).toString(); assert.equal(text, "1\tx\\ty\n"); } },
    // LISTEN/NOTIFY (flat only; listen is async only: called the two async ways, and absent on the sync side)
    { name: "notify", args: (i) => [CH, { i }], check: async (v, i) => {
      assert.equal(v, undefined);
      assert.equal((await notes.next()).value?.payload, JSON.stringify({ i }));
    } },
    { name: "notifies", args: () => [`${CH}2`, { stopAfter: 1, timeout: 10_000 }], same: false, check: async (v, i) => {
      await rawQuery("SELECT pg_notify($1, $2)", [`${CH}2`, `n${i}`]); // LISTEN ran before notifies() returned
      assert.deepEqual(await payloads(v), [`n${i}`]);
    } },
    { name: "listen", args: () => [`${CH}3`], same: false, check: async (v, i) => {
      const listener = v as AsyncIterableIterator<{ payload: string }> & { ready: Promise<void> };
      await listener.ready;
      await rawQuery("SELECT pg_notify($1, $2)", [`${CH}3`, `l${i}`]);
      const first = await listener.next();
      await listener.return!();
      assert.equal(first.value!.payload, `l${i}`);
    } },
  ];
}

before(async () => {
  ctx = await createTestSchema("parity");
  S = ctx.schema;
  await rawQuery(`SET search_path = "${S}";
    CREATE TABLE "Order" (id int PRIMARY KEY, "user" text, n int);
    CREATE TABLE items (id serial PRIMARY KEY, order_id int REFERENCES "Order" (id), note varchar(20));
    INSERT INTO "Order" VALUES (1, 'ada', 1), (2, 'grace', 2);
    INSERT INTO items (order_id, note) VALUES (1, 'a'), (2, 'b');
    CREATE VIEW order_view AS SELECT * FROM "Order";
    CREATE TABLE trunc0 (x int); CREATE TABLE trunc1 (x int); CREATE TABLE trunc2 (x int); CREATE TABLE trunc3 (x int);
    INSERT INTO trunc0 VALUES (1); INSERT INTO trunc1 VALUES (1); INSERT INTO trunc2 VALUES (1); INSERT INTO trunc3 VALUES (1);
    CREATE ROLE "${ROLE}" NOLOGIN`);
  K = `${P}k`;
  await rawQuery(`CREATE SCHEMA "${K}"; SET search_path = "${K}";
    CREATE TABLE k0 (id int NOT NULL, code text, order_id int); CREATE TABLE k1 (id int NOT NULL, code text, order_id int);
    CREATE TABLE k2 (id int NOT NULL, code text, order_id int); CREATE TABLE k3 (id int NOT NULL, code text, order_id int);
    CREATE TABLE bulk (k int PRIMARY KEY, v text);
    CREATE TABLE copy_t (id int PRIMARY KEY, v text)`);
  extDb = `${P}ext`;
  await rawQuery(`CREATE DATABASE "${extDb}"`);
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
  adbExt = new AsyncDatabase(ctx.config.withDatabase(extDb));
  dbExt = new Database(ctx.config.withDatabase(extDb));
  notes = await adb.notifies(CH, { timeout: 10_000 });
});

after(async () => {
  await notes?.return?.();
  db?.close();
  dbExt?.close();
  await adb?.close();
  await adbExt?.close();
  await rawQuery(`DROP DATABASE IF EXISTS "${extDb}" WITH (FORCE)`);
  for (let i = 0; i < 4; i++) {
    await rawQuery(`DROP DATABASE IF EXISTS "${P}db${i}"`);
    await rawQuery(`DROP SCHEMA IF EXISTS "${P}s${i}" CASCADE`);
  }
  await rawQuery(`DROP SCHEMA IF EXISTS "${K}" CASCADE`);
  await ctx?.drop(); // before the roles: its objects carry their grants
  for (let i = 0; i < 4; i++) await rawQuery(`DROP ROLE IF EXISTS "${P}r${i}"`);
  await rawQuery(`DROP ROLE IF EXISTS "${ROLE}"`);
});

describe("parity of every feature: flat and namespace, async and sync", () => {
  test("the case table covers every registered feature, once", () => {
    const names = cases().map((c) => c.name);
    assert.equal(new Set(names).size, names.length, "a feature is listed twice");
    assert.deepEqual([...featureFunctions.keys()].filter((n) => !names.includes(n)), [], "features without a parity case");
  });

  test("flat-only features are in no namespace; namespaced ones are reachable on every handle", () => {
    for (const name of featureFunctions.keys()) {
      const ns = nsOf.get(name);
      if (asyncOnlyFeatures.has(name)) {
        assert.equal(typeof (adb as unknown as Record<string, unknown>)[name], "function", name);
        assert.ok(!(name in db) && !(name in Database.prototype), `${name} is async only: absent from the sync Database`);
        continue;
      }
      for (const h of [adb, db]) {
        if (ns === undefined) assert.ok(!featureNamespaces.has(name) && typeof (h as unknown as Record<string, unknown>)[name] === "function", name);
        else assert.equal(typeof (h as unknown as Record<string, Record<string, unknown>>)[ns]![name], "function", `${ns}.${name}`);
      }
    }
  });

  test("each feature, called four ways, answers alike and does what it says", async () => {
    for (const c of cases()) {
      const answers: unknown[] = [];
      const [a, s] = c.ext ? [adbExt, dbExt] : [adb, db];
      // An async-only feature is called the two async ways only.
      for (const [i, [label, call]] of ways(a, s).slice(0, asyncOnlyFeatures.has(c.name) ? 2 : 4).entries()) {
        let value: unknown;
        try {
          value = await call(c.name, c.args(i));
        } catch (err) {
          assert.fail(`${c.name} (${label}): ${(err as Error).constructor.name}: ${(err as Error).message}`);
        }
        answers.push(value);
        try {
          await c.check?.(value, i);
        } catch (err) {
          (err as Error).message = `${c.name} (${label}): ${(err as Error).message}`;
          throw err;
        }
      }
      // Calls with the same arguments give the same answer (calls on objects of their own are checked one by one).
      const sameArgs = [1, 2, 3].slice(0, answers.length - 1).every((i) => isDeepStrictEqual(c.args(i), c.args(0)));
      if (c.same !== false && sameArgs) for (let i = 1; i < answers.length; i++) assert.deepStrictEqual(answers[i], answers[0], `${c.name}: call ${i} differs from call 0`);
    }
  });
});
