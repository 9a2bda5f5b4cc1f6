/**
 * Server-side cursors of `db.cursor()` / `conn.cursor()`: `execute()` opens a portal and reads the first batch; the
 * rest is read as it is fetched. Row values, rowCount's meaning, a new execute() discarding the unread rows,
 * another statement on the cursor's connection refused while rows remain (not hung), errors mid-fetch, and the
 * synchronous facade's iteration (packed batches, a loop that stops half-way gives the unread rows back).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AsyncDatabase, Database, DivisionByZero, TscopgError } from "../src/index.js";
import type { TestSchema } from "./support/db.js";
import { bothHandles } from "./support/handles.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

bothHandles("scursor", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
});

const BIG = "SELECT g AS n, g::int8 AS b, 'v' || g AS s, timestamptz '2024-01-01Z' + g * interval '1 s' AS ts FROM generate_series(1, 2500) g ORDER BY g";
const OPEN = (e: unknown) => e instanceof TscopgError && /server-side cursor .* is open on this connection/.test((e as Error).message);

describe("server-side cursors (async)", () => {
  test("fetchOne/fetchMany/fetchAll across batches equal execute's rows; rowCount is -1 until the rows are all read", async () => {
    const expected = await adb.execute(BIG);
    await using cur = await adb.cursor();
    await cur.execute(BIG);
    assert.equal(cur.rowCount, -1, "rows remain unread on the server");
    assert.deepEqual(cur.description?.map((d) => [d.name, d.dataTypeID]), [["n", 23], ["b", 20], ["s", 25], ["ts", 1184]]);
    const got = [await cur.fetchOne()];
    got.push(...(await cur.fetchMany(1500)));
    assert.equal(cur.rowCount, -1);
    got.push(...(await cur.fetchAll()));
    assert.deepStrictEqual(got, expected);
    assert.equal(cur.rowCount, 2500);
    assert.equal(await cur.fetchOne(), null);
    assert.deepEqual(await cur.fetchMany(), []);
    await cur.execute("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 10) g");
    assert.equal(cur.rowCount, 10);
    assert.equal(cur.description, null);
    await cur.rollback();
  });

  test("a new execute() discards the unread rows (the previous portal is closed)", async () => {
    await adb.cursor(async (cur) => {
      await cur.execute(BIG);
      assert.deepEqual(await cur.fetchOne(), { n: 1, b: 1n, s: "v1", ts: new Date("2024-01-01T00:00:01Z") });
      await cur.execute("SELECT count(*)::int AS open FROM pg_cursors");
      assert.deepEqual(await cur.fetchAll(), [{ open: 1 }]); // its own portal only
    });
  });

  test("a script of several statements without parameters runs (the last result's rows), as before cursors were server-side, on both sides", async () => {
    const script = "CREATE TEMP TABLE script_t (x int); INSERT INTO script_t VALUES (1), (2); SELECT x FROM script_t ORDER BY x";
    await adb.cursor(async (cur) => {
      await cur.execute(script);
      assert.deepEqual(await cur.fetchAll(), [{ x: 1 }, { x: 2 }]);
      assert.equal(cur.rowCount, 2);
      assert.deepEqual(cur.description?.map((d) => d.name), ["x"]);
      await cur.execute("SELECT 1 AS one; SELECT 2 AS two");
      assert.deepEqual(await cur.fetchOne(), { two: 2 });
    });
    db.cursor((cur) => {
      cur.execute(script);
      assert.deepEqual(cur.fetchAll(), [{ x: 1 }, { x: 2 }]);
      assert.equal(cur.rowCount, 2);
    });
  });

  test("conn.cursor(): another statement on the connection while rows remain is refused; after close() it runs", async () => {
    await adb.connect({ autocommit: true }, async (conn) => {
      const cur = await conn.cursor();
      await cur.execute(BIG);
      await cur.fetchMany(10);
      await assert.rejects(conn.execute("SELECT 1"), OPEN);
      await cur.close();
      assert.equal(await conn.fetchVal("SELECT count(*)::int FROM pg_cursors"), 0);
      assert.equal(conn.closed, false);
      // Read to its end, the connection is free without closing the cursor.
      await cur.execute(BIG);
      assert.equal((await cur.fetchAll()).length, 2500);
      assert.equal(await conn.fetchVal("SELECT 7"), 7);
    });
    // In a transaction (autocommit off): the statement, commit() and rollback() are refused too, not hung.
    await adb.connect(async (conn) => {
      const cur = await conn.cursor();
      await cur.execute(BIG);
      await assert.rejects(conn.execute("SELECT 1"), OPEN);
      await assert.rejects(conn.commit(), OPEN);
      await assert.rejects(conn.rollback(), OPEN);
      await cur.close();
      assert.equal(await conn.fetchVal("SELECT 9"), 9);
    });
  });

  test("commit() discards the unread rows and commits", async () => {
    await adb.execute("TRUNCATE t");
    await adb.cursor(async (cur) => {
      await cur.execute("INSERT INTO t VALUES (1, 'kept')");
      await cur.execute(BIG);
      await cur.fetchOne();
      await cur.commit();
      assert.equal(await cur.fetchOne(), null);
    });
    assert.equal(await adb.fetchVal("SELECT v FROM t WHERE id = 1"), "kept");
  });

  test("an error mid-fetch (row 1500) surfaces from the fetch; the connection stays usable", async () => {
    await adb.connect({ autocommit: true }, async (conn) => {
      const cur = await conn.cursor();
      await cur.execute("SELECT g, 1 / (1500 - g) AS x FROM generate_series(1, 3000) g");
      assert.equal((await cur.fetchMany(1000)).length, 1000);
      await assert.rejects(cur.fetchAll(), DivisionByZero);
      assert.equal(await cur.fetchOne(), null);
      assert.equal(await conn.fetchVal("SELECT 8"), 8);
    });
  });
});

describe("server-side cursors (sync)", () => {
  test("iteration moves packed batches: equal rows; a loop stopped half-way in a batch gives the rest back", () => {
    const expected = db.execute(BIG.replace("2500", "5000"));
    db.cursor((cur) => {
      cur.execute(BIG.replace("2500", "5000"));
      assert.equal(cur.rowCount, -1);
      const first: unknown[] = [];
      for (const row of cur) {
        first.push(row);
        if (first.length === 1500) break; // in the second batch (read as text and packed)
      }
      const rest = [...cur];
      assert.deepStrictEqual([...first, ...rest], expected);
      assert.equal(cur.rowCount, 5000);
    });
  });

  test("another statement on the connection while rows remain is refused; a new execute discards them", () => {
    db.connect({ autocommit: true }, (conn) => {
      using cur = conn.cursor();
      cur.execute(BIG);
      assert.deepEqual(cur.fetchOne(), { n: 1, b: 1n, s: "v1", ts: new Date("2024-01-01T00:00:01Z") });
      assert.throws(() => conn.fetchVal("SELECT 1"), OPEN);
      cur.execute("SELECT 2 AS two");
      assert.deepEqual(cur.fetchAll(), [{ two: 2 }]);
      assert.equal(conn.fetchVal("SELECT count(*)::int FROM pg_cursors"), 0);
    });
  });

  test("closing the connection closes its cursor's portal: the next user of the session finds it free", async () => {
    const d = new AsyncDatabase(ctx.config);
    try {
      const conn = await d.connect({ autocommit: true });
      const pid = await conn.fetchVal("SELECT pg_backend_pid()");
      const cur = await conn.cursor();
      await cur.execute(BIG);
      await conn.close();
      await assert.rejects(cur.fetchAll(), /ended \(or was closed\), which closed the cursor/);
      await d.connect(async (again) => {
        assert.equal(await again.fetchVal("SELECT pg_backend_pid()"), pid); // the same session, reused
        assert.equal(await again.fetchVal("SELECT count(*)::int FROM pg_cursors"), 0);
      });
    } finally {
      await d.close();
    }
  });
});
