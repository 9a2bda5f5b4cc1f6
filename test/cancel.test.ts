/**
 * Cancellation (`signal` / `timeout` on the query methods and executeMany, `cancellable`): the statement stops on
 * the server (read from `pg_stat_activity` through another connection), the error class is the same on both
 * sides, the handle stays usable, a cancel never stops another caller's statement (the shared pipelined
 * connection, a statement queued behind others, the statement after one that completed), and listeners go.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { getEventListeners } from "node:events";
import { beforeEach, describe, test } from "node:test";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import Cursor from "pg-cursor";
import { AsyncDatabase, Database, InFailedSqlTransaction, ParameterError, QueryCanceled } from "../src/index.js";
import { abortedByClient, cancellable } from "../src/core/cancel.js";
import { rawQuery, type TestSchema } from "./support/db.js";
import { eventually, refusedBeforeSending, sameErrorOn, type Either } from "./support/both-sides.js";
import { bothHandles } from "./support/handles.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

bothHandles("cancel", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute("CREATE TABLE t (v int NOT NULL)");
});

beforeEach(async () => {
  await adb.execute("TRUNCATE t");
});

/** A unique tag put in a statement's text, to find it in pg_stat_activity. */
const marker = (): string => `cancel_${randomBytes(6).toString("hex")}`;

/** Backends running a statement whose text contains `tag`, seen from another connection. */
async function runningWith(tag: string): Promise<number[]> {
  const rows = await rawQuery<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
    [`%${tag}%`],
  );
  return rows.map((r) => r.pid);
}

/** Waits until a statement tagged `tag` runs on the server; returns its backend. */
async function startedOn(tag: string): Promise<number> {
  const pids = await eventually(() => runningWith(tag), (p) => p.length === 1, `statement ${tag} running`);
  return pids[0]!;
}

/** Asserts that no backend runs a statement tagged `tag` any more, at the latest one second from now. */
async function stoppedWithinASecond(tag: string): Promise<void> {
  const deadline = Date.now() + 1000;
  for (;;) {
    const pids = await runningWith(tag);
    if (pids.length === 0) return;
    if (Date.now() > deadline) assert.fail(`statement ${tag} still runs on backend(s) ${pids.join(", ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const rows = async (): Promise<number> => (await rawQuery<{ n: number }>(`SELECT count(*)::int AS n FROM "${ctx.schema}".t`))[0]!.n;

/** Asserts `err` is the server's own cancel error (not the client-side one). */
function serverCancel(err: unknown): true {
  assert.ok(err instanceof QueryCanceled, `expected QueryCanceled, got ${String(err)}`);
  assert.equal(err.code, "57014");
  assert.match(err.message, /canceling statement due to user request/);
  return true;
}

const sleepy = (tag: string, seconds = 10): string => `SELECT pg_sleep(${seconds}) /* ${tag} */`;

describe("the statement stops on the server", () => {
  test("async: an abort while pg_sleep(10) runs cancels it there within a second; the handle goes on", async () => {
    const tag = marker();
    const c = new AbortController();
    const call = adb.execute(sleepy(tag), [], { signal: c.signal });
    const pid = await startedOn(tag);
    c.abort();
    await assert.rejects(call, serverCancel);
    await stoppedWithinASecond(tag);
    // The same backend is alive and idle (cancelled, not terminated), and the handle works.
    const [state] = await rawQuery<{ state: string }>("SELECT state FROM pg_stat_activity WHERE pid = $1", [pid]);
    assert.equal(state?.state, "idle");
    assert.equal(await adb.fetchVal("SELECT 41 + 1"), 42);
  });

  test("async and sync: timeout cancels pg_sleep(10) on the server (the same error class on both sides)", async () => {
    const tagA = marker();
    const errA = await adb.fetchVal(sleepy(tagA), [], { timeout: 200 }).then(() => assert.fail("no error"), (e: unknown) => e);
    serverCancel(errA);
    await stoppedWithinASecond(tagA);
    const tagS = marker();
    let errS: unknown;
    try {
      db.fetchVal(sleepy(tagS), [], { timeout: 200 });
    } catch (e) {
      errS = e;
    }
    serverCancel(errS);
    assert.equal((errS as Error).constructor, (errA as Error).constructor);
    await stoppedWithinASecond(tagS);
    assert.equal(db.fetchVal("SELECT 7"), 7);
  });

  test("on a connection and in cancellable(): the backend stops, the connection is reused", async () => {
    await adb.connect({ autocommit: true }, async (conn) => {
      const tag = marker();
      const c = new AbortController();
      const call = conn.query(sleepy(tag), null, { signal: c.signal });
      await startedOn(tag);
      c.abort();
      await assert.rejects(call, serverCancel);
      await stoppedWithinASecond(tag);
      assert.equal(await conn.fetchVal("SELECT 'still here'"), "still here");
    });
    const tag = marker();
    const c = new AbortController();
    const run = adb._withPlainSession((session) => cancellable(session, c.signal, () => session.query(sleepy(tag))));
    await startedOn(tag);
    c.abort();
    await assert.rejects(run, serverCancel);
    await stoppedWithinASecond(tag);
  });
});

describe("cancellable(), the helper of COPY and streams", () => {
  test("a submittable (pg-cursor) whose read runs is cancelled on the server; the session stays usable", async () => {
    const tag = marker();
    const c = new AbortController();
    const run = adb._withPlainSession(async (session) => {
      const read = cancellable(session, c.signal, () =>
        session.submit(new Cursor(`SELECT pg_sleep(10) /* ${tag} */`), async (cursor) => {
          try {
            return await cursor.read(10);
          } finally {
            await cursor.close().catch(() => undefined);
          }
        }),
      );
      await startedOn(tag);
      c.abort();
      await assert.rejects(read, serverCancel);
      assert.equal(session.broken, false);
      return (await session.query("SELECT 8 AS n")).rows[0]!.n;
    });
    assert.equal(await run, 8);
    await stoppedWithinASecond(tag);
  });

  test("COPY FROM STDIN with a stalled source: onAbort ends it (the server sees a cancel only with more data)", async () => {
    const tag = marker();
    const c = new AbortController();
    let copy: Writable | undefined;
    const stalled = new Readable({ read() {} }); // one row, then nothing, for ever
    stalled.push("1\n");
    const run = adb._withPlainSession((session) =>
      cancellable(
        session,
        c.signal,
        () =>
          session.submit(copyFrom(`COPY t (v) FROM STDIN /* ${tag} */`), async (stream) => {
            copy = stream;
            await pipeline(stalled, stream);
          }),
        () => copy?.destroy(abortedByClient("COPY")),
      ),
    );
    await eventually(async () => copy !== undefined && (await runningWith(tag)).length, (n) => n === 1, "COPY running");
    c.abort();
    await assert.rejects(run, (e: unknown) => e instanceof QueryCanceled && /client ended the COPY/.test(e.message));
    assert.equal(stalled.destroyed, true);
    assert.equal(await rows(), 0);
    assert.equal(await adb.fetchVal("SELECT 1"), 1);
  });

  test("already aborted: run is not called; nothing in flight: no request, run's result stands; listener gone", async () => {
    let called = false;
    await adb._withPlainSession(async (session) => {
      await assert.rejects(
        cancellable(session, AbortSignal.abort(), async () => (called = true)),
        (e: unknown) => e instanceof QueryCanceled && /before it was sent/.test(e.message),
      );
      assert.equal(called, false);
      const c = new AbortController();
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const result = cancellable(session, c.signal, async () => {
        await gate; // nothing is in flight while the caller waits on its side
        return (await session.query("SELECT 9 AS n FROM pg_sleep(0.05)")).rows[0]!.n;
      });
      c.abort();
      open();
      assert.equal(await result, 9);
      assert.equal(getEventListeners(c.signal, "abort").length, 0);
    });
  });
});

describe("aborted before sending, and refusals", () => {
  test("an already-aborted signal: a client-side QueryCanceled on both sides, nothing sent", async () => {
    const [err] = await refusedBeforeSending(ctx.config, [
      [(q: Either) => q.execute("SELECT 1", [], { signal: AbortSignal.abort() }), QueryCanceled, /before it was sent/],
      [(q: Either) => q.fetchVal("SELECT 1", null, { signal: AbortSignal.abort(), timeout: 10 }), QueryCanceled],
      [(q: Either) => q.executeMany("INSERT INTO t VALUES ($1)", [[1]], { signal: AbortSignal.abort() }), QueryCanceled],
    ]);
    assert.equal((err as QueryCanceled).code, "57014");
    assert.equal(await rows(), 0);
  });

  test("bad option values are ParameterErrors on both sides; a live signal is refused by the sync facade", async () => {
    for (const options of [{ timeout: -5 }, { timeout: Number.NaN }, { timeout: "100" }, { signal: "abort" }]) {
      await sameErrorOn<Either, Either>(adb, db, (q) => q.execute("SELECT 1", [], options as never), ParameterError, /option (timeout|signal) must be/);
    }
    await sameErrorOn<Either, Either>(adb, db, (q) => q.executeMany("SELECT $1", [[1]], { timeout: 0 }), ParameterError, /^executeMany\(\): option timeout/);
    const live = new AbortController().signal;
    assert.throws(() => db.execute("SELECT 1", [], { signal: live }), (e: unknown) => e instanceof ParameterError && /use the timeout option/.test(e.message));
    assert.equal(await adb.fetchVal("SELECT 1", [], { signal: live }), 1);
  });
});

describe("precision: never someone else's statement", () => {
  test("the shared connection: many concurrent statements, one aborted; every other one succeeds", async () => {
    const tag = marker();
    const c = new AbortController();
    const others = Array.from({ length: 40 }, (_, i) => adb.fetchVal<number>("SELECT $1::int FROM pg_sleep(0.03)", [i]));
    const mine = adb.fetchVal(sleepy(tag), [], { signal: c.signal });
    const more = Array.from({ length: 10 }, (_, i) => adb.fetchVal<number>("SELECT $1::int + 100 FROM pg_sleep(0.03)", [i]));
    await startedOn(tag);
    c.abort();
    await assert.rejects(mine, serverCancel);
    assert.deepEqual(await Promise.all(others), Array.from({ length: 40 }, (_, i) => i));
    assert.deepEqual(await Promise.all(more), Array.from({ length: 10 }, (_, i) => i + 100));
  });

  test("a statement queued behind others on a connection is dropped, not sent; the running one is untouched", async () => {
    await adb.connect({ autocommit: true }, async (conn) => {
      const c = new AbortController();
      const first = conn.fetchVal<number>("SELECT 5 FROM pg_sleep(0.3)");
      const queued = conn.execute("INSERT INTO t VALUES (1)", [], { signal: c.signal });
      c.abort();
      await assert.rejects(queued, (e: unknown) => e instanceof QueryCanceled && /before it was sent/.test(e.message));
      assert.equal(await first, 5);
      assert.equal(await conn.fetchVal("SELECT 6"), 6);
    });
    assert.equal(await rows(), 0);
  });

  test("an abort while waiting for a free connection rejects at once; nothing is sent", async () => {
    const small = new AsyncDatabase(ctx.config, { maxConnections: 1 });
    try {
      const held = await small.connect({ autocommit: true }); // the one dedicated connection
      const c = new AbortController();
      const waiting = small.execute("INSERT INTO t VALUES (1)", [], { signal: c.signal });
      c.abort();
      await assert.rejects(waiting, (e: unknown) => e instanceof QueryCanceled && /before it was sent/.test(e.message));
      await held.close();
      assert.equal(await small.fetchVal("SELECT 2", [], { signal: c.signal }).catch((e: unknown) => e instanceof QueryCanceled), true);
      assert.equal(await small.fetchVal("SELECT 3", [], { timeout: 5000 }), 3);
    } finally {
      await small.close();
    }
    assert.equal(await rows(), 0);
  });

  test("an abort after the statement completed does nothing: the next statement is never cancelled", async () => {
    await adb.connect({ autocommit: true }, async (conn) => {
      const c = new AbortController();
      assert.equal(await conn.fetchVal("SELECT 1", [], { signal: c.signal }), 1);
      c.abort();
      assert.equal(await conn.fetchVal("SELECT 2 FROM pg_sleep(0.2)"), 2);
      // The race itself: aborts landing around the end of a short statement, with the next one queued behind it.
      // A cancel that reached the server after the first had finished would stop the second one.
      for (let i = 0; i < 60; i++) {
        const ac = new AbortController();
        const short = conn.fetchVal("SELECT 1 FROM pg_sleep(0.002)", [], { signal: ac.signal }).catch((e: unknown) => e);
        const next = conn.fetchVal<number>("SELECT $1::int FROM pg_sleep(0.01)", [i]);
        setTimeout(() => ac.abort(), i % 6);
        assert.equal(await next, i, `iteration ${i}: the next statement was hit`);
        const outcome = await short;
        if (outcome !== 1) serverCancel(outcome);
      }
    });
  });
});

describe("transactions", () => {
  test("a cancelled statement fails the transaction (25P02 after it); a transaction() callback rolls back", async () => {
    const tx = await adb.transaction();
    try {
      await tx.execute("INSERT INTO t VALUES (1)");
      await assert.rejects(tx.execute("SELECT pg_sleep(10)", [], { timeout: 100 }), serverCancel);
      await assert.rejects(tx.execute("SELECT 1"), InFailedSqlTransaction);
    } finally {
      await tx.rollback();
    }
    const tag = marker();
    const c = new AbortController();
    const scoped = adb.transaction(async () => {
      await adb.execute("INSERT INTO t VALUES (2)"); // joins the transaction
      await adb.execute(sleepy(tag), [], { signal: c.signal });
    });
    await startedOn(tag);
    c.abort();
    await assert.rejects(scoped, serverCancel);
    assert.throws(() => db.transaction((stx) => {
      stx.execute("INSERT INTO t VALUES (3)");
      stx.execute("SELECT pg_sleep(10)", [], { timeout: 100 });
    }), QueryCanceled);
    assert.equal(await rows(), 0);
    assert.equal(await adb.fetchVal("SELECT 3"), 3);
  });
});

describe("executeMany", () => {
  const INSERT_SLOWLY = (tag: string) => `INSERT INTO t (v) SELECT $1::int FROM pg_sleep(0.05) /* ${tag} */`;

  for (const chunkSize of [undefined, 20]) {
    test(`an abort stops the batch on the server and nothing stays (chunkSize ${chunkSize ?? "default"})`, async () => {
      const tag = marker();
      const c = new AbortController();
      const sets = Array.from({ length: 200 }, (_, i) => [i]);
      const call = adb.executeMany(INSERT_SLOWLY(tag), sets, { signal: c.signal, chunkSize });
      const shared = adb.fetchVal<number>("SELECT 9 FROM pg_sleep(0.2)"); // the shared connection goes on meanwhile
      await startedOn(tag);
      c.abort();
      await assert.rejects(call, serverCancel);
      assert.equal(await shared, 9);
      await stoppedWithinASecond(tag);
      assert.equal(await rows(), 0);
    });
  }

  test("sync: a timeout stops executeMany; nothing stays", async () => {
    const tag = marker();
    const sets = Array.from({ length: 200 }, (_, i) => [i]);
    assert.throws(() => db.executeMany(INSERT_SLOWLY(tag), sets, { timeout: 300, chunkSize: 50 }), QueryCanceled);
    await stoppedWithinASecond(tag);
    assert.equal(await rows(), 0);
    assert.equal(db.executeMany("INSERT INTO t VALUES ($1)", [[1], [2]], { timeout: 10_000 }), 2);
    assert.equal(await rows(), 2);
  });
});

describe("listeners", () => {
  test("a long-lived signal used for 10,000 statements keeps no listener (and carries one while they run)", async () => {
    const c = new AbortController();
    const listeners = () => getEventListeners(c.signal, "abort").length;
    await adb.connect({ autocommit: true }, async (conn) => {
      for (let round = 0; round < 20; round++) {
        const calls = Array.from({ length: 500 }, (_, i) => conn.fetchVal<number>("SELECT $1::int", [i], { signal: c.signal }));
        if (round === 0) assert.equal(listeners(), 1); // one listener for all of them (the count below can fail)
        const got = await Promise.all(calls);
        assert.equal(got[499], 499);
      }
    });
    assert.equal(listeners(), 0);
    for (let i = 0; i < 200; i++) await adb.fetchVal("SELECT 1", [], { signal: c.signal });
    assert.ok(adb.connectionCount <= 4, `${adb.connectionCount} connections after 200 statements on dedicated sessions`);
    await adb.executeMany("INSERT INTO t VALUES ($1)", [[1], [2], [3]], { signal: c.signal, chunkSize: 1 });
    await assert.rejects(adb.execute("SELECT 1/0", [], { signal: c.signal }));
    assert.equal(listeners(), 0);
  });
});

describe("streams and COPY: signal and timeout", () => {
  test("stream and copyTo: timeout cancels pg_sleep(10) on the server, async and sync (the sync facade's way to cancel them)", async () => {
    const tags = [marker(), marker(), marker(), marker()];
    const errors: unknown[] = [];
    const take = async (f: () => unknown): Promise<void> => {
      try {
        await f();
        assert.fail("no error");
      } catch (e) {
        errors.push(e);
      }
    };
    await take(async () => {
      for await (const _ of adb.stream(sleepy(tags[0]!), null, { timeout: 200 }));
    });
    await take(() => [...db.stream(sleepy(tags[1]!), null, { timeout: 200 })]);
    await take(async () => {
      for await (const _ of adb.copyTo(`COPY (${sleepy(tags[2]!)}) TO STDOUT`, { timeout: 200 }));
    });
    await take(() => [...db.copyTo(`COPY (${sleepy(tags[3]!)}) TO STDOUT`, { timeout: 200 })]);
    for (const e of errors) serverCancel(e);
    for (const tag of tags) await stoppedWithinASecond(tag);
    assert.equal(db.fetchVal("SELECT 7"), 7);
    assert.equal(await adb.fetchVal("SELECT 8"), 8);
  });

  test("copyInsert: timeout while the source waits for its next row ends the COPY; nothing stays; bad timeouts refused alike", async () => {
    async function* stalls(): AsyncGenerator<{ v: number }> {
      yield { v: 1 };
      await new Promise(() => undefined);
    }
    await assert.rejects(adb.copyInsert(`${ctx.schema}.t`, stalls(), { timeout: 200 }), QueryCanceled);
    assert.equal(await rows(), 0);
    for (const timeout of [0, -1, Number.NaN, "1"]) {
      await assert.rejects(adb.copyInsert(`${ctx.schema}.t`, [{ v: 1 }], { timeout: timeout as number }), ParameterError);
      assert.throws(() => db.copyInsert(`${ctx.schema}.t`, [{ v: 1 }], { timeout: timeout as number }), ParameterError);
      assert.throws(() => db.stream("SELECT 1", null, { timeout: timeout as number }), ParameterError);
    }
    assert.equal(await rows(), 0);
  });
});
