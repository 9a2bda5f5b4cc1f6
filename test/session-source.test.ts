/**
 * The session-source seam: a subclass of AsyncDatabase gets its own instances from the constructing statics and can
 * supply its own SessionSource; sessions breaking are reported; a dedicated session given back is reset only as far
 * as needed and off the caller's path (what it changed is gone for its next user, read back from the server on the
 * same backend; a session that changed nothing is not reset; the reset counts against maxConnections and close()
 * waits for it).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import Cursor from "pg-cursor";
import { AsyncDatabase, Config, ConnectionError, Database, DatabaseError, type DatabaseOptions } from "../src/index.js";
import { ConnectionSource } from "../src/core/connection-source.js";
import type { PgSession } from "../src/core/pg-session.js";
import type { BrokenListener, SessionSource } from "../src/core/session-source.js";
import { createTestSchema, rawQuery, serverUrl, type TestSchema } from "./support/db.js";

let ctx: TestSchema;

before(async () => {
  ctx = await createTestSchema("source");
});

after(async () => {
  await ctx?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`'s value, or "timed out" if it takes longer than `ms`. */
async function within<T>(ms: number, p: Promise<T>): Promise<T | "timed out"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<"timed out">((r) => (timer = setTimeout(() => r("timed out"), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A handle whose dedicated sessions are one (so the next user gets the same backend, or waits for it). */
const single = (options: DatabaseOptions = {}) => new AsyncDatabase(ctx.config, { maxConnections: 1, maxIdle: 1, acquireTimeout: 5000, ...options });

const backendPid = "SELECT pg_backend_pid()";

describe("subclasses", () => {
  class Sub extends AsyncDatabase {}

  test("the constructing statics return an instance of the class they are called on", async () => {
    const config = Config.fromUrl(serverUrl());
    const handles = [
      Sub.fromUrl(serverUrl()),
      Sub.fromEnv(null, { loadDotenvFile: false }),
      await Sub.create(config.database, { config }), // exists already: only the handle is made
      await Sub.createFromEnv(config.database, { loadDotenvFile: false }),
    ];
    try {
      for (const h of handles) {
        assert.ok(h instanceof Sub, String(h));
        assert.equal(await h.fetchVal("SELECT 41 + 1"), 42);
      }
      assert.equal(String(handles[0]), `Sub(${JSON.stringify(config.database)} @ ${config.host}:${config.port})`);
      assert.equal(Object.getPrototypeOf(AsyncDatabase.fromUrl(serverUrl())), AsyncDatabase.prototype);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  test("a subclass supplies its own SessionSource: transactions, connections, plain sessions and shared statements use it", async () => {
    class CountingSource implements SessionSource {
      counts = { shared: 0, acquire: 0, release: 0, close: 0 };
      constructor(private readonly inner: ConnectionSource) {}
      get config() {
        return this.inner.config;
      }
      shared() {
        this.counts.shared++;
        return this.inner.shared();
      }
      acquire() {
        this.counts.acquire++;
        return this.inner.acquire();
      }
      release(session: PgSession) {
        this.counts.release++;
        this.inner.release(session);
      }
      get size() {
        return this.inner.size;
      }
      close() {
        this.counts.close++;
        return this.inner.close();
      }
      onBroken(listener: BrokenListener) {
        return this.inner.onBroken(listener);
      }
      standalone() {
        return this.inner.standalone();
      }
    }
    const made: { source: CountingSource; options: DatabaseOptions }[] = [];
    class Counted extends AsyncDatabase {
      protected override _createSessionSource(config: Config, options: DatabaseOptions): SessionSource {
        const source = new CountingSource(new ConnectionSource(config, options));
        made.push({ source, options });
        return source;
      }
    }
    const db = new Counted(ctx.config, { maxIdle: 0 });
    const { source, options } = made[0]!;
    assert.deepEqual(options, { maxIdle: 0 });
    await db.fetchVal("SELECT 1");
    await db.transaction((tx) => tx.fetchVal("SELECT 1"));
    await db.connect((conn) => conn.fetchVal("SELECT 1"));
    await db._withPlainSession((s) => s.query("SELECT 1"));
    assert.deepEqual(source.counts, { shared: 1, acquire: 3, release: 3, close: 0 });
    assert.equal(db.connectionCount, 1, "maxIdle: 0 reached the source: only the shared connection is left");
    assert.equal(typeof (Database.prototype as unknown as Record<string, unknown>)._createSessionSource, "undefined", "not on the sync facade");
    const fromUrl = Counted.fromUrl(ctx.config.url);
    assert.ok(fromUrl instanceof Counted);
    assert.equal(made.length, 2);
    await fromUrl.close();
    await db.close();
    assert.equal(source.counts.close, 1);
  });
});

describe("sessions breaking", () => {
  test("onBroken reports an idle session the server ended, which leaves the idle cache at once; unsubscribing works", async () => {
    const source = new ConnectionSource(ctx.config);
    try {
      const session = await source.acquire();
      const pid = (await session.query(backendPid)).rows[0]!.pg_backend_pid as number;
      source.release(session);
      assert.equal(source.size, 1);
      const removed: unknown[] = [];
      const unsubscribe = source.onBroken(() => removed.push("called"));
      unsubscribe();
      const reported = new Promise<Parameters<BrokenListener>>((resolve) => source.onBroken((...args) => resolve(args)));
      await rawQuery("SELECT pg_terminate_backend($1)", [pid]);
      // An idle session's socket does not keep the process alive: the deadline's timer does, until the server's
      // goodbye arrives (on a loaded machine it may come after every other pending event).
      let deadline: NodeJS.Timeout | undefined;
      const [which, reason] = await Promise.race([
        reported,
        new Promise<never>((_, reject) => (deadline = setTimeout(() => reject(new Error("onBroken was not called within 10 s")), 10_000))),
      ]).finally(() => clearTimeout(deadline));
      assert.equal(which, session);
      assert.ok(reason instanceof ConnectionError, String(reason));
      assert.equal(reason.code, "57P01");
      assert.equal(source.size, 0);
      assert.deepEqual(removed, []);
      const next = await source.acquire();
      assert.notEqual((await next.query(backendPid)).rows[0]!.pg_backend_pid, pid);
      source.release(next);
    } finally {
      await source.close();
    }
  });
});

describe("giving a session back", () => {
  test("what a transaction, a connection or a plain session changed is gone for the next user of the same backend", async () => {
    await using db = single();
    const pid = await db.transaction((tx) => tx.fetchVal<number>(backendPid));
    const startPath = await db.transaction((tx) => tx.fetchVal<string>("SELECT current_setting('search_path')"));
    const checks: [string, (q: (sql: string) => Promise<unknown>) => Promise<unknown>, string, unknown][] = [
      ["SET", (q) => q("SET search_path TO public"), "SELECT current_setting('search_path')", startPath],
      ["temp table", (q) => q("CREATE TEMP TABLE scratch (x int)"), "SELECT to_regclass('pg_temp.scratch')::text", null],
      ["advisory lock", (q) => q("SELECT pg_advisory_lock(4242)"), "SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND pid = pg_backend_pid()", 0],
      ["prepared statement", (q) => q("PREPARE p1 AS SELECT 1"), "SELECT count(*)::int FROM pg_prepared_statements", 0],
      ["LISTEN", (q) => q("LISTEN tscopg_channel"), "SELECT count(*)::int FROM pg_listening_channels()", 0],
    ];
    for (const [what, change, check, expected] of checks) {
      await db.transaction((tx) => change((sql) => tx.execute(sql)));
      assert.deepEqual(await db.transaction(async (tx) => [await tx.fetchVal(backendPid), await tx.fetchVal(check)]), [pid, expected], `${what} in a transaction`);
      await db.connect((conn) => change((sql) => conn.execute(sql)));
      assert.deepEqual(await db.connect(async (conn) => [await conn.fetchVal(backendPid), await conn.fetchVal(check)]), [pid, expected], `${what} on a connection`);
      await db._withPlainSession((s) => change((sql) => s.query(sql)));
      assert.deepEqual(await db._withPlainSession(async (s) => [(await s.query(backendPid)).rows[0]!.pg_backend_pid, Object.values((await s.query(check)).rows[0]!)[0]]), [pid, expected], `${what} on a plain session`);
    }
  });

  test("a submittable's text is looked at too: set_config through a cursor is reset", async () => {
    await using db = single();
    const name = () => db.connect((conn) => conn.fetchVal<string>("SELECT current_setting('application_name')"));
    const before = await name();
    await db._withPlainSession((s) =>
      s.submit(new Cursor("SELECT set_config('application_name', 'changed_by_a_cursor', false)"), async (c) => {
        await c.read(1);
        await c.close();
      }),
    );
    assert.equal(await name(), before);
  });

  test("a session that changed nothing is not reset (lastval() survives; after a SET it does not)", async () => {
    await using db = single();
    await db.execute("CREATE SEQUENCE IF NOT EXISTS seq");
    const next = await db.transaction((tx) => tx.fetchVal<bigint>("SELECT nextval('seq')"));
    assert.equal(await db.transaction((tx) => tx.fetchVal<bigint>("SELECT lastval()")), next, "no DISCARD ALL ran");
    await db.transaction(async (tx) => {
      await tx.fetchVal("SELECT nextval('seq')");
      await tx.execute("SET work_mem = '5MB'");
    });
    await assert.rejects(
      db.transaction((tx) => tx.fetchVal("SELECT lastval()")),
      (e: unknown) => e instanceof DatabaseError && e.code === "55000", // lastval is not yet defined in this session
    );
  });

  test("the reset runs off the caller's path, counts against maxConnections, and close() waits for it", async () => {
    const db = single();
    const locker = new pg.Client({ connectionString: serverUrl() });
    await locker.connect();
    try {
      // A temporary table another session holds a lock on: the DISCARD ALL that drops it waits for the lock.
      let pid = 0;
      const released = within(
        10_000,
        db.connect({ autocommit: true }, async (conn) => {
          pid = (await conn.fetchVal<number>(backendPid))!;
          await conn.execute("CREATE TEMP TABLE held (x int)");
          const schema = await conn.fetchVal<string>("SELECT pg_my_temp_schema()::regnamespace::text");
          await locker.query("BEGIN");
          await locker.query(`LOCK TABLE ${schema}.held IN ACCESS SHARE MODE`);
        }),
      );
      assert.notEqual(await released, "timed out", "connect() returned while the reset waits for the lock");
      assert.equal(db.connectionCount, 1, "the session being reset is still counted");
      let granted = false;
      const next = db.transaction(async (tx) => {
        granted = true;
        return [await tx.fetchVal(backendPid), await tx.fetchVal("SELECT to_regclass('pg_temp.held')::text")];
      });
      await sleep(200);
      assert.equal(granted, false, "maxConnections is 1: the next transaction waits for the session being reset");
      await locker.query("COMMIT");
      assert.deepEqual(await next, [pid, null]);

      // The same again, now closing the handle while the reset waits.
      await db.connect({ autocommit: true }, async (conn) => {
        await conn.execute("CREATE TEMP TABLE held (x int)");
        const schema = await conn.fetchVal<string>("SELECT pg_my_temp_schema()::regnamespace::text");
        await locker.query("BEGIN");
        await locker.query(`LOCK TABLE ${schema}.held IN ACCESS SHARE MODE`);
      });
      let closed = false;
      const closing = db.close().then(() => (closed = true));
      await sleep(200);
      assert.equal(closed, false, "close() waits for the reset in progress");
      await locker.query("COMMIT");
      await closing;
      assert.equal(db.connectionCount, 0);
      // (The backend leaves pg_stat_activity a moment after its socket closed.)
      for (let i = 0; i < 100 && (await rawQuery("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).length > 0; i++) await sleep(50);
      assert.deepEqual(await rawQuery("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]), [], "its server session ended");
    } finally {
      await locker.end();
      await db.close();
    }
  });
});
