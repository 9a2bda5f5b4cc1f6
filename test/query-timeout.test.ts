/**
 * `queryTimeout`: a client-side limit on waiting for the server. A server that stops answering after start-up (a
 * fake one that never reads again, a backend frozen with SIGSTOP on a throwaway embedded server) fails the
 * statements in flight with ConnectionError instead of hanging — async and sync alike — and the next call uses a new
 * connection. Healthy statements under the limit are unaffected.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { setDefaultQueryTimeout } from "../src/core/pg-session.js";
import { startEmbeddedServer, type EmbeddedServer } from "../src/embedded/server.js";
import { AsyncDatabase, Config, ConfigurationError, ConnectionError, Database } from "../src/index.js";
import { rawQuery, serverUrl } from "./support/db.js";
import { startFakeServer, startFakeServerThread, type FakeServer } from "./support/fake-server.js";

const healthy = Config.fromUrl(serverUrl());
const NO_ANSWER = /^no answer from the server within (\d+) ms; the connection was closed$/;

/** Awaits `promise`, expecting a ConnectionError saying the server did not answer; returns the milliseconds waited. */
async function timesOut(promise: Promise<unknown>, limit: number): Promise<number> {
  const t0 = performance.now();
  const err = await promise.then(
    () => assert.fail("expected a ConnectionError"),
    (e: unknown) => e,
  );
  const ms = performance.now() - t0;
  assert.ok(err instanceof ConnectionError, `expected a ConnectionError, got ${String(err)}`);
  assert.equal(NO_ANSWER.exec(err.message)?.[1], String(limit), err.message);
  return ms;
}

describe("configuration", () => {
  const throwsConfig = (fn: () => unknown) => assert.throws(fn, ConfigurationError);

  test("a field in ms (null by default), also from the URL, the options record and DB_QUERY_TIMEOUT", () => {
    assert.equal(new Config().queryTimeout, null);
    assert.equal(new Config({ queryTimeout: 0 }).queryTimeout, 0);
    const fromUrl = Config.fromUrl("postgresql://h/db?query_timeout=250&statement_timeout=100");
    assert.deepEqual([fromUrl.queryTimeout, fromUrl.statementTimeout, fromUrl.options], [250, 100, {}]);
    const fromOptions = new Config({ options: { query_timeout: "300", search_path: "s" } });
    assert.equal(fromOptions.queryTimeout, 300);
    assert.equal(fromOptions.connectParams().options, "-c search_path=s", "never sent to the server as a setting");
    assert.equal(Config.fromEnv(null, { loadDotenvFile: false, env: { DB_QUERY_TIMEOUT: "400" } }).queryTimeout, 400);
    assert.equal(new Config({ queryTimeout: 5 }).with({ queryTimeout: null }).queryTimeout, null);
  });

  test("validated like the other timeouts", () => {
    for (const bad of [-1, 1.5, "soon", 2 ** 31]) throwsConfig(() => new Config({ queryTimeout: bad as number }));
    throwsConfig(() => Config.fromUrl("postgresql://h/db?query_timeout=-5"));
    throwsConfig(() => Config.fromEnv(null, { loadDotenvFile: false, env: { DB_QUERY_TIMEOUT: "1s" } }));
  });

  test("kept by url and toInit (the sync worker gets it); left out of the libpq dsn", () => {
    const c = new Config({ queryTimeout: 1500, statementTimeout: 10 });
    assert.match(c.url, /[?&]query_timeout=1500(&|$)/);
    assert.equal(Config.fromUrl(c.url).queryTimeout, 1500);
    assert.equal(c.toInit().queryTimeout, 1500);
    assert.doesNotMatch(c.dsn, /query_timeout/);
  });
});

describe("a server that stops answering after start-up", () => {
  let silent: FakeServer;
  before(async () => {
    silent = await startFakeServer({ kind: "silent-after-startup" });
  });
  after(() => silent?.stop());

  test("async: every statement in flight fails with ConnectionError after queryTimeout; the next call reconnects", async () => {
    const db = new AsyncDatabase(healthy.with({ hosts: [{ host: "127.0.0.1", port: silent.port }], queryTimeout: 300 }));
    try {
      const t0 = performance.now();
      const results = await Promise.allSettled([db.fetchVal("SELECT 1"), db.execute("SELECT 2"), db.fetchVal("SELECT $1::int", [3])]);
      const ms = performance.now() - t0;
      for (const r of results) {
        assert.equal(r.status, "rejected");
        assert.ok(r.reason instanceof ConnectionError);
        assert.match(r.reason.message, NO_ANSWER);
      }
      assert.ok(ms >= 290 && ms < 1000, `failed after ${ms.toFixed(0)} ms`);
      assert.equal(db.connectionCount, 0, "the broken connection is not counted");
      await sleep(20);
      assert.equal(silent.closed, 1, "the socket was closed");
      // The next call opens a new connection (which, on this server, times out again).
      await timesOut(db.execute("SELECT 4"), 300);
      assert.equal(silent.connections, 2);
      // A dedicated connection (transaction) too.
      await timesOut(db.transaction((tx) => tx.execute("SELECT 5")), 300);
    } finally {
      const t0 = performance.now();
      await db.close();
      assert.ok(performance.now() - t0 < 500, "close() does not wait for the silent server");
    }
  });

  test("sync: the same ConnectionError, and the process goes on to use a healthy server", async () => {
    const thread = await startFakeServerThread({ kind: "silent-after-startup" });
    try {
      const db = new Database(healthy.with({ hosts: [{ host: "127.0.0.1", port: thread.port }], queryTimeout: 300 }));
      try {
        const t0 = performance.now();
        assert.throws(() => db.fetchVal("SELECT 1"), (e: unknown) => e instanceof ConnectionError && NO_ANSWER.test(e.message));
        const ms = performance.now() - t0;
        assert.ok(ms >= 290 && ms < 1000, `failed after ${ms.toFixed(0)} ms`);
      } finally {
        db.close();
      }
    } finally {
      await thread.stop();
    }
    const ok = new Database(healthy);
    try {
      assert.equal(ok.fetchVal("SELECT 6"), 6);
    } finally {
      ok.close();
    }
    await using adb = new AsyncDatabase(healthy);
    assert.equal(await adb.fetchVal("SELECT 7"), 7);
  });

  test("with no queryTimeout in the Config, the thread's default applies (the sync worker sets 5 minutes)", async () => {
    setDefaultQueryTimeout(300);
    try {
      await using db = new AsyncDatabase(healthy.with({ hosts: [{ host: "127.0.0.1", port: silent.port }] }));
      await timesOut(db.execute("SELECT 1"), 300);
      const other = await startFakeServer({ kind: "silent-after-startup" });
      const none = new AsyncDatabase(healthy.with({ hosts: [{ host: "127.0.0.1", port: other.port }], queryTimeout: 0 }));
      const pending = none.execute("SELECT 1").then(
        () => "answered",
        () => "failed",
      );
      assert.equal(await Promise.race([pending, sleep(600, "still waiting")]), "still waiting", "queryTimeout: 0 means no limit");
      await other.stop(); // without a limit only the server going away ends the wait
      assert.equal(await pending, "failed");
      await none.close();
    } finally {
      setDefaultQueryTimeout(0);
    }
  });
});

describe("on a real server", () => {
  test("statements under the limit are unaffected, also a pipelined burst longer than the limit in total", async () => {
    await using db = new AsyncDatabase(healthy.with({ queryTimeout: 500 }));
    assert.equal(await db.fetchVal("SELECT pg_sleep(0.3)::text || 'ok'"), "ok");
    const t0 = performance.now();
    const all = await Promise.all(Array.from({ length: 12 }, (_, i) => db.fetchVal<number>("SELECT $1::int FROM pg_sleep(0.06)", [i])));
    assert.deepEqual(all, Array.from({ length: 12 }, (_, i) => i));
    assert.ok(performance.now() - t0 > 600, "the burst took longer than the limit in total");
    await sleep(600); // idle longer than the limit: nothing fires
    assert.equal(await db.fetchVal("SELECT 1"), 1);
  });

  test("a statement over the limit fails with ConnectionError, and the server-side backend goes away", async () => {
    const app = `tscopg_qt_${randomBytes(4).toString("hex")}`;
    await using db = new AsyncDatabase(healthy.with({ queryTimeout: 500, applicationName: app }));
    const ms = await timesOut(db.execute("SELECT pg_sleep(2)"), 500);
    assert.ok(ms >= 490 && ms < 1200, `failed after ${ms.toFixed(0)} ms`);
    // client_connection_check_interval=1s: the server notices the closed socket and ends the backend.
    const sessions = () =>
      rawQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [app]).then((r) => r[0]!.n);
    let left = await sessions();
    for (let i = 0; i < 30 && left > 0; i++) {
      await sleep(100);
      left = await sessions();
    }
    assert.equal(left, 0, "the backend kept running after the client gave up");
    assert.equal(await db.fetchVal("SELECT 8"), 8, "the next call connects again");
  });
});

describe("a backend frozen with SIGSTOP (embedded server)", () => {
  let server: EmbeddedServer;
  const frozen = new Set<number>();
  /** A stopped backend ignores everything but SIGCONT/SIGKILL: thaw them all, also if this process is cut short. */
  const thaw = () => {
    for (const pid of frozen) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        /* already gone */
      }
    }
    frozen.clear();
  };
  before(async () => {
    process.once("exit", thaw);
    server = await startEmbeddedServer();
  });
  after(async () => {
    thaw();
    process.off("exit", thaw);
    await server?.stop();
  });

  test("a statement fails after queryTimeout, and close() of an idle connection does not hang", async () => {
    const config = Config.fromUrl(server.url).with({ queryTimeout: 300 });
    const busy = new AsyncDatabase(config);
    const idle = new AsyncDatabase(config);
    try {
      for (const db of [busy, idle]) {
        const pid = (await db.fetchVal<number>("SELECT pg_backend_pid()"))!;
        process.kill(pid, "SIGSTOP");
        frozen.add(pid);
      }
      const ms = await timesOut(busy.fetchVal("SELECT 1"), 300);
      assert.ok(ms < 1000, `failed after ${ms.toFixed(0)} ms`);
      const t0 = performance.now();
      await idle.close();
      const closeMs = performance.now() - t0;
      assert.ok(closeMs < 1000, `close() took ${closeMs.toFixed(0)} ms`);
    } finally {
      thaw();
      await busy.close();
      await idle.close();
    }
  });
});
