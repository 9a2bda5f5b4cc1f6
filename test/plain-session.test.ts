/**
 * The plain-session seam (`_withPlainSession`) and `PgSession.submit`: COPY (pg-copy-streams) and cursors
 * (pg-cursor) on a non-pipelined session: joining the ambient transaction, a dedicated session given back,
 * refusals on pipelined sessions, server errors, and a driver (`drive`) that fails half-way. Every check reads
 * back what the server holds.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, beforeEach, describe, test } from "node:test";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import Cursor from "pg-cursor";
import { AsyncDatabase, DatabaseError, InFailedSqlTransaction, TscopgError } from "../src/index.js";
import { ConnectionSource } from "../src/core/connection-source.js";
import type { PgSession } from "../src/core/pg-session.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
let db: AsyncDatabase;

before(async () => {
  ctx = await createTestSchema("plain");
  db = new AsyncDatabase(ctx.config);
  await db.execute("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)");
});

after(async () => {
  await db?.close();
  await ctx?.drop();
});

beforeEach(async () => {
  await db.execute("TRUNCATE t");
});

const COPY_IN = "COPY t (id, v) FROM STDIN";

/** COPY FROM STDIN of `lines` through `session.submit`; resolves with the rows copied. */
function copyIn(session: PgSession, lines: Iterable<string> | AsyncIterable<string>): Promise<number> {
  return session.submit(copyFrom(COPY_IN), async (stream) => {
    await pipeline(Readable.from(lines), stream);
    return stream.rowCount;
  });
}

/** Rows of `t` as committed (seen from another connection). */
const committed = async (): Promise<number> => (await rawQuery<{ n: number }>(`SELECT count(*)::int AS n FROM "${ctx.schema}".t`))[0]!.n;

const pidOf = async (session: PgSession): Promise<number> => (await session.query("SELECT pg_backend_pid() AS pid")).rows[0]!.pid as number;

describe("_withPlainSession on the database", () => {
  test("inside db.transaction() it gives the transaction's session: a COPY joins it and rolls back with it", async () => {
    await assert.rejects(
      db.transaction(async () => {
        const n = await db._withPlainSession(async (s) => {
          assert.equal(await pidOf(s), await db.fetchVal("SELECT pg_backend_pid()"), "the transaction's own session");
          return copyIn(s, ["1\ta\n", "2\tb\n"]);
        });
        assert.equal(n, 2);
        assert.equal(await db.fetchVal("SELECT count(*) FROM t"), 2n, "visible inside the transaction");
        assert.equal(await committed(), 0, "not committed yet");
        throw new Error("callback fails");
      }),
      /callback fails/,
    );
    assert.equal(await committed(), 0, "rolled back with the transaction");

    await db.transaction(async () => {
      await db._withPlainSession((s) => copyIn(s, ["3\tc\n"]));
    });
    assert.equal(await committed(), 1, "committed with the transaction");
  });

  test("{ autocommit: true } escapes the ambient transaction: the COPY commits on its own", async () => {
    await assert.rejects(
      db.transaction(async () => {
        await db._withPlainSession((s) => copyIn(s, ["1\ta\n"]), { autocommit: true });
        assert.equal(await committed(), 1);
        throw new Error("callback fails");
      }),
    );
    assert.equal(await committed(), 1);
  });

  test("outside a transaction: a dedicated session, committing at once, given back when fn settles (also on a throw)", async () => {
    await using one = new AsyncDatabase(ctx.config, { maxConnections: 1, acquireTimeout: 3000 });
    const sharedPid = await one.fetchVal<number>("SELECT pg_backend_pid()");
    const pid = await one._withPlainSession(async (s) => {
      assert.equal(await copyIn(s, ["1\ta\n", "2\tb\n"]), 2);
      assert.equal(await committed(), 2, "committed at once");
      assert.equal(one.connectionCount, 2, "the shared connection and this one");
      return pidOf(s);
    });
    assert.notEqual(pid, sharedPid, "not the shared pipelined connection");
    assert.equal(one.connectionCount, 2, "given back to the idle cache");
    // maxConnections is 1: had the session not been given back, these would fail with PoolTimeout.
    await assert.rejects(one._withPlainSession(async () => Promise.reject(new Error("fn fails"))), /fn fails/);
    assert.equal(await one._withPlainSession(pidOf), pid, "the same session, given back after the throw too");
  });
});

describe("_withPlainSession on transactions and connections", () => {
  test("a connection with autocommit: false begins a transaction first: its rollback() undoes the COPY", async () => {
    await db.connect(async (conn) => {
      await conn._withPlainSession((s) => copyIn(s, ["1\ta\n"]));
      assert.equal(await conn.fetchVal("SELECT count(*) FROM t"), 1n);
      assert.equal(await committed(), 0);
      await conn.rollback();
    });
    assert.equal(await committed(), 0);
  });

  test("finished transactions and closed connections refuse it; a transaction waits for its savepoint callback", async () => {
    const tx = await db.transaction();
    const order: string[] = [];
    const savepoint = tx.transaction(async (sp) => {
      await new Promise((r) => setTimeout(r, 20));
      await sp.execute("INSERT INTO t VALUES (1, 'savepoint')");
      order.push("savepoint");
    });
    await tx._withPlainSession(async (s) => {
      order.push("plain");
      await copyIn(s, ["2\tplain\n"]);
    });
    await savepoint;
    assert.deepEqual(order, ["savepoint", "plain"]);
    await tx.commit();
    assert.equal(await committed(), 2);
    await assert.rejects(tx._withPlainSession(async () => 1), (e: unknown) => e instanceof TscopgError && /finished/.test(String(e)));
    const conn = await db.connect();
    await conn.close();
    await assert.rejects(conn._withPlainSession(async () => 1), (e: unknown) => e instanceof TscopgError && /closed/.test(String(e)));
  });
});

describe("PgSession.submit", () => {
  test("is refused on the shared pipelined session, before anything is sent", async () => {
    const source = new ConnectionSource(ctx.config);
    try {
      const shared = await source.shared();
      let driven = false;
      await assert.rejects(
        shared.submit(copyFrom(COPY_IN), async () => {
          driven = true;
        }),
        (e: unknown) => e instanceof TscopgError && /shared pipelined connection/.test(e.message),
      );
      assert.equal(driven, false);
      assert.equal((await shared.query("SELECT 41 + 1 AS n")).rows[0]!.n, 42);
      assert.equal(await committed(), 0);
    } finally {
      await source.close();
    }
  });

  test("is refused while an executeMany batch runs pipelined on a plain session, and runs once it is done", async () => {
    await db.connect({ autocommit: true }, (conn) =>
      conn._withPlainSession(async (s) => {
        // What conn.executeMany() runs: the session switches to pipeline mode until the batch has answered.
        const batch = s.batch("INSERT INTO t VALUES ($1, $2)", [[1, "a"], [2, "b"]], true);
        await assert.rejects(copyIn(s, ["3\tc\n"]), (e: unknown) => e instanceof TscopgError && /executeMany/.test(e.message));
        assert.equal(await batch, 2);
        assert.equal(await copyIn(s, ["3\tc\n"]), 1);
      }),
    );
    assert.equal(await committed(), 3);
  });

  test("a COPY error is a DatabaseError with its SQLSTATE and the text; the session stays usable", async () => {
    await db._withPlainSession(async (s) => {
      await assert.rejects(copyIn(s, ["1\ta\n", "not-a-number\tb\n"]), (e: unknown) => {
        assert.ok(e instanceof DatabaseError, String(e));
        assert.equal(e.code, "22P02");
        assert.equal(e.query, COPY_IN);
        return true;
      });
      assert.equal((await s.query("SELECT 41 + 1 AS n")).rows[0]!.n, 42);
      assert.equal(s.txStatus, "I");
    });
    assert.equal(await committed(), 0);
  });

  test("inside a transaction, a failed COPY caught by the callback makes the commit raise InFailedSqlTransaction", async () => {
    await assert.rejects(
      db.transaction(async () => {
        await db.execute("INSERT INTO t VALUES (1, 'before')");
        await db._withPlainSession((s) => copyIn(s, ["x\ty\n"])).catch(() => undefined);
      }),
      InFailedSqlTransaction,
    );
    assert.equal(await committed(), 0);
  });

  test("COPY TO STDOUT streams out, inside the transaction's snapshot", async () => {
    const out = await db.transaction(async () => {
      await db.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 3) g");
      return db._withPlainSession((s) =>
        s.submit(copyTo("COPY (SELECT id, v FROM t ORDER BY id) TO STDOUT"), async (stream) => {
          let text = "";
          for await (const chunk of stream) text += String(chunk);
          return text;
        }),
      );
    });
    assert.equal(out, "1\tv1\n2\tv2\n3\tv3\n");
  });

  test("a source stream that fails: its own error is raised, the COPY is failed on the server, the session stays usable", async () => {
    async function* lines() {
      yield "1\ta\n";
      throw new Error("the source broke");
    }
    await db._withPlainSession(async (s) => {
      await assert.rejects(copyIn(s, lines()), /the source broke/);
      assert.equal(s.broken, false);
      assert.equal((await s.query("SELECT 41 + 1 AS n")).rows[0]!.n, 42);
    });
    assert.equal(await committed(), 0);
  });

  test("a COPY TO consumer that fails half-way: its error is raised and the connection is closed; the handle goes on", async () => {
    await using one = new AsyncDatabase(ctx.config, { maxConnections: 1, acquireTimeout: 3000 });
    let first: PgSession | undefined;
    await assert.rejects(
      one._withPlainSession(async (s) => {
        first = s;
        return s.submit(copyTo("COPY (SELECT g FROM generate_series(1, 500000) g) TO STDOUT"), async (stream) => {
          for await (const chunk of stream) if (chunk) throw new Error("the consumer broke");
        });
      }),
      /the consumer broke/,
    );
    assert.equal(first!.broken, true);
    assert.equal(await one._withPlainSession(async (s) => (s === first ? "reused" : (await s.query("SELECT 'fresh' AS x")).rows[0]!.x)), "fresh");
  });

  test("a pg-cursor reads in batches inside a transaction; a failing reader gets it closed and the session goes on", async () => {
    await db.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5) g");
    await db.transaction(async () => {
      const batches = await db._withPlainSession((s) =>
        s.submit(new Cursor("SELECT id FROM t ORDER BY id"), async (cursor) => {
          const seen: number[][] = [];
          for (let rows = await cursor.read(2); rows.length > 0; rows = await cursor.read(2)) seen.push(rows.map((r) => r.id));
          await cursor.close();
          return seen;
        }),
      );
      assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
      assert.equal(await db.fetchVal("SELECT 41 + 1"), 42, "the transaction goes on");
    });
    await db._withPlainSession(async (s) => {
      await assert.rejects(
        s.submit(new Cursor("SELECT id FROM t"), async (cursor) => {
          await cursor.read(1);
          throw new Error("the reader broke");
        }),
        /the reader broke/,
      );
      assert.equal(s.broken, false);
      assert.equal((await s.query("SELECT 41 + 1 AS n")).rows[0]!.n, 42);
    });
  });
});
