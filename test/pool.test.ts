/**
 * The connection pool against the real server: sizes and stats, borrowing, the 5-connection ceiling under 200
 * callers (read from pg_stat_activity), timeouts that name the pool's state, slow statements that must not hold up
 * others, recycling (maxLifetime, maxIdle, check), resize while queries run, and the features on a pool.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncPooledDatabase, ConfigurationError, ConnectionError, ParameterError, PoolTimeout, PooledDatabase, TscopgError } from "../src/index.js";
import { createTestSchema, rawQuery, sessionsNamed, type TestSchema } from "./support/db.js";
import { eventually } from "./support/both-sides.js";
import { parseOutput, runNode } from "./support/node-child.js";
import { startFakeServer } from "./support/fake-server.js";

let ctx: TestSchema;
const open: { close(): unknown }[] = [];

/** A pool on the test schema (closed after the file); its connections are named `name` in pg_stat_activity. */
function pool(options: ConstructorParameters<typeof AsyncPooledDatabase>[1] = {}, name?: string): AsyncPooledDatabase {
  const config = name === undefined ? ctx.config : ctx.config.with({ applicationName: name });
  const p = new AsyncPooledDatabase(config, options);
  open.push(p);
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const serverSessions = (name: string) => sessionsNamed(name);

before(async () => {
  ctx = await createTestSchema("pool");
});

after(async () => {
  for (const p of open) await p.close();
  await ctx.drop();
});

describe("a pool's life", () => {
  test("open() opens minSize connections; stats move with the work; close() closes them all", async () => {
    const name = `${ctx.schema}_life`;
    const p = pool({ minSize: 3, maxSize: 6 }, name);
    assert.equal(p.stats.size, 0, "nothing opens before open() or the first call");
    await p.open();
    assert.equal(p.stats.size, 3);
    assert.equal(p.stats.created, 3);
    assert.equal(await serverSessions(name), 3);
    assert.equal(await p.fetchVal<number>("SELECT $1::int + 1", [41]), 42);
    await p.transaction(async (tx) => {
      await tx.execute("SELECT 1");
      assert.equal(p.stats.lent, 1);
      assert.ok(p.stats.inUse >= 1);
    });
    await eventually(async () => p.stats.lent, (n) => n === 0, "the transaction's connection given back");
    assert.ok(p.stats.requests >= 2);
    await p.close();
    assert.equal(await serverSessions(name), 0);
    await assert.rejects(p.fetchVal("SELECT 1"), TscopgError);
  });

  test("fromEnv takes the pool's options (and loadDotenvFile), fromUrl too", async () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = ctx.config.url;
    try {
      const p = AsyncPooledDatabase.fromEnv(null, { loadDotenvFile: false, minSize: 1, maxSize: 3 });
      open.push(p);
      assert.ok(p instanceof AsyncPooledDatabase);
      assert.deepEqual([p.stats.minSize, p.stats.maxSize], [1, 3]);
      assert.equal(await p.fetchVal<number>("SELECT 4"), 4);
    } finally {
      process.env.DATABASE_URL = saved;
    }
    const q = AsyncPooledDatabase.fromUrl(ctx.config.url, { maxSize: 2 });
    open.push(q);
    assert.equal(q.stats.maxSize, 2);
  });

  test("options are checked: unknown keys, wrong types, sizes out of range", () => {
    assert.throws(() => pool({ maxSzie: 3 } as never), ParameterError);
    assert.throws(() => pool({ maxSize: "3" } as never), ParameterError);
    assert.throws(() => pool({ minSize: 5, maxSize: 2 }), ConfigurationError);
    assert.throws(() => pool({ maxSize: 0 }), ConfigurationError);
    assert.throws(() => pool({ timeout: -1 }), ConfigurationError);
    const p = pool({ minSize: 1, maxSize: 2 });
    assert.throws(() => p.resize(3, 2), ConfigurationError);
  });

  test("200 concurrent callers with maxSize 5 all finish, and the server never sees more than 5 connections", async () => {
    const name = `${ctx.schema}_200`;
    const p = pool({ minSize: 1, maxSize: 5 }, name);
    await p.execute("CREATE TABLE hits (caller int)");
    let most = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        most = Math.max(most, await serverSessions(name));
        await sleep(5);
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        if (i % 3 === 0) {
          return p.transaction(async (tx) => {
            await tx.execute("INSERT INTO hits VALUES ($1)", [i]);
            await tx.execute("SELECT pg_sleep(0.005)");
            return i;
          });
        }
        if (i % 3 === 1) {
          await p.execute("INSERT INTO hits VALUES ($1)", [i]);
          return i;
        }
        return p.fetchVal<number>("SELECT $1::int", [i]);
      }),
    );
    watching = false;
    await watcher;
    assert.deepEqual(results, Array.from({ length: 200 }, (_, i) => i));
    assert.equal(await p.fetchVal<number>("SELECT count(*)::int FROM hits"), 134);
    assert.ok(most <= 5, `the server saw ${most} connections`);
    assert.ok(p.stats.size <= 5);
    assert.equal(p.stats.timeouts, 0);
  });

  test("statements the server spends real time on spread over the connections", async () => {
    // About a millisecond of server time each: one connection's pipeline would keep one server process busy while
    // the others idle. (How the pool decides for statements of middling cost: test/spread-tuner.test.ts.)
    const p = pool({ minSize: 6, maxSize: 6 });
    await p.open();
    const heavy = "SELECT $1::int + (SELECT count(*) FROM generate_series(1, 20000))::int - 20000";
    let stop = false;
    let most = 0;
    const workers = Array.from({ length: 48 }, async (_, k) => {
      for (let i = 0; !stop; i++) assert.equal(await p.fetchVal<number>(heavy, [i + k]), i + k);
    });
    for (let t = 0; t < 30; t++) {
      await sleep(50);
      if (t >= 10) most = Math.max(most, p.stats.inUse);
    }
    stop = true;
    await Promise.all(workers);
    assert.ok(most >= 4, `heavy statements ran on ${most} connection(s) at most`);
  });

  test("independent statements share connections: 100 in flight on a pool of 10 open only a few", async () => {
    const p = pool({ minSize: 1, maxSize: 10 });
    await p.open();
    const values = await Promise.all(Array.from({ length: 100 }, (_, i) => p.fetchVal<number>("SELECT $1::int", [i])));
    assert.deepEqual(values, Array.from({ length: 100 }, (_, i) => i));
    assert.ok(p.stats.size < 10, `opened ${p.stats.size}`);
  });
});

describe("timeouts name the pool's state", () => {
  test("a borrower waiting beyond timeout gets PoolTimeout with sizes, lent and waiting counts", async () => {
    const p = pool({ minSize: 0, maxSize: 2, timeout: 0.3 });
    const a = await p.connect();
    const b = await p.connect();
    const t0 = performance.now();
    const err = await p.connect().then(
      () => assert.fail("expected PoolTimeout"),
      (e: unknown) => e as Error,
    );
    const ms = performance.now() - t0;
    assert.ok(err instanceof PoolTimeout, String(err));
    assert.ok(ms >= 250 && ms < 2000, `waited ${ms} ms`);
    assert.match(err.message, /within 0\.3 s/);
    assert.match(err.message, /2 of at most 2 connections open/);
    assert.match(err.message, /2 lent/);
    assert.equal(p.stats.timeouts, 1);
    assert.ok(p.stats.longestWaitMs >= 250);
    await a.close();
    await b.close();
    // The pool goes on: the timed-out request left nothing behind.
    assert.equal(await p.fetchVal<number>("SELECT 5"), 5);
  });

  test("a statement queued behind a slow one on a saturated pool fails with PoolTimeout instead of waiting", async () => {
    const p = pool({ minSize: 1, maxSize: 1, timeout: 0.4 });
    await p.open();
    const slow = p.fetchVal("SELECT pg_sleep(1.5)::text");
    await sleep(50); // the slow statement is on the only connection, taking long
    const t0 = performance.now();
    const err = await p.fetchVal("SELECT 1").then(
      () => assert.fail("expected PoolTimeout"),
      (e: unknown) => e as Error,
    );
    assert.ok(err instanceof PoolTimeout, String(err));
    assert.ok(performance.now() - t0 < 1200, "it did not wait for the slow statement");
    assert.match(err.message, /no connection could take the statement/);
    assert.match(err.message, /has not answered for/);
    assert.equal(await slow, "");
    assert.equal(await p.fetchVal<number>("SELECT 2"), 2);
  });

  test("with room to grow, a statement does not queue behind a slow one: it runs on another connection", async () => {
    const p = pool({ minSize: 1, maxSize: 3 });
    await p.open();
    const slow = p.fetchVal("SELECT pg_sleep(1)::text");
    await sleep(50);
    const t0 = performance.now();
    assert.equal(await p.fetchVal<number>("SELECT 3"), 3);
    assert.ok(performance.now() - t0 < 800, "it ran beside the slow statement");
    await slow;
  });

  test("wait() fails with PoolTimeout naming the last connection error when the server cannot be reached", async () => {
    const p = new AsyncPooledDatabase(ctx.config.with({ hosts: [{ host: "127.0.0.1", port: 1 }] }), { minSize: 1, timeout: 0.5 });
    open.push(p);
    const err = await p.open().then(
      () => assert.fail("expected PoolTimeout"),
      (e: unknown) => e as Error,
    );
    assert.ok(err instanceof PoolTimeout, String(err));
    assert.match(err.message, /did not open its 1 connections within 0\.5 s/);
    assert.match(err.message, /last connection error: could not connect/);
    assert.ok(p.stats.errors >= 1);
  });

  test("a server that never answers: the call fails at timeout, and the attempt itself ends soon after", async () => {
    const hole = await startFakeServer({ kind: "black-hole" });
    try {
      const p = new AsyncPooledDatabase(ctx.config.with({ hosts: [{ host: "127.0.0.1", port: hole.port }] }), { minSize: 0, timeout: 0.5 });
      open.push(p);
      const t0 = performance.now();
      await assert.rejects(p.fetchVal("SELECT 1"), PoolTimeout);
      assert.ok(performance.now() - t0 < 1500);
      assert.equal(p.stats.opening, 1);
      await eventually(async () => p.stats.opening, (n) => n === 0, "the connection attempt ended (connectTimeout bounded by the pool's timeout)");
      assert.ok(p.stats.errors >= 1);
    } finally {
      await hole.stop();
    }
  });

  test("a fatal connection error (a database that does not exist) reaches the waiting call at once", async () => {
    const p = new AsyncPooledDatabase(ctx.config.withDatabase("no_such_db_pool_test"), { minSize: 0, timeout: 10 });
    open.push(p);
    const t0 = performance.now();
    await assert.rejects(p.fetchVal("SELECT 1"), (e: Error) => e.name !== "PoolTimeout" && /no_such_db_pool_test/.test(e.message));
    assert.ok(performance.now() - t0 < 5000);
  });
});

describe("broken connections", () => {
  test("idle connections terminated by the server are dropped quietly, reported, and replaced", async () => {
    const name = `${ctx.schema}_kill`;
    const errors: string[] = [];
    const p = pool({ minSize: 3, maxSize: 4, onError: (e) => errors.push(`${e.kind}: ${e.error.name}`) }, name);
    await p.open();
    const killed = await rawQuery<{ n: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1",
      [name],
    );
    assert.equal(killed[0]!.n, 3);
    await eventually(async () => p.stats.errors, (n) => n >= 3, "the three losses counted");
    assert.ok(errors.filter((e) => e === "broken: ConnectionError").length >= 3, errors.join(", "));
    assert.equal(await p.fetchVal<number>("SELECT 7"), 7);
    await eventually(() => serverSessions(name), (n) => n === 3, "minSize restored");
  });

  test("terminating every backend in the middle of load: in-flight calls fail with ConnectionError, later ones succeed, nothing leaks", async () => {
    const name = `${ctx.schema}_storm`;
    const p = pool({ minSize: 2, maxSize: 4 }, name);
    await p.open();
    let stop = false;
    const outcomes = { ok: 0, connection: 0, other: [] as string[] };
    const load = Array.from({ length: 20 }, async (_, k) => {
      while (!stop) {
        try {
          if (k % 4 === 0) await p.transaction((tx) => tx.execute("SELECT pg_sleep(0.01)"));
          else await p.fetchVal("SELECT pg_sleep(0.002)");
          outcomes.ok++;
        } catch (e) {
          if ((e as Error).name === "ConnectionError") outcomes.connection++;
          else outcomes.other.push(String(e));
        }
      }
    });
    await sleep(200);
    await rawQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [name]);
    await sleep(300);
    const okBefore = outcomes.ok;
    await sleep(300);
    stop = true;
    await Promise.all(load);
    assert.deepEqual(outcomes.other, []);
    assert.ok(outcomes.connection >= 1, "some in-flight calls saw the loss");
    assert.ok(outcomes.ok > okBefore, "calls succeed again after the loss");
    assert.equal(await p.fetchVal<number>("SELECT 1"), 1);
    assert.ok((await serverSessions(name)) <= 4);
    await p.close();
    assert.equal(await serverSessions(name), 0);
  });
});

describe("recycling and resizing", () => {
  test("maxLifetime replaces connections; maxIdle closes those beyond minSize", async () => {
    const name = `${ctx.schema}_recycle`;
    const p = pool({ minSize: 1, maxSize: 4, maxLifetime: 0.3, maxIdle: 0.2 }, name);
    await p.open();
    const first = await p.fetchVal<number>("SELECT pg_backend_pid()");
    await Promise.all(Array.from({ length: 4 }, () => p.transaction((tx) => tx.execute("SELECT pg_sleep(0.05)"))));
    assert.ok(p.stats.created >= 4);
    await eventually(async () => p.stats.size, (n) => n === 1, "idle connections closed down to minSize");
    await eventually(() => p.fetchVal<number>("SELECT pg_backend_pid()"), (pid) => pid !== first, "the old connection replaced");
    assert.ok(p.stats.closed >= 3);
    await eventually(() => serverSessions(name), (n) => n <= 2, "the server agrees");
  });

  test("resize up and down while queries run", async () => {
    const name = `${ctx.schema}_resize`;
    const p = pool({ minSize: 1, maxSize: 2 }, name);
    let stop = false;
    const load = Array.from({ length: 8 }, async () => {
      let n = 0;
      while (!stop) {
        await p.transaction((tx) => tx.execute("SELECT pg_sleep(0.005)"));
        n++;
      }
      return n;
    });
    await sleep(100);
    assert.ok(p.stats.size <= 2);
    p.resize(4, 6);
    await eventually(async () => p.stats.size, (n) => n >= 4, "grown to the new minimum");
    await sleep(100);
    assert.ok((await serverSessions(name)) <= 6);
    p.resize(1, 1);
    await eventually(async () => p.stats.size, (n) => n === 1, "shrunk to the new maximum");
    await eventually(() => serverSessions(name), (n) => n === 1, "the server agrees");
    stop = true;
    const counts = await Promise.all(load);
    assert.ok(counts.every((n) => n > 0));
    assert.equal(p.stats.maxSize, 1);
  });

  test("check() replaces connections that broke without anyone noticing", async () => {
    const name = `${ctx.schema}_check`;
    const p = pool({ minSize: 2, maxSize: 2 }, name);
    await p.open();
    await p.check();
    assert.equal(p.stats.size, 2);
    assert.equal(p.stats.errors, 0);
    assert.equal(await p.fetchVal<number>("SELECT 1"), 1);
  });
});

describe("what runs on a pool", () => {
  test("statementTimeout applies to every pooled connection", async () => {
    const p = new AsyncPooledDatabase(ctx.config.with({ statementTimeout: 123 }), { minSize: 2, maxSize: 3 });
    open.push(p);
    await p.open();
    const settings = await Promise.all([
      p.fetchVal<string>("SHOW statement_timeout"),
      p.transaction((tx) => tx.fetchVal<string>("SHOW statement_timeout")),
      p.connection((c) => c.fetchVal<string>("SHOW statement_timeout")),
    ]);
    assert.deepEqual(settings, ["123ms", "123ms", "123ms"]);
  });

  test("transactions, connection(), COPY, streams and the schema methods run on the pool", async () => {
    const p = pool({ minSize: 1, maxSize: 3 });
    await p.execute("CREATE TABLE things (id serial PRIMARY KEY, name text)");
    assert.equal(await p.tableExists("things", { schema: ctx.schema }), true);
    assert.equal(await p.copyInsert("things", [{ name: "a" }, { name: "b" }], { columns: ["name"], schema: ctx.schema }), 2);
    await p.insertMany("things", [{ name: "c" }], { schema: ctx.schema });
    await assert.rejects(
      p.transaction(async (tx) => {
        await tx.execute("INSERT INTO things(name) VALUES ('rolled back')");
        throw new Error("no");
      }),
      /no/,
    );
    const names: string[] = [];
    for await (const row of p.stream<{ name: string }>("SELECT name FROM things ORDER BY id")) names.push(row.name);
    assert.deepEqual(names, ["a", "b", "c"]);
    const viaConnection = await p.connection(async (c) => {
      await c.execute("INSERT INTO things(name) VALUES ('d')");
      return c.fetchVal<number>("SELECT count(*)::int FROM things");
    });
    assert.equal(viaConnection, 4);
    assert.equal(await p.fetchVal<number>("SELECT count(*)::int FROM things"), 4, "connection() committed");
  });

  test("listen/notifies, onQuery and transaction retry work on a pool", async () => {
    const events: string[] = [];
    const p = pool({ minSize: 1, maxSize: 2, onQuery: (e) => events.push(e.sql) });
    const listener = p.listen("pool_test_ch");
    await listener.ready;
    assert.equal(p.stats.listeners, 1, "the listener's connection is its own");
    await p.notify("pool_test_ch", "hello");
    for await (const n of listener) {
      assert.equal(n.payload, "hello");
      break;
    }
    assert.equal(await p.fetchVal<number>("SELECT 11"), 11);
    assert.ok(events.includes("SELECT 11"), events.join(" | "));
    let attempts = 0;
    const v = await p.transaction(
      async (tx) => {
        if (++attempts === 1) await tx.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$");
        return tx.fetchVal<number>("SELECT 12");
      },
      { retry: true },
    );
    assert.deepEqual([v, attempts], [12, 2]);
  });

  test("a statement that would change one connection's session state is refused on the shared path", async () => {
    const p = pool({ minSize: 1, maxSize: 2 });
    await assert.rejects(p.execute("SET search_path TO public"), /pool/);
    assert.equal(await p.connection((c) => c.execute("SET search_path TO public").then(() => c.fetchVal("SHOW search_path"))), "public");
    assert.notEqual(await p.fetchVal("SHOW search_path"), "public", "the setting did not leak to the next user");
  });
});

describe("PooledDatabase (sync)", () => {
  for (const mode of ["close", "forget"]) {
    test(`works from a plain script, which exits by itself (${mode === "close" ? "closing the pool" : "never closing it"})`, async () => {
      const r = await runNode(["--import", "tsx", "test/fixtures/pooled-script.ts", mode], {}, 30_000);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(parseOutput(r), { answer: 42, inTx: "read committed", size: 2, name: "PooledDatabase" });
    });
  }

  test("same calls, same answers, and its own statics", () => {
    const p = PooledDatabase.fromUrl(ctx.config.url, { minSize: 1, maxSize: 3 });
    try {
      assert.equal(p.constructor.name, "PooledDatabase");
      assert.equal(String(p).startsWith("PooledDatabase("), true);
      p.open();
      assert.equal(p.fetchVal<number>("SELECT 40 + 2"), 42);
      assert.equal(p.transaction((tx) => tx.fetchVal<number>("SELECT 1")), 1);
      assert.equal(p.stats.size >= 1, true);
      p.resize(1, 2);
      assert.equal(p.stats.maxSize, 2);
      p.check();
      assert.throws(() => p.resize(3, 1), ConfigurationError);
    } finally {
      p.close();
    }
  });

  test("onError is called on the calling thread, at the next call, for connections lost while idle", async () => {
    const name = `${ctx.schema}_synchook`;
    const seen: string[] = [];
    const p = new PooledDatabase(ctx.config.with({ applicationName: name }), { minSize: 2, maxSize: 2, onError: (e) => seen.push(`${e.kind}: ${e.error.name}`) });
    try {
      p.open();
      await rawQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [name]);
      const lost = () => seen.filter((e) => e === "broken: ConnectionError").length;
      // A call racing the termination may fail with ConnectionError (it was in flight): the next one succeeds.
      const call = () => {
        try {
          return p.fetchVal<number>("SELECT 1") === 1 ? lost() : -1;
        } catch (e) {
          if (e instanceof ConnectionError) return -1;
          throw e;
        }
      };
      await eventually(async () => call(), (n) => n >= 2, "both losses reported");
      assert.equal(lost(), 2, seen.join(", "));
      assert.ok(p.stats.errors >= 2);
    } finally {
      p.close();
    }
  });
});
