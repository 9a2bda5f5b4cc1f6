/**
 * Maintenance (`db.maint`): vacuum, analyze, explain. Statement builders without a server; every method against
 * the real server, its effect read back from the catalog or the statistics views, async and sync alike, inside
 * transactions where that matters; errors before anything is sent.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, Config, Database, InvalidIdentifier, ParameterError, TableNotFound } from "../src/index.js";
import { checkOneStatement, planLines } from "../src/features/explain-plan.js";
import { analyzeStatement, explainPrefix, vacuumStatement } from "../src/features/maintenance.js";
import { target } from "../src/features/target.js";
import { createTestSchema, rawQuery, serverUrl, type TestSchema } from "./support/db.js";
import { errorOf, eventually, refusedBeforeSending, sameError } from "./support/both-sides.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
let S: string;

before(async () => {
  ctx = await createTestSchema("maint");
  S = ctx.schema;
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
  await adb.execute(`CREATE TABLE "Order" (id int PRIMARY KEY, "user" text, note text);
    INSERT INTO "Order" SELECT g, 'u' || g, repeat('x', 200) FROM generate_series(1, 2000) g;
    ANALYZE "Order";`);
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
});

interface TableStats {
  vacuum_count: number;
  analyze_count: number;
  last_vacuum: Date | null;
  last_analyze: Date | null;
}
/** The table's row of pg_stat_user_tables, read from outside the library. */
async function stats(table: string, schema = S, url = serverUrl()): Promise<TableStats> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query(
      `SELECT vacuum_count::int, analyze_count::int, last_vacuum, last_analyze FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2`,
      [schema, table],
    );
    return r.rows[0] as TableStats;
  } finally {
    await client.end();
  }
}

describe("statement builders", () => {
  const t = target("vacuum", "Order", "s");
  test("vacuum", () => {
    assert.equal(vacuumStatement(t, { analyze: true, full: false }).text, `VACUUM (ANALYZE) "s"."Order"`);
    assert.equal(vacuumStatement(t, { analyze: true, full: true }).text, `VACUUM (FULL, ANALYZE) "s"."Order"`);
    assert.equal(vacuumStatement(t, { analyze: false, full: false }).text, `VACUUM "s"."Order"`);
    assert.equal(vacuumStatement(undefined, { analyze: false, full: true }).text, "VACUUM (FULL)");
    assert.equal(vacuumStatement(undefined, { analyze: false, full: false }).text, "VACUUM");
  });
  test("analyze", () => {
    assert.equal(analyzeStatement(target("analyze", "x.user")).text, `ANALYZE "x"."user"`);
    assert.equal(analyzeStatement(undefined).text, "ANALYZE");
  });
  test("explain prefix: the format from the list, options as words", () => {
    assert.equal(explainPrefix({ format: "TEXT", analyze: false, verbose: false, buffers: false }).text, "EXPLAIN (FORMAT TEXT)");
    assert.equal(explainPrefix({ format: "JSON", analyze: true, verbose: true, buffers: true }).text, "EXPLAIN (FORMAT JSON, ANALYZE, VERBOSE, BUFFERS)");
    assert.throws(() => explainPrefix({ format: "JSON) ; DROP TABLE x; --" as never, analyze: false, verbose: false, buffers: false }), InvalidIdentifier);
  });
  test("one statement: a `;` may only end it", () => {
    for (const ok of [
      "SELECT 1",
      "SELECT 1;",
      "SELECT 1 ;  ;\n -- done\n /* really; */",
      "SELECT ';', \"a;b\" FROM t",
      "SELECT $$;$$, $tag$ ; $x$ ; $tag$",
      "SELECT E'\\'; DROP TABLE x; --'",
      "-- a; b\nSELECT 1",
      "SELECT /* ; /* nested ; */ ; */ 1",
      "SELECT a$1 FROM t WHERE b = $1",
    ]) {
      assert.doesNotThrow(() => checkOneStatement("explain", ok), ok);
    }
    for (const bad of ["SELECT 1; SELECT 2", "SELECT 1;;DELETE FROM t", "SELECT ';'; DELETE FROM t", "SELECT 'a\\'; DELETE FROM t; --'"]) {
      assert.throws(() => checkOneStatement("explain", bad), ParameterError, bad);
    }
    assert.throws(() => checkOneStatement("explain", 42), ParameterError);
  });
  test("plan lines", () => {
    assert.deepEqual(planLines("TEXT", ["a", "  b"]), { lines: ["a", "  b"], plan: null });
    assert.deepEqual(planLines("YAML", ["- Plan: \n    x: 1"]), { lines: ["- Plan: ", "    x: 1"], plan: null });
    const plan = [{ Plan: { "Node Type": "Result" } }];
    assert.deepEqual(planLines("JSON", [plan]), { lines: JSON.stringify(plan, null, 2).split("\n"), plan });
  });
});

describe("vacuum", () => {
  test("vacuum a table: pg_stat_user_tables counts it (and its analyze); async and sync; flat and namespaced", async () => {
    await adb.execute("CREATE TABLE vac (id int); INSERT INTO vac SELECT generate_series(1, 100); DELETE FROM vac WHERE id <= 50");
    const before0 = await stats("vac");
    await adb.maint.vacuum({ table: "vac", schema: S });
    const after1 = await eventually(() => stats("vac"), (s) => s.vacuum_count === before0.vacuum_count + 1, "vacuum_count after async vacuum");
    assert.ok(after1.last_vacuum instanceof Date);
    assert.equal(after1.analyze_count, before0.analyze_count + 1, "analyze defaults to true");
    db.vacuum({ table: `${S}.vac`, analyze: false });
    const after2 = await eventually(() => stats("vac"), (s) => s.vacuum_count === before0.vacuum_count + 2, "vacuum_count after sync vacuum");
    assert.equal(after2.analyze_count, after1.analyze_count, "analyze: false does not analyze");
    db.maint.vacuum({ table: "vac", schema: S });
    await adb.vacuum({ table: "vac", schema: S, analyze: false });
    await eventually(() => stats("vac"), (s) => s.vacuum_count === before0.vacuum_count + 4, "vacuum_count after four vacuums");
  });

  test("vacuum full rewrites the table (a new relfilenode) and keeps its rows", async () => {
    await adb.execute(`CREATE TABLE "Full" (id int); INSERT INTO "Full" SELECT generate_series(1, 1000); DELETE FROM "Full" WHERE id > 10`);
    const node = async () => (await rawQuery<{ f: string }>(`SELECT relfilenode::text AS f FROM pg_class WHERE oid = '"${S}"."Full"'::regclass`))[0]!.f;
    const n0 = await node();
    const size0 = (await adb.tableSize("Full", { schema: S, pretty: false })) as bigint;
    await adb.vacuum({ table: "Full", schema: S, full: true });
    const n1 = await node();
    assert.notEqual(n1, n0);
    assert.ok(((await adb.tableSize("Full", { schema: S, pretty: false })) as bigint) < size0, "the space is given back");
    db.maint.vacuum({ table: "Full", schema: S, full: true, analyze: false });
    assert.notEqual(await node(), n1);
    assert.equal(await adb.count("Full", null, { schema: S }), 10);
  });

  test("inside a transaction, vacuum runs on a session of its own: not undone by the rollback, blind to the transaction's tables", async () => {
    await adb.execute("CREATE TABLE vac_tx (id int)");
    const s0 = await stats("vac_tx");
    await adb.transaction(async (tx) => {
      await tx.maint.vacuum({ table: "vac_tx", schema: S });
      await adb.vacuum({ table: "vac_tx", schema: S }); // the database's own method, called inside the callback
      await tx.execute("CREATE TABLE vac_new (id int)");
      // The transaction holds vac_new's lock (it created it): VACUUM on its own session would wait for it forever.
      const e = await errorOf(() => tx.vacuum({ table: "vac_new", schema: S }));
      assert.ok(e instanceof ParameterError, e.message);
      assert.match(e.message, /holds AccessExclusiveLock on table .*"vac_new"/);
      // So would VACUUM FULL, after anything at all; both refused before sending: the transaction goes on.
      const f = await errorOf(() => adb.vacuum({ table: "vac_tx", schema: S, full: true }));
      assert.ok(f instanceof ParameterError && /full cannot be used inside a transaction/.test(f.message), f.message);
      assert.equal(await tx.fetchVal("SELECT count(*)::int FROM vac_new"), 0);
      await tx.rollback();
    });
    await eventually(() => stats("vac_tx"), (s) => s.vacuum_count === s0.vacuum_count + 2, "vacuum_count after the rolled-back transaction");
    assert.throws(
      () =>
        db.transaction((tx) => {
          tx.vacuum({ table: "vac_tx", schema: S });
          throw new Error("roll back");
        }),
      /roll back/,
    );
    await eventually(() => stats("vac_tx"), (s) => s.vacuum_count === s0.vacuum_count + 3, "vacuum_count after the sync transaction");
  });

  test("inside a transaction that altered the table, vacuum is refused before sending (it would wait for the transaction forever)", async () => {
    await adb.execute("CREATE TABLE vac_ddl (id int)");
    const messages: string[] = [];
    await adb.transaction(async (tx) => {
      await tx.execute("ALTER TABLE vac_ddl ADD COLUMN note text");
      const e = await errorOf(() => tx.vacuum({ table: "vac_ddl", schema: S }));
      assert.ok(e instanceof ParameterError, e.message);
      messages.push(e.message);
      const whole = await errorOf(() => tx.vacuum());
      assert.ok(whole instanceof ParameterError && /a table of the database/.test(whole.message), whole.message);
      assert.deepEqual(await tx.listColumns("vac_ddl", { schema: S }), ["id", "note"], "the transaction goes on");
      await tx.rollback();
    });
    assert.throws(
      () =>
        db.transaction((tx) => {
          tx.execute("ALTER TABLE vac_ddl ADD COLUMN note text");
          tx.maint.vacuum({ table: "vac_ddl", schema: S });
        }),
      (e: unknown) => e instanceof ParameterError && e.message === messages[0],
    );
    assert.deepEqual(await adb.listColumns("vac_ddl", { schema: S }), ["id"], "both rolled back");
  });

  test("vacuum and analyze of the whole database (in a database of this test's own)", async () => {
    const name = `tscopg_maint_${randomBytes(4).toString("hex")}`;
    await rawQuery(`CREATE DATABASE ${name}`);
    const config = Config.fromUrl(serverUrl()).with({ database: name });
    const own = new AsyncDatabase(config);
    const ownSync = new Database(config);
    const url = (() => {
      const u = new URL(serverUrl());
      u.pathname = `/${name}`;
      return u.toString();
    })();
    try {
      await own.execute("CREATE TABLE a (id int); INSERT INTO a SELECT generate_series(1, 300); CREATE TABLE b (id int)");
      await own.vacuum({ analyze: false });
      await eventually(() => Promise.all([stats("a", "public", url), stats("b", "public", url)]), ([a, b]) => a.vacuum_count === 1 && b.vacuum_count === 1, "both vacuumed");
      assert.equal((await stats("a", "public", url)).analyze_count, 0);
      ownSync.maint.analyze();
      await eventually(() => stats("a", "public", url), (a) => a.analyze_count === 1, "analyzed");
      assert.equal(await own.fetchVal("SELECT reltuples::int FROM pg_class WHERE relname = 'a'"), 300);
      ownSync.vacuum();
      await eventually(() => stats("b", "public", url), (b) => b.vacuum_count === 2, "vacuumed again (sync)");
    } finally {
      ownSync.close();
      await own.close();
      await rawQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });

  test("vacuum errors: missing table, schema without table, bad options and names, nothing sent", async () => {
    const e = (await sameError(() => adb.vacuum({ table: "nope", schema: S }), () => db.vacuum({ table: "nope", schema: S }), TableNotFound, /does not exist/)) as TableNotFound;
    assert.deepEqual([e.schema, e.table], [S, "nope"]);
    await refusedBeforeSending(ctx.config, [
      [(q) => q.vacuum({ schema: S }), ParameterError, /schema option needs the table option/],
      [(q) => q.vacuum({ table: "a;b" }), InvalidIdentifier, /invalid table name/],
      [(q) => q.vacuum({ table: "t", schema: "s s" }), InvalidIdentifier, /invalid schema name/],
      [(q) => q.vacuum({ table: "t", full: 1 } as never), ParameterError, /full must be a boolean/],
      [(q) => q.vacuum({ tabel: "t" } as never), ParameterError, /unknown option "tabel"/],
      [(q) => q.maint.analyze({ schema: S }), ParameterError, /schema option needs the table option/],
      [(q) => q.analyze({ table: "x.y.z" }), InvalidIdentifier, /at most one dot/],
      [(q) => q.analyze({ table: "t", verbose: true } as never), ParameterError, /unknown option "verbose"/],
    ], (q) => q.analyze({ table: "Order", schema: S }));
  });
});

describe("analyze", () => {
  test("analyze a table: reltuples and last_analyze, async and sync", async () => {
    await adb.execute(`CREATE TABLE "Stats" (id int); INSERT INTO "Stats" SELECT generate_series(1, 1234)`);
    const reltuples = async () => (await rawQuery<{ n: number }>(`SELECT reltuples::float8 AS n FROM pg_class WHERE oid = '"${S}"."Stats"'::regclass`))[0]!.n;
    assert.equal(await reltuples(), -1, "never analyzed");
    await adb.maint.analyze({ table: "Stats", schema: S });
    assert.equal(await reltuples(), 1234);
    const a1 = await eventually(() => stats("Stats"), (s) => s.analyze_count === 1, "analyze_count");
    assert.ok(a1.last_analyze instanceof Date);
    await adb.execute(`INSERT INTO "Stats" SELECT generate_series(1, 100)`);
    db.analyze({ table: `${S}.Stats` });
    assert.equal(await reltuples(), 1334);
    await eventually(() => stats("Stats"), (s) => s.analyze_count === 2, "analyze_count (sync)");
  });

  test("inside a transaction, analyze joins it: its statistics are seen there only, and rolled back", async () => {
    await adb.execute("CREATE TABLE stats_tx (id int, v text); INSERT INTO stats_tx SELECT g, 'v' || (g % 7) FROM generate_series(1, 500) g");
    const seen = async (q: { fetchVal: AsyncDatabase["fetchVal"] }) =>
      Number(await q.fetchVal("SELECT count(*) FROM pg_stats WHERE schemaname = $1 AND tablename = 'stats_tx'", [S]));
    const outside = async () => Number((await rawQuery<{ n: string }>("SELECT count(*)::text AS n FROM pg_stats WHERE schemaname = $1 AND tablename = 'stats_tx'", [S]))[0]!.n);
    await adb.transaction(async (tx) => {
      await tx.analyze({ table: "stats_tx", schema: S });
      assert.equal(await seen(tx), 2, "two columns' statistics, inside");
      assert.equal(await outside(), 0, "not committed");
      await tx.rollback();
    });
    assert.equal(await outside(), 0, "rolled back");
    assert.throws(
      () =>
        db.transaction((tx) => {
          tx.maint.analyze({ table: "stats_tx", schema: S });
          assert.equal(Number(tx.fetchVal("SELECT count(*) FROM pg_stats WHERE schemaname = $1 AND tablename = 'stats_tx'", [S])), 2);
          throw new Error("roll back");
        }),
      /roll back/,
    );
    assert.equal(await outside(), 0, "rolled back (sync)");
    await adb.analyze({ table: "stats_tx", schema: S });
    assert.equal(await outside(), 2, "committed");
  });

  test("analyze of a missing table is TableNotFound, and a transaction survives it", async () => {
    const e = (await sameError(() => adb.analyze({ table: "nope", schema: S }), () => db.analyze({ table: "nope", schema: S }), TableNotFound, /does not exist/)) as TableNotFound;
    assert.deepEqual([e.schema, e.table], [S, "nope"]);
    await adb.transaction(async (tx) => {
      await assert.rejects(tx.analyze({ table: "nope", schema: S }), TableNotFound);
      assert.equal(await tx.fetchVal("SELECT 1"), 1, "checked before sending: the transaction is not aborted");
    });
  });
});

describe("explain", () => {
  test("text: the server's plan lines; params as execute takes them", async () => {
    const want = (await rawQuery<{ "QUERY PLAN": string }>(`EXPLAIN (FORMAT TEXT) SELECT * FROM "${S}"."Order" WHERE id = $1`, [7])).map((r) => r["QUERY PLAN"]);
    assert.match(want[0]!, /Index Scan using "Order_pkey"/);
    const q = `SELECT * FROM "${S}"."Order" WHERE id = $1`;
    assert.deepEqual(await adb.maint.explain(q, [7]), { lines: want, plan: null });
    assert.deepEqual(db.explain(q, [7]), { lines: want, plan: null });
    assert.deepEqual(await adb.explain(`SELECT * FROM "Order" WHERE id = :id`, { id: 7 }, { format: "text" }), { lines: want, plan: null });
    const all = await adb.explain(`SELECT * FROM "Order"`);
    assert.match(all.lines[0]!, /^Seq Scan on "Order"/);
  });

  test("json: the parsed plan and its lines; analyze adds actual rows and times", async () => {
    const r = await adb.explain(`SELECT * FROM "Order" WHERE id < $1`, [100], { format: "JSON", analyze: true });
    assert.ok(Array.isArray(r.plan) && r.plan.length === 1);
    const p = r.plan[0]!;
    assert.equal(p.Plan["Relation Name"], "Order");
    assert.equal(p.Plan["Actual Rows"], 99);
    assert.equal(typeof p["Execution Time"], "number");
    assert.deepEqual(JSON.parse(r.lines.join("\n")), r.plan);
    const s = db.maint.explain(`SELECT * FROM "Order" WHERE id < $1`, [100], { format: "json" });
    assert.equal(s.plan![0]!.Plan["Relation Name"], "Order");
    assert.equal(s.plan![0]!.Plan["Actual Rows"], undefined, "no analyze");
    const v = await adb.explain(`SELECT id FROM "Order"`, null, { format: "json", verbose: true });
    assert.deepEqual(v.plan![0]!.Plan.Output, ["id"]);
    const b = await adb.explain(`SELECT id FROM "Order"`, null, { analyze: true, buffers: true });
    assert.ok(b.lines.some((l) => /Buffers: shared hit/.test(l)), b.lines.join("\n"));
  });

  test("xml and yaml: the document's lines", async () => {
    const x = await adb.explain("SELECT 1", null, { format: "xml" });
    assert.match(x.lines[0]!, /^<explain xmlns=/);
    assert.ok(x.lines.length > 3);
    assert.equal(x.plan, null);
    const y = db.explain("SELECT 1", [], { format: "Yaml" });
    assert.deepEqual(y.lines.slice(0, 2), ["- Plan: ", '    Node Type: "Result"']);
  });

  test("analyze executes the statement: inside a transaction it joins it and rolls back with it", async () => {
    await adb.execute("CREATE TABLE ex (id int)");
    await adb.transaction(async (tx) => {
      const r = await tx.explain("INSERT INTO ex VALUES ($1)", [1], { analyze: true });
      assert.match(r.lines[0]!, /^Insert on ex/);
      assert.equal(await tx.count("ex", null, { schema: S }), 1);
      assert.equal(await adb.count("ex", null, { schema: S }), 1, "the database's methods join the transaction too");
      await tx.rollback();
    });
    assert.equal(await adb.count("ex", null, { schema: S }), 0);
    await adb.explain("INSERT INTO ex VALUES (2)", null, { analyze: true });
    assert.equal((await rawQuery(`SELECT id FROM "${S}".ex`)).length, 1, "outside a transaction it commits");
    await adb.explain("INSERT INTO ex VALUES (3)");
    assert.equal(await adb.count("ex", null, { schema: S }), 1, "without analyze nothing runs");
    db.transaction((tx) => {
      tx.explain("DELETE FROM ex", null, { analyze: true });
      assert.equal(tx.count("ex", null, { schema: S }), 0);
      tx.rollback();
    });
    assert.equal(db.count("ex", null, { schema: S }), 1);
  });

  test("explain errors: format, options, several statements, params, the server's own", async () => {
    await refusedBeforeSending(ctx.config, [
      [(q) => q.explain("SELECT 1", null, { format: "html" }), InvalidIdentifier, /invalid EXPLAIN format "html": expected one of TEXT, JSON, XML, YAML/],
      [(q) => q.explain("SELECT 1", null, { format: "json) SELECT 1; --" }), InvalidIdentifier, /invalid EXPLAIN format/],
      [(q) => q.maint.explain("SELECT 1", null, { analyse: true } as never), ParameterError, /unknown option "analyse"/],
      [(q) => q.explain("SELECT 1", null, { analyze: "yes" } as never), ParameterError, /analyze must be a boolean/],
      [(q) => q.explain("SELECT 1; DROP TABLE x"), ParameterError, /takes one statement/],
      [(q) => q.explain(42 as never), ParameterError, /SQL text must be a string/],
      [(q) => q.explain("SELECT $1, $2", [1]), ParameterError, /uses 2 positional parameters/],
      [(q) => q.explain("SELECT :a", { b: 1 }), ParameterError, /missing named parameter :a/],
    ], (q) => q.explain("SELECT 1"));
    const { SyntaxError: PgSyntaxError } = await import("../src/index.js");
    await sameError(() => adb.explain("VACUUM"), () => db.explain("VACUUM"), PgSyntaxError, /syntax error/);
    await sameError(() => adb.explain("SELECT * FROM nope"), () => db.explain("SELECT * FROM nope"), TableNotFound, /"nope" does not exist/);
  });
});
