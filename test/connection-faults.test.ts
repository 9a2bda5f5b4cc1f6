/**
 * Bounded and healthy connections: the idle cache, the bound on dedicated connections, transaction control on
 * the shared connection under concurrency, and what a connection killed by the server reports.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, ConnectionError, Database, PoolTimeout, TscopgError } from "../src/index.js";
import { createTestSchema, rawQuery, sessionsNamed, type TestSchema } from "./support/db.js";

let ctx: TestSchema;

before(async () => {
  ctx = await createTestSchema("connfault");
});

after(async () => {
  await ctx?.drop();
});

/** A handle whose sessions carry their own application_name, so they can be counted on the server. */
function handle(label: string, options: ConstructorParameters<typeof AsyncDatabase>[1] = {}): { db: AsyncDatabase; name: string } {
  const name = `${ctx.schema}_${label}`;
  return { db: new AsyncDatabase(ctx.config.with({ applicationName: name }), options), name };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("dedicated connections are bounded", () => {
  test("the idle cache keeps at most maxIdle connections when many transactions end at once", async () => {
    const { db, name } = handle("idle", { maxIdle: 2, maxConnections: 40 });
    try {
      await Promise.all(Array.from({ length: 40 }, (_, i) => db.transaction((tx) => tx.fetchVal("SELECT $1::int", [i]))));
      await sleep(100);
      assert.equal(await sessionsNamed(name), 2);
      assert.equal(db.connectionCount, 2);
    } finally {
      await db.close();
    }
  });

  test("150 concurrent transactions run through at most maxConnections server sessions, all of them succeeding", async () => {
    const { db, name } = handle("bound", { maxConnections: 4 });
    try {
      const seen = await Promise.all(
        Array.from({ length: 150 }, (_, i) =>
          db.transaction(async (tx) => {
            const n = await tx.fetchVal<number>("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1", [name]);
            assert.equal(await tx.fetchVal("SELECT $1::int", [i]), i);
            return n!;
          }),
        ),
      );
      assert.ok(Math.max(...seen) <= 4, `at most 4 sessions at a time, saw ${Math.max(...seen)}`);
      assert.ok(db.connectionCount <= 4);
    } finally {
      await db.close();
    }
  });

  test("a request that finds every connection busy for acquireTimeout fails with PoolTimeout, saying why", async () => {
    const { db } = handle("timeout", { maxConnections: 2, acquireTimeout: 200 });
    try {
      const a = await db.connect();
      const b = await db.transaction();
      const t0 = Date.now();
      await assert.rejects(db.connect(), (e: unknown) => {
        assert.ok(e instanceof PoolTimeout);
        assert.ok(e instanceof ConnectionError);
        assert.match(e.message, /all 2 connections of this handle are in use/);
        return true;
      });
      assert.ok(Date.now() - t0 >= 190, "waited its time");
      // a waiting request gets the connection given back
      const waiting = db.transaction((tx) => tx.fetchVal("SELECT 42"));
      await sleep(50);
      await a.close();
      assert.equal(await waiting, 42);
      await b.rollback();
      assert.equal(await db.fetchVal("SELECT 1"), 1, "the shared connection is not part of the bound");
    } finally {
      await db.close();
    }
  });

  test("closing the handle fails the requests waiting for a connection", async () => {
    const { db } = handle("closewait", { maxConnections: 1 });
    const held = await db.connect();
    const waiting = assert.rejects(db.connect(), /the database handle is closed/);
    await sleep(20);
    await db.close();
    await waiting;
    assert.equal(held.closed, false);
  });

  test("sync: a loop that forgets to close connections hits the bound with PoolTimeout instead of exhausting the server", () => {
    const name = `${ctx.schema}_syncloop`;
    const db = new Database(ctx.config.with({ applicationName: name }), { maxConnections: 3, acquireTimeout: 300 });
    try {
      const kept: unknown[] = [];
      let failedAt = -1;
      for (let i = 0; i < 10; i++) {
        try {
          kept.push(db.connect());
        } catch (e) {
          assert.ok(e instanceof PoolTimeout, String(e));
          failedAt = i;
          break;
        }
      }
      assert.equal(failedAt, 3);
      const count = db.fetchVal<number>("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1", [name]);
      assert.equal(count, 4, "three dedicated connections and the shared one");
    } finally {
      db.close();
    }
  });

  test("maxConnections and acquireTimeout are validated", () => {
    assert.throws(() => new AsyncDatabase(ctx.config, { maxConnections: 0 }), /maxConnections must be an integer ≥ 1/);
    assert.throws(() => new AsyncDatabase(ctx.config, { acquireTimeout: -1 }), /acquireTimeout/);
  });
});

describe("the shared connection under concurrency", () => {
  test("one BEGIN among 10,000 concurrent statements is refused before sending; every other statement succeeds", async () => {
    const { db } = handle("burst");
    try {
      const calls = Array.from({ length: 10_000 }, (_, i) =>
        i === 3000 ? db.execute("BEGIN") : i === 6000 ? db.execute("SELECT 1; START TRANSACTION") : db.fetchVal<number>("SELECT $1::int", [i]),
      );
      const settled = await Promise.allSettled(calls);
      const failed = settled.flatMap((s, i) => (s.status === "rejected" ? [i] : []));
      assert.deepEqual(failed, [3000, 6000]);
      for (const i of [3000, 6000]) {
        const r = settled[i] as PromiseRejectedResult;
        assert.ok(r.reason instanceof TscopgError);
        assert.match(String(r.reason.message), /refused on the database's shared connection/);
      }
      assert.equal((settled[9999] as PromiseFulfilledResult<number>).value, 9999);
    } finally {
      await db.close();
    }
  });

  test("transaction-control words inside strings, comments, dollar quotes or other statements are not refused", async () => {
    const { db } = handle("words");
    try {
      assert.equal(await db.fetchVal("SELECT 'BEGIN' /* COMMIT */ -- ROLLBACK"), "BEGIN");
      await db.execute("DO $$ BEGIN PERFORM 1; END $$");
      assert.equal(await db.fetchVal("SELECT 1 AS begin"), 1);
      await assert.rejects(db.execute("COMMIT PREPARED 'tscopg_none'"), /does not exist/); // sent: runs outside a transaction
    } finally {
      await db.close();
    }
  });
});

describe("what a killed connection says", () => {
  test("an idle dedicated connection killed by the server reports 57P01 and the server's reason", async () => {
    const { db } = handle("killed");
    try {
      const conn = await db.connect({ autocommit: true });
      const pid = await conn.fetchVal<number>("SELECT pg_backend_pid()");
      await rawQuery("SELECT pg_terminate_backend($1)", [pid]);
      await sleep(200);
      await assert.rejects(conn.execute("SELECT 1"), (e: unknown) => {
        assert.ok(e instanceof ConnectionError, String(e));
        assert.equal(e.code, "57P01");
        assert.match(e.message, /terminating connection due to administrator command/);
        return true;
      });
      await conn.close();
      assert.equal(await db.transaction((tx) => tx.fetchVal("SELECT 3")), 3);
    } finally {
      await db.close();
    }
  });

  test("many failed statements and a lost connection add no listeners (no MaxListenersExceededWarning)", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    const { db } = handle("listeners");
    try {
      for (let i = 0; i < 30; i++) await assert.rejects(db.execute("SELECT $1::int / 0", [i]));
      await Promise.allSettled(Array.from({ length: 30 }, (_, i) => db.execute("SELECT $1::int / 0", [i])));
      const pid = await db.fetchVal<number>("SELECT pg_backend_pid()");
      // 30 statements in flight when the server ends the session: each fails, none leaves a listener behind
      const inFlight = Promise.allSettled(Array.from({ length: 30 }, () => db.execute("SELECT pg_sleep($1::float)", [0.3])));
      await sleep(50);
      await rawQuery("SELECT pg_terminate_backend($1)", [pid]);
      const lost = await inFlight;
      assert.ok(lost.every((r) => r.status === "rejected" && r.reason instanceof ConnectionError));
      await sleep(50);
      assert.equal(await db.fetchVal("SELECT 1"), 1);
      assert.deepEqual(warnings, []);
    } finally {
      process.off("warning", onWarning);
      await db.close();
    }
  });
});
