/**
 * stream(): rows over a server-side cursor, async (`for await`) and sync (a lazy iterator moving packed batches):
 * values equal to execute's, break closes the cursor and gives the connection back, an error mid-stream surfaces
 * on the next step and releases everything, transactions are joined, nothing is sent before the iteration starts,
 * options are checked, and another statement on a connection whose stream is open is refused instead of hanging.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { AsyncDatabase, ConnectionError, Database, DivisionByZero, ParameterError, QueryCanceled, TscopgError } from "../src/index.js";
import { eventually } from "./support/both-sides.js";
import { rawQuery, type TestSchema } from "./support/db.js";
import { bothHandles } from "./support/handles.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

bothHandles("stream", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
});

type Row = Record<string, unknown>;

async function drainAsync(it: AsyncIterable<Row>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const row of it) out.push(row);
  return out;
}

/** Every type the value layer decodes, NULLs included, 2,500 rows (several batches; the sync side packs them). */
const TYPED = `SELECT g AS i4, g::int8 * 10000000000 AS i8, g::int2 AS i2, (g / 7.0)::numeric(12, 4) AS num, g * 0.5 AS f8,
  CASE WHEN g % 5 = 0 THEN NULL ELSE 'tab\there ' || g || ' é 🐘 "q" \\ back' END AS txt, g % 2 = 0 AS b,
  timestamptz '2024-03-01 12:00:00+02' + g * interval '1 minute' AS ts, date '2024-01-01' + g AS d,
  json_build_object('g', g, 'a', json_build_array(1, 'x', null)) AS j, jsonb_build_object('k', g) AS jb,
  decode(lpad(to_hex(g), 8, '0'), 'hex') AS bytes, ARRAY[g, g + 1, NULL] AS arr, ARRAY['a,b', NULL, '"x"'] AS tarr,
  interval '1 day' * g AS iv, uuid_in(md5(g::text)::cstring) AS u
  FROM generate_series(1, 2500) g ORDER BY g`;

describe("stream(): the values", () => {
  test("rows equal execute()'s exactly, async and sync, whatever the batch size", async () => {
    const expected = await adb.execute(TYPED);
    assert.equal(typeof expected[0]!.i8, "bigint");
    assert.ok(expected[0]!.ts instanceof Date && Buffer.isBuffer(expected[0]!.bytes));
    assert.deepStrictEqual(await drainAsync(adb.stream(TYPED)), expected);
    assert.deepStrictEqual(await drainAsync(adb.stream(TYPED, null, { batchSize: 7 })), expected);
    assert.deepStrictEqual([...db.stream(TYPED)], expected);
    assert.deepStrictEqual([...db.stream(TYPED, null, { batchSize: 333 })], expected);
  });

  test("parameters (positional and named) and a statement without rows", async () => {
    const sql = "SELECT g FROM generate_series(1, :n) g WHERE g % :m = 0";
    assert.deepStrictEqual(await drainAsync(adb.stream(sql, { n: 10, m: 5 })), [{ g: 5 }, { g: 10 }]);
    assert.deepStrictEqual([...db.stream("SELECT $1::text AS s", ["x"])], [{ s: "x" }]);
    assert.deepStrictEqual(await drainAsync(adb.stream("SELECT 1 AS x WHERE false")), []);
    assert.deepStrictEqual([...db.stream("UPDATE t SET v = v WHERE false")], []);
  });
});

describe("stream(): lifetime", () => {
  test("lazy: nothing is sent until the iteration starts", async () => {
    await adb.execute("TRUNCATE t");
    const pending = adb.stream("INSERT INTO t VALUES (1, 'a') RETURNING id");
    const pendingSync = db.stream("INSERT INTO t VALUES (2, 'b') RETURNING id");
    assert.equal(await adb.fetchVal("SELECT count(*)::int FROM t"), 0);
    assert.deepStrictEqual(await drainAsync(pending), [{ id: 1 }]);
    assert.deepStrictEqual([...pendingSync], [{ id: 2 }]);
    assert.equal(await adb.fetchVal("SELECT count(*)::int FROM t"), 2);
  });

  test("break closes the cursor and gives the connection back (async and sync)", async () => {
    const d = new AsyncDatabase(ctx.config);
    try {
      let pid = 0;
      for await (const row of d.stream<{ pid: number }>("SELECT pg_backend_pid() AS pid, g FROM generate_series(1, 1000000) g", null, { batchSize: 100 })) {
        pid = row.pid;
        assert.equal(await rawQuery(`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`).then((r) => r[0]?.state), "active"); // the portal is open
        break;
      }
      // The backend left the cursor's transaction, and its connection went back to the source and is reused.
      await eventually(() => rawQuery(`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`).then((r) => r[0]?.state), (s) => s === "idle", "the stream's backend");
      await d.connect(async (conn) => assert.equal(await conn.fetchVal("SELECT pg_backend_pid()"), pid));
    } finally {
      await d.close();
    }
    const s = new Database(ctx.config);
    try {
      const it = s.stream<{ pid: number; g: number }>("SELECT pg_backend_pid() AS pid, g FROM generate_series(1, 1000000) g");
      const first = it.next();
      assert.equal(first.done, false);
      const pid = (first.value as { pid: number }).pid;
      it.return?.();
      await eventually(() => rawQuery(`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`).then((r) => r[0]?.state), (st) => st === "idle", "the sync stream's backend");
      assert.equal(s.connect((conn) => conn.fetchVal("SELECT pg_backend_pid()")), pid);
      assert.deepStrictEqual(it.next(), { done: true, value: undefined });
    } finally {
      s.close();
    }
  });

  test("on a connection: the portal is gone after break; another statement while it is open is refused, not hung", async () => {
    await adb.connect({ autocommit: true }, async (conn) => {
      const it = conn.stream("SELECT g FROM generate_series(1, 10000) g");
      assert.deepStrictEqual(await it.next(), { done: false, value: { g: 1 } });
      await assert.rejects(conn.execute("SELECT 1"), (e: unknown) => e instanceof TscopgError && /server-side cursor .* is open on this connection/.test((e as Error).message));
      await it.return!();
      assert.equal(await conn.fetchVal("SELECT count(*)::int FROM pg_cursors"), 0);
      assert.equal(await conn.fetchVal("SELECT 2"), 2);
    });
    db.connect({ autocommit: true }, (conn) => {
      const it = conn.stream("SELECT g FROM generate_series(1, 10000) g");
      assert.deepStrictEqual(it.next(), { done: false, value: { g: 1 } });
      assert.throws(() => conn.execute("SELECT 1"), (e: unknown) => e instanceof TscopgError && /is open on this connection/.test((e as Error).message));
      it.return?.();
      assert.equal(conn.fetchVal("SELECT count(*)::int FROM pg_cursors"), 0);
    });
  });

  test("an error mid-stream (division by zero at row 5000) surfaces on the next step and releases everything", async () => {
    const sql = "SELECT g, 1 / (5000 - g) AS x FROM generate_series(1, 10000) g";
    const d = new AsyncDatabase(ctx.config);
    try {
      let seen = 0;
      const it = d.stream(sql, null, { batchSize: 1000 });
      await assert.rejects(
        (async () => {
          for await (const _ of it) seen++;
        })(),
        DivisionByZero,
      );
      assert.equal(seen, 4000); // the batches before the failing one
      assert.deepStrictEqual(await it.next(), { done: true, value: undefined });
      assert.equal(await d.transaction((tx) => tx.fetchVal("SELECT 3")), 3); // the connection went back, usable
    } finally {
      await d.close();
    }
    let seen = 0;
    assert.throws(() => {
      for (const _ of db.stream(sql, null, { batchSize: 1000 })) seen++;
    }, DivisionByZero);
    assert.equal(seen, 4000);
    assert.equal(db.fetchVal("SELECT 4"), 4);
    // On a connection: the connection stays usable.
    db.connect({ autocommit: true }, (conn) => {
      assert.throws(() => [...conn.stream(sql)], DivisionByZero);
      assert.equal(conn.fetchVal("SELECT 5"), 5);
    });
  });

  test("a sync stream abandoned half-way is closed when it is garbage collected", async () => {
    const s = new Database(ctx.config);
    try {
      let pid = 0;
      (() => {
        const it = s.stream<{ pid: number }>("SELECT pg_backend_pid() AS pid FROM generate_series(1, 100000)");
        pid = (it.next().value as { pid: number }).pid;
      })();
      await eventually(
        async () => {
          gc();
          await new Promise((r) => setImmediate(r));
          return (await rawQuery(`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`))[0]?.state;
        },
        (st) => st === "idle",
        "the abandoned stream's backend",
      );
    } finally {
      s.close();
    }
  });
});

describe("stream(): a slow reader, a lost connection", () => {
  test("the answer limit (queryTimeout) does not run out while the reader takes its time between batches", async () => {
    const d = new AsyncDatabase(ctx.config.with({ queryTimeout: 250 }));
    try {
      const it = d.stream<{ g: number }>("SELECT g FROM generate_series(1, 300) g", null, { batchSize: 100 });
      const got: number[] = [];
      for await (const row of it) {
        got.push(row.g);
        // The limit is on the server's answers: a reader slower than it between two reads is no dead server.
        if (row.g === 100) await new Promise((r) => setTimeout(r, 600));
      }
      assert.equal(got.length, 300);
    } finally {
      await d.close();
    }
  });

  test("the connection killed between batches: the next step fails with ConnectionError; the database goes on", async () => {
    const d = new AsyncDatabase(ctx.config);
    try {
      const it = d.stream<{ pid: number }>("SELECT pg_backend_pid() AS pid FROM generate_series(1, 5000)", null, { batchSize: 100 });
      const pid = ((await it.next()).value as { pid: number }).pid;
      await rawQuery(`SELECT pg_terminate_backend(${pid})`);
      await eventually(() => rawQuery(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${pid}`).then((r) => r[0]!.n), (n) => n === 0, "the killed backend");
      await assert.rejects(
        (async () => {
          for await (const _ of it);
        })(),
        ConnectionError,
      );
      assert.equal(await d.transaction((tx) => tx.fetchVal("SELECT 1")), 1);
      assert.deepStrictEqual(await drainAsync(d.stream("SELECT 2 AS two")), [{ two: 2 }]);
    } finally {
      await d.close();
    }
  });
});

describe("stream(): transactions", () => {
  test("inside a transaction() callback it runs on the transaction's connection: sees its rows, rolls back with it", async () => {
    await adb.execute("TRUNCATE t");
    await assert.rejects(
      adb.transaction(async () => {
        await adb.execute("INSERT INTO t SELECT g, 'tx' FROM generate_series(1, 3000) g");
        let n = 0;
        for await (const row of adb.stream<{ v: string }>("SELECT v FROM t")) if (row.v === "tx") n++;
        assert.equal(n, 3000);
        throw new Error("roll back");
      }),
      /roll back/,
    );
    assert.equal(await adb.fetchVal("SELECT count(*)::int FROM t"), 0);
    assert.throws(() =>
      db.transaction((tx) => {
        tx.execute("INSERT INTO t VALUES (7, 'sync tx')");
        assert.deepStrictEqual([...db.stream("SELECT id, v FROM t")], [{ id: 7, v: "sync tx" }]);
        assert.deepStrictEqual([...tx.stream("SELECT id FROM t")], [{ id: 7 }]);
        throw new Error("roll back too");
      }),
    /roll back too/);
    assert.equal(db.fetchVal("SELECT count(*)::int FROM t"), 0);
    // Committed with it.
    await adb.transaction(async (tx) => {
      await tx.execute("INSERT INTO t VALUES (8, 'kept')");
      assert.deepStrictEqual(await drainAsync(tx.stream("SELECT id FROM t")), [{ id: 8 }]);
    });
    assert.equal(await adb.fetchVal("SELECT count(*)::int FROM t"), 1);
  });

  test("a stream left open when its transaction ends is closed first (the commit goes through; a later read says why)", async () => {
    await adb.execute("TRUNCATE t");
    let left: AsyncIterator<Row> | undefined;
    await adb.transaction(async (tx) => {
      await tx.execute("INSERT INTO t VALUES (9, 'committed')");
      left = tx.stream("SELECT g FROM generate_series(1, 5000) g", null, { batchSize: 10 });
      assert.deepStrictEqual(await left.next(), { done: false, value: { g: 1 } });
    });
    assert.equal(await adb.fetchVal("SELECT v FROM t WHERE id = 9"), "committed");
    for (let i = 2; i <= 10; i++) await left!.next(); // the rows already read
    await assert.rejects(left!.next(), /ended \(or was closed\), which closed the cursor/);
    assert.deepStrictEqual(await drainAsync(adb.stream("SELECT count(*)::int AS n FROM t")), [{ n: 1 }]);
  });
});

describe("stream(): options", () => {
  test("batchSize and unknown options are refused before anything is sent, the same on both sides", () => {
    const bad: [unknown, RegExp][] = [
      [{ batchSize: 0 }, /batchSize must be an integer ≥ 1, got 0/],
      [{ batchSize: 1.5 }, /batchSize must be an integer ≥ 1/],
      [{ batchSize: "10" }, /batchSize/],
      [{ batchsize: 10 }, /batchsize/],
      [{ signal: "x" }, /signal must be an AbortSignal/],
      [[], /options/],
    ];
    for (const [options, pattern] of bad) {
      let ea: unknown;
      let es: unknown;
      try {
        adb.stream("SELECT 1", null, options as never);
      } catch (e) {
        ea = e;
      }
      try {
        db.stream("SELECT 1", null, options as never);
      } catch (e) {
        es = e;
      }
      assert.ok(ea instanceof ParameterError, `${JSON.stringify(options)}: async ${String(ea)}`);
      assert.ok(es instanceof ParameterError, `${JSON.stringify(options)}: sync ${String(es)}`);
      assert.equal((es as Error).message, (ea as Error).message);
      assert.match((ea as Error).message, pattern);
    }
    assert.throws(() => adb.stream(42 as never), ParameterError);
    assert.throws(() => db.stream("SELECT $1, $2", [1]), ParameterError);
  });

  test("an already-aborted signal fails the first step, and nothing is left open", async () => {
    const d = new AsyncDatabase(ctx.config);
    try {
      const it = d.stream("INSERT INTO t VALUES (99, 'never') RETURNING id", null, { signal: AbortSignal.abort() });
      await assert.rejects(it.next(), QueryCanceled);
      assert.deepStrictEqual(await it.next(), { done: true, value: undefined });
      assert.equal(await d.fetchVal("SELECT count(*)::int FROM t WHERE id = 99"), 0);
      await d.connect(async (c) => assert.equal(await c.fetchVal("SELECT count(*)::int FROM pg_cursors"), 0));
    } finally {
      await d.close();
    }
  });

  test("a signal aborted between batches fails the next read (the rows already read come first); the cursor is closed", async () => {
    const d = new AsyncDatabase(ctx.config);
    try {
      const ac = new AbortController();
      const it = d.stream<{ g: number; pid: number }>("SELECT g, pg_backend_pid() AS pid FROM generate_series(1, 5000) g", null, { batchSize: 100, signal: ac.signal });
      const first = await it.next();
      const pid = (first.value as { pid: number }).pid;
      ac.abort();
      let n = 1;
      await assert.rejects(
        (async () => {
          for await (const _ of it) n++;
        })(),
        QueryCanceled,
      );
      assert.equal(n, 100);
      await eventually(() => rawQuery(`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`).then((r) => r[0]?.state), (st) => st === "idle", "the aborted stream's backend");
      await d.connect(async (c) => {
        assert.equal(await c.fetchVal("SELECT pg_backend_pid()"), pid);
        assert.equal(await c.fetchVal("SELECT count(*)::int FROM pg_cursors"), 0);
      });
    } finally {
      await d.close();
    }
  });

  test("a signal aborted while a batch is being read cancels it on the server (QueryCanceled); the connection goes on", async () => {
    const d = new AsyncDatabase(ctx.config);
    try {
      const ac = new AbortController();
      const it = d.stream<{ pid: number }>(
        "SELECT pg_backend_pid() AS pid, pg_sleep(CASE WHEN g = 2 THEN 30 ELSE 0 END) FROM generate_series(1, 3) g",
        null,
        { batchSize: 1, signal: ac.signal },
      );
      const pid = ((await it.next()).value as { pid: number }).pid;
      const second = it.next();
      await eventually(() => rawQuery(`SELECT wait_event FROM pg_stat_activity WHERE pid = ${pid}`).then((r) => r[0]?.wait_event), (w) => w === "PgSleep", "the read in pg_sleep");
      ac.abort();
      await assert.rejects(second, QueryCanceled);
      await eventually(() => rawQuery(`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`).then((r) => r[0]?.state), (st) => st === "idle", "the cancelled stream's backend");
      await d.connect(async (c) => assert.equal(await c.fetchVal("SELECT pg_backend_pid()"), pid));
    } finally {
      await d.close();
    }
  });
});
