/**
 * The synchronous side of LISTEN/NOTIFY: `listen` is absent (async only), `notifies` is a blocking lazy iterator
 * whose LISTEN has run when the call returns (a script can LISTEN, start work, then read), ending after `stopAfter`
 * notifications or `timeout` ms without one, or on `break` (its backend then gone); it blocks for real until another
 * process notifies; a lost connection throws a ConnectionError; sync = async for values and refusals.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, ConnectionError, Database, InvalidIdentifier, ParameterError } from "../src/index.js";
import { eventually, sameErrorOn } from "./support/both-sides.js";
import { createTestSchema, rawQuery, serverUrl, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
let db: Database;
let adb: AsyncDatabase;
let app: string;

before(async () => {
  ctx = await createTestSchema("listen_sync");
  app = `lsy_${randomBytes(4).toString("hex")}`;
  db = new Database(ctx.config.with({ applicationName: app }));
  adb = new AsyncDatabase(ctx.config);
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
});

const channel = () => `ch_${randomBytes(4).toString("hex")}`;
const pidsOf = async () => (await rawQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [app])).map((r) => r.pid);
/** The backend of this file's sync handle that last ran LISTEN (its notifies listener). */
const listenerPids = async () =>
  (await rawQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'", [app])).map((r) => r.pid);

describe("sync LISTEN/NOTIFY", () => {
  test("listen is async only: absent from Database, its connections and transactions", () => {
    assert.equal(typeof (adb as unknown as Record<string, unknown>).listen, "function");
    const hasListen = (o: object): boolean => "listen" in o;
    assert.ok(!hasListen(db));
    assert.ok(!hasListen(Database.prototype));
    db.connect((conn) => assert.ok(!hasListen(conn)));
    db.transaction((tx) => assert.ok(!hasListen(tx)));
  });

  test("notifies: LISTEN runs at the call; stopAfter ends it; the connection closes", async () => {
    const ch = channel();
    const it = db.notifies(ch, { stopAfter: 2, timeout: 10_000 });
    assert.equal((await listenerPids()).length, 1, "listening before the first next()");
    db.notify(ch, "a");
    db.notify(ch, { b: 1 });
    db.notify(ch, "c (after stopAfter)");
    assert.deepEqual([...it].map((n) => [n.channel, n.payload]), [[ch, "a"], [ch, '{"b":1}']]);
    assert.deepEqual([...it], []);
    await eventually(listenerPids, (p) => p.length === 0, "the listener's backend");
  });

  test("notifies: timeout ends it after that long without a notification", async () => {
    const ch = channel();
    const it = db.notifies([ch, `${ch}_b`], { timeout: 200 });
    db.notify(`${ch}_b`, "one");
    db.notify(ch, "two");
    assert.deepEqual([...it].map((n) => n.payload), ["one", "two"]);
    await eventually(listenerPids, (p) => p.length === 0, "the listener's backend");
  });

  test("each next() hands over the notification that is there (it does not wait to fill a batch)", () => {
    const ch = channel();
    const it = db.notifies(ch, { timeout: 5000 });
    const got: string[] = [];
    for (const word of ["one", "two", "three"]) {
      // The next one is sent only once the previous one was read: a batch waiting for more would end by timeout.
      db.notify(ch, word);
      got.push(it.next().value?.payload ?? "(ended)");
    }
    it.return!();
    assert.deepEqual(got, ["one", "two", "three"]);
  });

  test("it blocks until another process notifies", () => {
    const ch = channel();
    const it = db.notifies(ch, { stopAfter: 1, timeout: 20_000 });
    const child = spawn("psql", [serverUrl(), "-qc", `SELECT pg_sleep(0.2); NOTIFY ${ch}, 'from psql'`], { stdio: "ignore" });
    try {
      const [n] = [...it];
      assert.equal(n?.payload, "from psql");
      assert.ok(typeof n?.pid === "number" && n.pid > 0);
    } finally {
      child.kill();
    }
  });

  test("break closes its connection; the sync pid is the sender's backend", async () => {
    const ch = channel();
    const it = db.notifies(ch, { timeout: 10_000 });
    const pid = db.transaction((tx) => {
      tx.notify(ch, "x");
      return tx.fetchVal<number>("SELECT pg_backend_pid()");
    });
    for (const n of it) {
      assert.deepEqual(n, { channel: ch, payload: "x", pid });
      break;
    }
    await eventually(listenerPids, (p) => p.length === 0, "the listener's backend");
    assert.equal((await pidsOf()).length, db.connectionCount);
  });

  test("notify in a sync transaction: dropped by a rollback, delivered at commit", () => {
    const ch = channel();
    const it = db.notifies(ch, { timeout: 500 });
    assert.throws(() =>
      db.transaction(() => {
        db.notify(ch, "rolled back");
        throw new Error("abort");
      }),
    );
    db.transaction((tx) => tx.notify(ch, "committed"));
    assert.deepEqual([...it].map((n) => n.payload), ["committed"]);
  });

  test("a lost connection throws a ConnectionError from the iteration (notifies does not reconnect)", async () => {
    const it = db.notifies(channel(), { timeout: 20_000 });
    const [pid] = await listenerPids();
    await rawQuery("SELECT pg_terminate_backend($1)", [pid]);
    assert.throws(() => [...it], (e: unknown) => e instanceof ConnectionError && (e as ConnectionError).code === "57P01");
  });

  test("refusals are the same on both sides, before anything is sent", async () => {
    await sameErrorOn(adb, db, (q) => q.notify("x", "é".repeat(4000)), ParameterError, /8000 bytes long in UTF-8; PostgreSQL accepts at most 7999/);
    await sameErrorOn(adb, db, (q) => q.notify('x"y'), InvalidIdentifier);
    await sameErrorOn(adb, db, (q) => q.notifies([]), ParameterError);
    await sameErrorOn(adb, db, (q) => q.notifies("ok", { timeout: -1 }), ParameterError);
    await sameErrorOn(adb, db, (q) => q.notifies("ok", { stopAfter: 1.5 }), ParameterError);
    await sameErrorOn(adb, db, (q) => q.notifies("ok", { signal: null } as never), ParameterError);
    assert.deepEqual(await listenerPids(), []);
  });
});
