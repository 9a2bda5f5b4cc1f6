/**
 * `transaction(fn, options)`: how a transaction begins (isolation, read only) and `retry`, which runs the callback
 * again after a serialization failure or a deadlock, on real conflicts between real transactions; async and sync.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import {
  DeadlockDetected,
  ParameterError,
  ReadOnlySqlTransaction,
  RETRY_DEFAULTS,
  SerializationFailure,
  UniqueViolation,
  Database,
  type AsyncDatabase,
  type TransactionOptions,
} from "../src/index.js";
import { isRetryable, retryDelay, retryPolicy } from "../src/core/tx-retry.js";
import { sleepSync } from "../src/sync/spin.js";
import { errorOf, sameError } from "./support/both-sides.js";
import { bothHandles } from "./support/handles.js";
import { runNode, type ChildResult } from "./support/node-child.js";
import type { TestSchema } from "./support/db.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
bothHandles("txretry", (h) => ({ ctx, adb, db } = h));

let tables = 0;
/** A fresh table name (tests share the file's schema). */
const table = (what: string) => `${what}_${++tables}`;

/** Resolves everyone's wait once `n` parties have arrived (later arrivals pass at once). */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++arrived >= n) open();
    return opened;
  };
}

/** A statement failing with SQLSTATE 40001, as a conflict would. */
const SERIALIZATION_FAILURE = "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$";

const fast = { attempts: 3, baseDelay: 1 } as const;

describe("the retry policy", () => {
  test("true, a number of attempts, or an object; checked", () => {
    assert.deepEqual(retryPolicy("transaction", true), RETRY_DEFAULTS);
    assert.deepEqual(RETRY_DEFAULTS, { attempts: 5, baseDelay: 10, maxDelay: 1000 });
    assert.equal(retryPolicy("transaction", false), undefined);
    assert.equal(retryPolicy("transaction", undefined), undefined);
    assert.deepEqual(retryPolicy("transaction", 2), { attempts: 2, baseDelay: 10, maxDelay: 1000 });
    assert.deepEqual(retryPolicy("transaction", { baseDelay: 5000 }), { attempts: 5, baseDelay: 5000, maxDelay: 5000 });
    assert.deepEqual(retryPolicy("transaction", { attempts: 3, baseDelay: 0, maxDelay: 50 }), { attempts: 3, baseDelay: 0, maxDelay: 50 });
    for (const bad of [0, -1, 1.5, { attempts: 0 }, { baseDelay: -1 }, { maxDelay: Infinity }, { tries: 3 }, "yes", []]) {
      assert.throws(() => retryPolicy("transaction", bad), ParameterError, JSON.stringify(bad));
    }
  });

  test("exponential waits with jitter, capped", () => {
    const p = { attempts: 10, baseDelay: 10, maxDelay: 100 };
    assert.equal(retryDelay(p, 1, () => 0), 5);
    assert.equal(retryDelay(p, 1, () => 1), 10);
    assert.equal(retryDelay(p, 3, () => 1), 40);
    assert.equal(retryDelay(p, 3, () => 0.5), 30);
    assert.equal(retryDelay(p, 9, () => 1), 100);
    assert.equal(retryDelay(p, 9, () => 0), 50);
  });

  test("only serialization failures and deadlocks", () => {
    assert.ok(isRetryable(new SerializationFailure("x", { code: "40001" })));
    assert.ok(isRetryable(new DeadlockDetected("x", { code: "40P01" })));
    assert.ok(!isRetryable(new UniqueViolation("x", { code: "23505" })));
    assert.ok(!isRetryable(new Error("40001")));
    assert.ok(!isRetryable(undefined));
  });
});

describe("transaction options", () => {
  test("isolation and read only set how the transaction begins, in every form, on both sides", async () => {
    const show = "SELECT current_setting('transaction_isolation') || ' ' || current_setting('transaction_read_only')";
    const options: TransactionOptions = { isolation: "serializable", readOnly: true, deferrable: true };
    assert.equal(await adb.transaction((tx) => tx.fetchVal(show), options), "serializable on");
    assert.equal(await adb.transaction(options, (tx) => tx.fetchVal(show)), "serializable on");
    assert.equal(db.transaction((tx) => tx.fetchVal(show), options), "serializable on");
    assert.equal(db.transaction(options, (tx) => tx.fetchVal(show)), "serializable on");
    {
      await using tx = await adb.transaction({ isolation: "repeatable read", readOnly: false });
      assert.equal(await tx.fetchVal(show), "repeatable read off");
    }
    {
      using tx = db.transaction({ isolation: "repeatable read" });
      assert.equal(tx.fetchVal(show), "repeatable read off");
    }
    // Inside the callback, the database's own methods join the transaction as usual.
    assert.equal(await adb.transaction(() => adb.fetchVal(show), { isolation: "read committed", readOnly: true }), "read committed on");
    assert.equal(db.transaction(() => db.fetchVal(show), { isolation: "read committed", readOnly: true }), "read committed on");
    // On a connection, outside its own transaction.
    assert.equal(await adb.connect({ autocommit: true }, (conn) => conn.transaction((tx) => tx.fetchVal(show), options)), "serializable on");
  });

  test("a read-only transaction refuses writes (the server's error, both sides)", async () => {
    const t = table("ro");
    await adb.execute(`CREATE TABLE ${t} (i int)`);
    await sameError(
      () => adb.transaction((tx) => tx.execute(`INSERT INTO ${t} VALUES (1)`), { readOnly: true }),
      () => db.transaction((tx) => tx.execute(`INSERT INTO ${t} VALUES (1)`), { readOnly: true }),
      ReadOnlySqlTransaction,
    );
  });

  test("wrong options, modes on a savepoint, retry without a callback or on a savepoint: ParameterError, both sides", async () => {
    const cases: [string, () => Promise<unknown>, () => unknown, RegExp][] = [
      ["isolation", () => adb.transaction(async () => 1, { isolation: "chaos" as never }), () => db.transaction(() => 1, { isolation: "chaos" as never }), /isolation must be one of/],
      ["unknown", () => adb.transaction(async () => 1, { tries: 2 } as never), () => db.transaction(() => 1, { tries: 2 } as never), /unknown option "tries"/],
      ["retry kind", () => adb.transaction(async () => 1, { retry: "yes" as never }), () => db.transaction(() => 1, { retry: "yes" as never }), /retry must be a boolean, a number or a plain object/],
      ["attempts", () => adb.transaction(async () => 1, { retry: 0 }), () => db.transaction(() => 1, { retry: 0 }), /attempts must be an integer ≥ 1, got 0/],
      ["no callback", () => adb.transaction({ retry: true }), () => db.transaction({ retry: true }), /retry needs the callback form/],
      ["second argument", () => adb.transaction({}, 3 as never), () => db.transaction({}, 3 as never), /after the options comes the callback/],
      [
        "retry on a savepoint",
        () => adb.transaction((tx) => tx.transaction(async () => 1, { retry: true })),
        () => db.transaction((tx) => tx.transaction(() => 1, { retry: true })),
        /retry only on an outermost transaction/,
      ],
      [
        "retry inside a callback of the same database",
        () => adb.transaction(() => adb.transaction(async () => 1, { retry: 2 })),
        () => db.transaction(() => db.transaction(() => 1, { retry: 2 })),
        /retry only on an outermost transaction/,
      ],
      [
        "modes on a savepoint",
        () => adb.transaction((tx) => tx.transaction(async () => 1, { isolation: "serializable" })),
        () => db.transaction((tx) => tx.transaction(() => 1, { isolation: "serializable" })),
        /a nested transaction\(\) is a savepoint/,
      ],
      [
        "retry on a connection's savepoint",
        () => adb.connect((conn) => conn.execute("SELECT 1").then(() => conn.transaction(async () => 1, { retry: true }))),
        () => db.connect((conn) => (conn.execute("SELECT 1"), conn.transaction(() => 1, { retry: true }))),
        /retry only on an outermost transaction/,
      ],
    ];
    for (const [what, a, s, pattern] of cases) {
      const err = await sameError(a, s, ParameterError, pattern).catch((e: unknown) => assert.fail(`${what}: ${String(e)}`));
      assert.ok(err, what);
    }
    // The handles go on working, with nothing left open.
    assert.equal(await adb.fetchVal("SELECT 1"), 1);
    assert.equal(db.fetchVal("SELECT 1"), 1);
  });
});

/** Two serializable transactions that each read the row count, then insert: classic write skew. */
async function asyncWriteSkew(retry: TransactionOptions["retry"]) {
  const t = table("skew");
  await adb.execute(`CREATE TABLE ${t} (who text, seen int)`);
  const arrive = barrier(2);
  const calls = { a: 0, b: 0 };
  const run = (who: "a" | "b") =>
    adb.transaction(
      async (tx) => {
        calls[who]++;
        const seen = await tx.fetchVal<number>(`SELECT count(*)::int FROM ${t}`);
        await arrive(); // both have read before either writes
        await tx.execute(`INSERT INTO ${t} VALUES ($1, $2)`, [who, seen]);
        return seen;
      },
      { isolation: "serializable", retry },
    );
  const results = await Promise.allSettled([run("a"), run("b")]);
  const rows = await adb.execute<{ who: string; seen: number }>(`SELECT who, seen FROM ${t} ORDER BY seen`);
  return { results, calls, rows };
}

describe("retry, async", () => {
  test("write skew: without retry one transaction fails with SerializationFailure", async () => {
    const { results, calls, rows } = await asyncWriteSkew(undefined);
    const failed = results.filter((r) => r.status === "rejected");
    assert.equal(failed.length, 1);
    assert.ok((failed[0] as PromiseRejectedResult).reason instanceof SerializationFailure);
    assert.deepEqual(calls, { a: 1, b: 1 });
    assert.equal(rows.length, 1);
  });

  test("write skew: with retry both succeed, as if one ran after the other", async () => {
    const { results, calls, rows } = await asyncWriteSkew({ attempts: 3, baseDelay: 5 });
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "fulfilled"],
    );
    assert.equal(calls.a + calls.b, 3); // the loser ran twice
    // The second saw the first's row: the final state of a serial order.
    assert.deepEqual(
      rows.map((r) => r.seen),
      [0, 1],
    );
    assert.deepEqual(new Set(rows.map((r) => r.who)), new Set(["a", "b"]));
    const values = results.map((r) => (r as PromiseFulfilledResult<number>).value).sort();
    assert.deepEqual(values, [0, 1]); // each call returns its last attempt's value
  });

  test("a deadlock is retried (the victim runs again once the other has committed)", async () => {
    const t = table("dead");
    await adb.execute(`CREATE TABLE ${t} (id int PRIMARY KEY, n int NOT NULL)`);
    await adb.execute(`INSERT INTO ${t} VALUES (1, 0), (2, 0)`);
    const run = async (retry: TransactionOptions["retry"]) => {
      const arrive = barrier(2);
      const calls = [0, 0, 0];
      // The first detects the deadlock (after 100 ms; the other would wait 10 s): it is the victim.
      const lock = (first: number, second: number, timeout: string) =>
        adb.transaction(
          async (tx) => {
            calls[first]!++;
            await tx.execute(`SET LOCAL deadlock_timeout = '${timeout}'`);
            await tx.execute(`UPDATE ${t} SET n = n + 1 WHERE id = $1`, [first]);
            await arrive();
            await tx.execute(`UPDATE ${t} SET n = n + 1 WHERE id = $1`, [second]);
          },
          { retry },
        );
      const results = await Promise.allSettled([lock(1, 2, "100ms"), lock(2, 1, "10s")]);
      return { results, calls };
    };
    const without = await run(undefined);
    assert.equal(without.results[0].status, "rejected");
    assert.ok((without.results[0] as PromiseRejectedResult).reason instanceof DeadlockDetected);
    assert.equal(without.results[1].status, "fulfilled");
    const withRetry = await run({ attempts: 3, baseDelay: 5 });
    assert.deepEqual(
      withRetry.results.map((r) => r.status),
      ["fulfilled", "fulfilled"],
    );
    assert.deepEqual(withRetry.calls, [0, 2, 1]);
    // Without retry: the survivor's two updates; with retry: both transactions' four.
    assert.deepEqual(await adb.execute(`SELECT id, n FROM ${t} ORDER BY id`), [
      { id: 1, n: 3 },
      { id: 2, n: 3 },
    ]);
  });
});

/** A deferred constraint trigger whose first `failures` runs fail with 40001: a COMMIT that fails to serialize. */
async function failingCommits(failures: number): Promise<string> {
  const t = table("commit");
  await adb.execute(`CREATE SEQUENCE ${t}_runs`);
  await adb.execute(`CREATE TABLE ${t} (i int)`);
  await adb.execute(`CREATE FUNCTION ${t}_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('${t}_runs') <= ${failures} THEN
        RAISE EXCEPTION 'could not serialize at commit' USING ERRCODE = 'serialization_failure';
      END IF;
      RETURN NULL;
    END $$`);
  await adb.execute(`CREATE CONSTRAINT TRIGGER ${t}_check AFTER INSERT ON ${t} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${t}_check()`);
  return t;
}

describe("retry, both sides", () => {
  test("a COMMIT that fails to serialize is retried", async () => {
    const ta = await failingCommits(2);
    let asyncCalls = 0;
    await adb.transaction(
      async (tx) => {
        asyncCalls++;
        await tx.execute(`INSERT INTO ${ta} VALUES ($1)`, [asyncCalls]);
      },
      { retry: fast },
    );
    assert.equal(asyncCalls, 3);
    assert.deepEqual(await adb.execute(`SELECT i FROM ${ta}`), [{ i: 3 }]);
    const ts = await failingCommits(2);
    let syncCalls = 0;
    db.transaction(
      (tx) => {
        syncCalls++;
        tx.execute(`INSERT INTO ${ts} VALUES ($1)`, [syncCalls]);
      },
      { retry: fast },
    );
    assert.equal(syncCalls, 3);
    assert.deepEqual(db.execute(`SELECT i FROM ${ts}`), [{ i: 3 }]);
  });

  test("attempts spent: the last attempt's error, with the attempts made, after the waits", async () => {
    const retry = { attempts: 3, baseDelay: 20 };
    let asyncCalls = 0;
    let t0 = performance.now();
    const ea = await errorOf(() =>
      adb.transaction(async (tx) => {
        asyncCalls++;
        await tx.execute(SERIALIZATION_FAILURE);
      }, { retry }),
    );
    const asyncMs = performance.now() - t0;
    let syncCalls = 0;
    t0 = performance.now();
    const es = await errorOf(() =>
      db.transaction((tx) => {
        syncCalls++;
        tx.execute(SERIALIZATION_FAILURE);
      }, { retry }),
    );
    const syncMs = performance.now() - t0;
    for (const [e, calls, ms] of [[ea, asyncCalls, asyncMs], [es, syncCalls, syncMs]] as const) {
      assert.ok(e instanceof SerializationFailure, String(e));
      assert.equal(calls, 3);
      assert.equal(e.attempts, 3);
      assert.match(e.message, /conflict/);
      assert.ok(ms >= 10 + 20, `waited ${ms} ms`); // at least half of 20 ms, then of 40 ms
    }
  });

  test("other errors are never retried", async () => {
    const t = table("uniq");
    await adb.execute(`CREATE TABLE ${t} (k int PRIMARY KEY)`);
    await adb.execute(`INSERT INTO ${t} VALUES (1)`);
    let asyncCalls = 0;
    let syncCalls = 0;
    const e = await sameError(
      () =>
        adb.transaction(async (tx) => {
          asyncCalls++;
          await tx.execute(`INSERT INTO ${t} VALUES (1)`);
        }, { retry: true }),
      () =>
        db.transaction((tx) => {
          syncCalls++;
          tx.execute(`INSERT INTO ${t} VALUES (1)`);
        }, { retry: true }),
      UniqueViolation,
    );
    assert.equal((e as UniqueViolation).attempts, 1);
    assert.deepEqual([asyncCalls, syncCalls], [1, 1]);
    // A callback's own error too.
    let calls = 0;
    const mine = () => {
      calls++;
      throw new Error("mine");
    };
    await assert.rejects(adb.transaction(async () => mine(), { retry: true }), /mine/);
    assert.throws(() => db.transaction(() => mine(), { retry: true }), /mine/);
    assert.equal(calls, 2);
  });

  test("a retried transaction on a connection of its own", async () => {
    let asyncCalls = 0;
    const a = await adb.connect({ autocommit: true }, (conn) =>
      conn.transaction(async (tx) => {
        if (++asyncCalls < 2) await tx.execute(SERIALIZATION_FAILURE);
        return tx.fetchVal("SELECT 'done'");
      }, { retry: fast }),
    );
    let syncCalls = 0;
    const s = db.connect({ autocommit: true }, (conn) =>
      conn.transaction((tx) => {
        if (++syncCalls < 2) tx.execute(SERIALIZATION_FAILURE);
        return tx.fetchVal("SELECT 'done'");
      }, { retry: fast }),
    );
    assert.deepEqual([a, s, asyncCalls, syncCalls], ["done", "done", 2, 2]);
  });
});

describe("retry, sync, against a second party", () => {
  /** The sync transaction reads, then (first attempt only) another handle's serializable transaction writes and commits. */
  function syncWriteSkew(retry: TransactionOptions["retry"]) {
    const t = table("sskew");
    db.execute(`CREATE TABLE ${t} (who text, seen int)`);
    using other = new Database(ctx.config);
    let calls = 0;
    let error: unknown;
    try {
      db.transaction(
        (tx) => {
          calls++;
          const seen = tx.fetchVal<number>(`SELECT count(*)::int FROM ${t}`);
          if (calls === 1) {
            other.transaction((o) => o.execute(`INSERT INTO ${t} SELECT 'other', count(*) FROM ${t}`), { isolation: "serializable" });
          }
          tx.execute(`INSERT INTO ${t} VALUES ('mine', $1)`, [seen]);
        },
        { isolation: "serializable", retry },
      );
    } catch (err) {
      error = err;
    }
    return { error, calls, rows: db.execute<{ who: string; seen: number }>(`SELECT who, seen FROM ${t} ORDER BY seen`) };
  }

  test("write skew without retry: SerializationFailure", () => {
    const { error, calls, rows } = syncWriteSkew(undefined);
    assert.ok(error instanceof SerializationFailure, String(error));
    assert.equal(calls, 1);
    assert.deepEqual(rows, [{ who: "other", seen: 0 }]);
  });

  test("write skew with retry: the callback runs again, on the main thread, and sees the other's row", () => {
    const { error, calls, rows } = syncWriteSkew({ attempts: 3, baseDelay: 5 });
    assert.equal(error, undefined);
    assert.equal(calls, 2);
    assert.deepEqual(rows, [
      { who: "other", seen: 0 },
      { who: "mine", seen: 1 },
    ]);
  });

  test("a deadlock with another process is retried", async () => {
    const t = `${ctx.schema}.${table("sdead")}`;
    db.execute(`CREATE TABLE ${t} (id int PRIMARY KEY, n int NOT NULL)`);
    db.execute(`INSERT INTO ${t} VALUES (1, 0), (2, 0)`);
    const app = `txretry_${randomBytes(4).toString("hex")}`;
    // The other party: locks row 2, then waits for row 1 (held by the sync transaction); it would wait 10 s to
    // detect the deadlock, the sync transaction 100 ms: the sync one is the victim.
    const script = `import pg from "pg";
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: ${JSON.stringify(app)} });
      await c.connect();
      await c.query("BEGIN");
      await c.query("SET LOCAL deadlock_timeout = '10s'");
      await c.query("UPDATE ${t} SET n = n + 1 WHERE id = 2");
      await c.query("UPDATE ${t} SET n = n + 1 WHERE id = 1");
      await c.query("COMMIT");
      await c.end();`;
    using watcher = new Database(ctx.config);
    let child: Promise<ChildResult> | undefined;
    let calls = 0;
    db.transaction(
      (tx) => {
        calls++;
        tx.execute("SET LOCAL deadlock_timeout = '100ms'");
        tx.execute(`UPDATE ${t} SET n = n + 1 WHERE id = 1`);
        if (calls === 1) {
          child = runNode(["--input-type=module", "-e", script]);
          const waiting = "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'";
          for (let i = 0; watcher.fetchVal(waiting, [app]) !== 1; i++) {
            if (i > 2000) assert.fail("the other process never waited for the lock");
            sleepSync(10);
          }
        }
        tx.execute(`UPDATE ${t} SET n = n + 1 WHERE id = 2`);
      },
      { retry: { attempts: 3, baseDelay: 5 } },
    );
    const r = await child!;
    assert.equal(r.code, 0, r.err);
    assert.equal(calls, 2);
    assert.deepEqual(db.execute(`SELECT id, n FROM ${t} ORDER BY id`), [
      { id: 1, n: 2 },
      { id: 2, n: 2 },
    ]);
  });
});
