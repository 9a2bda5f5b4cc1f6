/**
 * The `onQuery` hook of database handles: one event per statement (and per executeMany batch), on the handle and
 * on its transactions and connections; the same events on the async and the sync side; parameters only when asked
 * for; a hook that throws never breaks the statement.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, AsyncPooledDatabase, Database, ParameterError, PooledDatabase, type QueryEvent } from "../src/index.js";
import { createTestSchema, serverUrl, type TestSchema } from "./support/db.js";
import { runNode } from "./support/node-child.js";

let ctx: TestSchema;
const asyncEvents: QueryEvent[] = [];
const syncEvents: QueryEvent[] = [];
let adb: AsyncDatabase;
let db: Database;

before(async () => {
  ctx = await createTestSchema("qhooks");
  adb = new AsyncDatabase(ctx.config, { onQuery: (e) => asyncEvents.push(e) });
  db = new Database(ctx.config, { onQuery: (e) => syncEvents.push(e) });
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
});

/** An event as compared across sides: its duration checked and dropped, its error as class and message. */
function comparable(e: QueryEvent): Record<string, unknown> {
  assert.equal(typeof e.durationMs, "number");
  assert.ok(e.durationMs > 0 && e.durationMs < 60_000, `durationMs ${e.durationMs}`);
  const { durationMs: _, error, ...rest } = e;
  return error === undefined ? rest : { ...rest, error: `${error.constructor.name}: ${error.message}` };
}

/** The events `run` caused, taken from `events`. */
async function eventsOf(events: QueryEvent[], run: () => unknown): Promise<Record<string, unknown>[]> {
  events.length = 0;
  await run();
  return events.splice(0).map(comparable);
}

describe("onQuery", () => {
  test("the same events on both sides, for every statement path", async () => {
    await adb.execute("CREATE TABLE IF NOT EXISTS hk (k int PRIMARY KEY)");
    const mine = await eventsOf(asyncEvents, async () => {
      await adb.execute("TRUNCATE hk");
      await adb.fetchVal("SELECT 1");
      await adb.execute("SELECT $1::int AS a", [2]);
      await adb.query("SELECT :x::text AS b", { x: "y" });
      await adb.fetchOne("INSERT INTO hk VALUES (1), (2) RETURNING k");
      await adb.fetchAll("UPDATE hk SET k = k + 10");
      await adb.executeMany("INSERT INTO hk VALUES ($1)", [[3], [4], [5]]);
      await adb.executeMany("INSERT INTO hk VALUES ($1)", [[6], [7], [8]], { chunkSize: 2 });
      await adb.execute("SELECT nope").catch(() => undefined);
      await adb.execute("SELECT $1::int", []).catch(() => undefined);
      await adb.execute("SELECT 6", null, { timeout: 5000 });
      await adb.tableExists("hk");
      await adb.transaction(async (tx) => {
        await tx.execute("SELECT 3");
        await adb.execute("SELECT 'ambient'");
        await tx.transaction((sp) => sp.execute("SELECT 4"));
      });
      await adb.connect(async (conn) => {
        await conn.execute("SELECT 5");
        await conn.executeMany("INSERT INTO hk VALUES ($1)", [[9]]);
      });
      await adb.execute("INSERT INTO hk VALUES (11)").catch(() => undefined);
    });
    const theirs = await eventsOf(syncEvents, () => {
      db.execute("TRUNCATE hk");
      db.fetchVal("SELECT 1");
      db.execute("SELECT $1::int AS a", [2]);
      db.query("SELECT :x::text AS b", { x: "y" });
      db.fetchOne("INSERT INTO hk VALUES (1), (2) RETURNING k");
      db.fetchAll("UPDATE hk SET k = k + 10");
      db.executeMany("INSERT INTO hk VALUES ($1)", [[3], [4], [5]]);
      db.executeMany("INSERT INTO hk VALUES ($1)", [[6], [7], [8]], { chunkSize: 2 });
      assert.throws(() => db.execute("SELECT nope"));
      assert.throws(() => db.execute("SELECT $1::int", []));
      db.execute("SELECT 6", null, { timeout: 5000 });
      db.tableExists("hk");
      db.transaction((tx) => {
        tx.execute("SELECT 3");
        db.execute("SELECT 'ambient'");
        tx.transaction((sp) => sp.execute("SELECT 4"));
      });
      db.connect((conn) => {
        conn.execute("SELECT 5");
        conn.executeMany("INSERT INTO hk VALUES ($1)", [[9]]);
      });
      assert.throws(() => db.execute("INSERT INTO hk VALUES (11)"));
    });
    assert.deepEqual(theirs, mine);
    const at = (sql: string) => mine.find((e) => e.sql === sql);
    assert.deepEqual(at("TRUNCATE hk"), { sql: "TRUNCATE hk", rowCount: null, command: "TRUNCATE" });
    assert.deepEqual(at("SELECT 1"), { sql: "SELECT 1", rowCount: 1, command: "SELECT" });
    assert.deepEqual(at("INSERT INTO hk VALUES (1), (2) RETURNING k"), { sql: "INSERT INTO hk VALUES (1), (2) RETURNING k", rowCount: 2, command: "INSERT" });
    assert.deepEqual(at("UPDATE hk SET k = k + 10"), { sql: "UPDATE hk SET k = k + 10", rowCount: 2, command: "UPDATE" });
    assert.deepEqual(
      mine.filter((e) => e.sql === "INSERT INTO hk VALUES ($1)"),
      [
        { sql: "INSERT INTO hk VALUES ($1)", rowCount: 3, command: null, batch: 3 },
        { sql: "INSERT INTO hk VALUES ($1)", rowCount: 2, command: null, batch: 2 },
        { sql: "INSERT INTO hk VALUES ($1)", rowCount: 1, command: null, batch: 1 },
        { sql: "INSERT INTO hk VALUES ($1)", rowCount: 1, command: null, batch: 1 },
      ],
    );
    assert.deepEqual(at("SELECT nope"), { sql: "SELECT nope", rowCount: null, command: null, error: 'UndefinedColumn: column "nope" does not exist' });
    assert.match(String(at("SELECT $1::int")?.error), /^ParameterError: /);
    assert.match(String(at("INSERT INTO hk VALUES (11)")?.error), /^UniqueViolation: /);
    // Statements of transactions, savepoints, the ambient transaction and connections; none of tscopg's own
    // BEGIN/COMMIT/SAVEPOINT; feature methods through their statements.
    for (const sql of ["SELECT 3", "SELECT 'ambient'", "SELECT 4", "SELECT 5", "SELECT 6"]) assert.ok(at(sql), sql);
    assert.ok(mine.some((e) => /pg_class/i.test(String(e.sql))), "tableExists's statement");
    assert.ok(!mine.some((e) => /^(BEGIN|COMMIT|SAVEPOINT|RELEASE)/i.test(String(e.sql))));
  });

  test("the parameters with onQueryParams only, as sent, the same on both sides", async () => {
    const seen: QueryEvent[][] = [[], []];
    await using a = new AsyncDatabase(ctx.config, { onQuery: (e) => seen[0]!.push(e), onQueryParams: true });
    using s = new Database(ctx.config, { onQuery: (e) => seen[1]!.push(e), onQueryParams: true });
    const params = [5n, new Date(0), "x", null, { j: 1 }];
    const sql = "SELECT $1::int8, $2::timestamptz, $3::text, $4::int, $5::jsonb";
    await a.execute(sql, params);
    await a.fetchVal("SELECT :n::int", { n: 1 });
    await a.executeMany("SELECT $1::int", [[1], [2]]);
    s.execute(sql, params);
    s.fetchVal("SELECT :n::int", { n: 1 });
    s.executeMany("SELECT $1::int", [[1], [2]]);
    const [ae, se] = seen.map((events) => events.map(comparable));
    assert.deepEqual(se, ae);
    assert.deepEqual(ae![0]!.params, ["5", "1970-01-01T00:00:00.000Z", "x", null, '{"j":1}']);
    assert.deepEqual(ae![1]!.params, [1]);
    assert.deepEqual(ae![2]!.params, [[1], [2]]);
    // Without the option: no params at all.
    assert.ok(!asyncEvents.some((e) => "params" in e) && !syncEvents.some((e) => "params" in e));
  });

  test("retried transactions and pools report like any handle", async () => {
    const events: QueryEvent[] = [];
    await using pool = new AsyncPooledDatabase(ctx.config, { onQuery: (e) => events.push(e) });
    let calls = 0;
    await pool.transaction(
      async (tx) => {
        if (++calls === 1) await tx.execute("DO $$ BEGIN RAISE EXCEPTION 'c' USING ERRCODE = 'serialization_failure'; END $$");
        await tx.execute("SELECT 'second'");
      },
      { retry: { attempts: 2, baseDelay: 1 } },
    );
    assert.deepEqual(
      events.map((e) => [e.sql.slice(0, 9), e.error?.constructor.name]),
      [
        ["DO $$ BEG", "SerializationFailure"],
        ["SELECT 's", undefined],
      ],
    );
    const pooled: QueryEvent[] = [];
    using spool = PooledDatabase.fromUrl(serverUrl(), { onQuery: (e) => pooled.push(e) }); // a factory: hooks in statics too
    assert.equal(spool.fetchVal("SELECT 7"), 7);
    assert.deepEqual(pooled.map(comparable), [{ sql: "SELECT 7", rowCount: 1, command: "SELECT" }]);
  });

  test("a hook option of the wrong kind is refused", () => {
    assert.throws(() => new AsyncDatabase(ctx.config, { onQuery: "log" as never }), ParameterError);
    assert.throws(() => new Database(ctx.config, { onQuery: "log" as never }), ParameterError);
    assert.throws(() => new AsyncDatabase(ctx.config, { onQuery: () => {}, onQueryParams: 1 as never }), /onQueryParams must be a boolean/);
  });

  test("a hook that throws does not break the statement: its error is rethrown on its own", async () => {
    const script = `
      import { AsyncDatabase, Database } from "./src/index.ts";
      const caught = [];
      process.on("uncaughtException", (e) => caught.push(e.message));
      const url = process.env.DATABASE_URL;
      const adb = new AsyncDatabase(url, { onQuery: (e) => { throw new Error("hook " + e.sql); } });
      const adb2 = new AsyncDatabase(url, { onQuery: async (e) => { throw new Error("async hook " + e.sql); } });
      const db = new Database(url, { onQuery: (e) => { throw new Error("sync hook " + e.sql); } });
      const values = [await adb.fetchVal("SELECT 1"), await adb2.fetchVal("SELECT 2"), db.fetchVal("SELECT 3")];
      let failed;
      try { db.execute("SELECT nope"); } catch (e) { failed = e.constructor.name; }
      await new Promise((r) => setTimeout(r, 50));
      await adb.close(); await adb2.close(); db.close();
      console.log(JSON.stringify({ values, failed, caught: caught.sort() }));`;
    const r = await runNode(["--import", "tsx", "--input-type=module", "-e", script]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), {
      values: [1, 2, 3],
      failed: "UndefinedColumn",
      caught: ["async hook SELECT 2", "hook SELECT 1", "sync hook SELECT 3", "sync hook SELECT nope"],
    });
  });
});
