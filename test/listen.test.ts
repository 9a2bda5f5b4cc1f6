/**
 * listen (async only): notifications from another connection (channel, payload, the sender's pid), several
 * channels, reconnection after pg_terminate_backend with the onReconnect marker in the stream's order, and the
 * ways it ends (break, abort, close, the database closed) with its backend gone from pg_stat_activity. notify:
 * JSON payloads, the 8000-byte limit counted in UTF-8 bytes, transaction semantics.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, ConnectionError, InvalidIdentifier, ParameterError, type Notification, type ReconnectEvent } from "../src/index.js";
import { eventually } from "./support/both-sides.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
/** The sender. */
let adb: AsyncDatabase;

before(async () => {
  ctx = await createTestSchema("listen");
  adb = new AsyncDatabase(ctx.config);
});

after(async () => {
  await adb?.close();
  await ctx?.drop();
});

const channel = () => `ch_${randomBytes(4).toString("hex")}`;

/** A database handle whose sessions (so its listeners) carry their own application_name. */
function listenerDb(): { ldb: AsyncDatabase; app: string } {
  const app = `lst_${randomBytes(4).toString("hex")}`;
  return { ldb: new AsyncDatabase(ctx.config.with({ applicationName: app })), app };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const pidsOf = async (app: string) =>
  (await rawQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", [app])).map((r) => r.pid);

describe("listen", () => {
  test("receives from another connection: channel, payload, the sender's backend pid", async () => {
    const { ldb } = listenerDb();
    try {
      const ch = channel();
      const listener = ldb.listen(ch);
      await listener.ready;
      const senderPid = await adb.transaction((tx) => tx.fetchVal<number>("SELECT pg_backend_pid()").then(async (pid) => {
        await tx.notify(ch, "hello");
        return pid;
      }));
      for await (const n of listener) {
        assert.deepEqual(n, { channel: ch, payload: "hello", pid: senderPid });
        break;
      }
    } finally {
      await ldb.close();
    }
  });

  test("several channels on one listener (one connection), in the order sent; names are exact (quoted)", async () => {
    const { ldb, app } = listenerDb();
    try {
      const a = channel();
      const b = `Up_${channel()}`;
      const listener = ldb.listen([a, b]);
      await listener.ready;
      assert.equal((await pidsOf(app)).length, 1);
      await adb.notify(b, "1");
      await adb.notify(channel(), "not listened");
      await adb.notify(a, "2");
      await adb.notify(b.toLowerCase(), "folded name: another channel");
      await adb.notify(b, "3");
      const got: [string, string][] = [];
      for await (const n of listener) {
        got.push([n.channel, n.payload]);
        if (got.length === 3) break;
      }
      assert.deepEqual(got, [[b, "1"], [a, "2"], [b, "3"]]);
    } finally {
      await ldb.close();
    }
  });

  test("break closes its connection: the backend leaves pg_stat_activity and connectionCount drops", async () => {
    const { ldb, app } = listenerDb();
    try {
      const ch = channel();
      const listener = ldb.listen(ch);
      await listener.ready;
      assert.equal(ldb.connectionCount, 1);
      assert.equal((await pidsOf(app)).length, 1);
      await adb.notify(ch, "x");
      for await (const n of listener) {
        assert.equal(n.payload, "x");
        break;
      }
      assert.equal(ldb.connectionCount, 0);
      assert.deepEqual(await pidsOf(app), []);
      assert.deepEqual(await listener.next(), { done: true, value: undefined });
    } finally {
      await ldb.close();
    }
  });

  test("signal.abort() ends a waiting for-await loop and closes the connection", async () => {
    const { ldb, app } = listenerDb();
    try {
      const ch = channel();
      const ac = new AbortController();
      const listener = ldb.listen(ch, { signal: ac.signal });
      await listener.ready;
      const got: string[] = [];
      const loop = (async () => {
        for await (const n of listener) {
          got.push(n.payload);
          if (n.payload === "stop") ac.abort();
        }
        return "ended";
      })();
      await adb.notify(ch, "one");
      await adb.notify(ch, "stop");
      assert.equal(await loop, "ended");
      assert.deepEqual(got, ["one", "stop"]);
      await eventually(() => pidsOf(app), (p) => p.length === 0, "the listener's backend");
      // An aborted signal given at the call: nothing is opened, the iteration is empty.
      const none = ldb.listen(ch, { signal: AbortSignal.abort() });
      await none.ready;
      assert.deepEqual(await none.next(), { done: true, value: undefined });
      assert.equal(ldb.connectionCount, 0);
    } finally {
      await ldb.close();
    }
  });

  test("closing the database ends its listeners' loops", async () => {
    const { ldb, app } = listenerDb();
    const listener = ldb.listen(channel());
    await listener.ready;
    const pending = listener.next();
    await ldb.close();
    assert.deepEqual(await pending, { done: true, value: undefined });
    await eventually(() => pidsOf(app), (p) => p.length === 0, "the listener's backend");
  });

  test("pg_terminate_backend: it reconnects, listens again, and onReconnect marks the gap in order", async () => {
    const { ldb, app } = listenerDb();
    try {
      const ch = channel();
      const events: ReconnectEvent[] = [];
      const seen: string[] = [];
      const listener = ldb.listen(ch, {
        onReconnect: (e) => {
          events.push(e);
          seen.push("<reconnected>");
        },
      });
      await listener.ready;
      const it = listener[Symbol.asyncIterator]();
      await adb.notify(ch, "before");
      seen.push((await it.next()).value!.payload);
      const [first] = await pidsOf(app);
      assert.ok(first !== undefined);
      assert.equal(await adb.fetchVal("SELECT pg_terminate_backend($1)", [first]), true);
      // Reconnected and listening again: a new backend whose last statement was the LISTEN.
      const [second] = await eventually(
        () => rawQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> $2 AND state = 'idle' AND query LIKE 'LISTEN%'", [app, first]),
        (r) => r.length === 1,
        "the listener's new backend",
      );
      assert.notEqual(second!.pid, first);
      await adb.notify(ch, "after");
      seen.push((await it.next()).value!.payload);
      assert.deepEqual(seen, ["before", "<reconnected>", "after"]);
      assert.equal(events.length, 1);
      assert.ok(events[0]!.error instanceof ConnectionError);
      assert.equal(events[0]!.error.code, "57P01");
      assert.ok(events[0]!.attempts >= 1);
      await it.return!();
      assert.deepEqual(await pidsOf(app), []);
    } finally {
      await ldb.close();
    }
  });

  test("reconnectAttempts: 0: a lost connection is thrown to the loop, which ends", async () => {
    const { ldb, app } = listenerDb();
    try {
      const listener = ldb.listen(channel(), { reconnectAttempts: 0 });
      await listener.ready;
      const [pid] = await pidsOf(app);
      const pending = listener.next().then(
        () => assert.fail("expected the loss to be thrown"),
        (e: unknown) => e,
      );
      await adb.execute("SELECT pg_terminate_backend($1)", [pid]);
      const err = await pending;
      assert.ok(err instanceof ConnectionError && err.code === "57P01", String(err));
      assert.deepEqual(await listener.next(), { done: true, value: undefined });
    } finally {
      await ldb.close();
    }
  });

  test("an onReconnect that throws ends the loop with its error", async () => {
    const { ldb, app } = listenerDb();
    try {
      const boom = new Error("resync failed");
      const listener = ldb.listen(channel(), { onReconnect: () => Promise.reject(boom) });
      await listener.ready;
      const [pid] = await pidsOf(app);
      const loop = (async () => {
        for await (const _ of listener) assert.fail("no notification was sent");
      })().then(
        () => "ended without an error",
        (e: unknown) => e,
      );
      await adb.execute("SELECT pg_terminate_backend($1)", [pid]);
      assert.equal(await loop, boom);
      await eventually(() => pidsOf(app), (p) => p.length === 0, "the listener's backends");
    } finally {
      await ldb.close();
    }
  });

  test("invalid channels and options are refused before connecting", async () => {
    const { ldb, app } = listenerDb();
    try {
      assert.throws(() => ldb.listen('x"; DROP TABLE t; --'), InvalidIdentifier);
      assert.throws(() => ldb.listen([]), ParameterError);
      assert.throws(() => ldb.listen(["ok", 3 as unknown as string]), InvalidIdentifier);
      assert.throws(() => ldb.listen("ok", { reconnectAttempts: -1 }), ParameterError);
      assert.throws(() => ldb.listen("ok", { bogus: 1 } as never), ParameterError);
      assert.throws(() => ldb.listen("ok", { signal: {} as AbortSignal }), ParameterError);
      assert.equal(ldb.connectionCount, 0);
      assert.deepEqual(await pidsOf(app), []);
    } finally {
      await ldb.close();
    }
  });
});

describe("notify", () => {
  /** Sends with `send` and returns the first notification a fresh listener receives. */
  async function roundTrip(send: (ch: string) => Promise<unknown>): Promise<Notification> {
    const ch = channel();
    const listener = await adb.notifies(ch, { stopAfter: 1, timeout: 10_000 });
    await send(ch);
    const [n] = await all(listener);
    assert.ok(n !== undefined, "a notification arrived");
    return n;
  }

  test("objects, arrays, numbers and null are JSON-encoded; strings are sent as is; no payload is ''", async () => {
    const obj = { id: 1n, name: "é", tags: ["a"], nested: { ok: true } };
    assert.deepEqual(JSON.parse((await roundTrip((ch) => adb.notify(ch, obj))).payload), { id: "1", name: "é", tags: ["a"], nested: { ok: true } });
    assert.equal((await roundTrip((ch) => adb.notify(ch, [1, 2]))).payload, "[1,2]");
    assert.equal((await roundTrip((ch) => adb.notify(ch, 42))).payload, "42");
    assert.equal((await roundTrip((ch) => adb.notify(ch, null))).payload, "null");
    assert.equal((await roundTrip((ch) => adb.notify(ch, '{"raw": true}'))).payload, '{"raw": true}');
    assert.equal((await roundTrip((ch) => adb.notify(ch))).payload, "");
  });

  test("the 8000-byte limit counts UTF-8 bytes: 7999 bytes pass, 8000 are refused before sending", async () => {
    const ok = "é".repeat(3999) + "a"; // 7999 bytes, 4000 characters
    assert.equal((await roundTrip((ch) => adb.notify(ch, ok))).payload, ok);
    const tooLong = "é".repeat(4000); // 8000 bytes, 4000 characters
    const ch = channel();
    const listener = await adb.notifies(ch, { timeout: 300 });
    await assert.rejects(adb.notify(ch, tooLong), (e: unknown) => e instanceof ParameterError && /8000 bytes/.test((e as Error).message));
    await assert.rejects(adb.notify(ch, { s: "€".repeat(2700) }), ParameterError); // 8108 bytes once encoded
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await assert.rejects(adb.notify(ch, circular), ParameterError);
    await assert.rejects(adb.notify('bad"name', "x"), InvalidIdentifier);
    await adb.notify(ch, "marker");
    // Nothing of the refused calls reached the server: the first notification is the marker.
    assert.deepEqual((await all(listener)).map((n) => n.payload), ["marker"]);
  });

  test("inside a transaction: delivered at commit, dropped by a rollback", async () => {
    const ch = channel();
    const listener = await adb.notifies(ch, { timeout: 1000 });
    await assert.rejects(
      adb.transaction(async () => {
        await adb.notify(ch, "rolled back");
        throw new Error("abort");
      }),
      /abort/,
    );
    await adb.transaction(async (tx) => {
      await adb.notify(ch, "committed 1");
      await tx.notify(ch, "committed 2");
      await tx.transaction(async (sp) => {
        await sp.notify(ch, "savepoint rolled back");
        await sp.rollback();
      });
    });
    await adb.notify(ch, "autocommit");
    const payloads = [];
    for await (const n of listener) {
      payloads.push(n.payload);
      if (n.payload === "autocommit") break;
    }
    assert.deepEqual(payloads, ["committed 1", "committed 2", "autocommit"]);
  });
});

test("nothing is left open: every listener backend of this file is gone", async () => {
  const rows = await rawQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'lst\\_%' AND query LIKE 'LISTEN \"ch\\_%'");
  assert.equal(rows[0]!.n, 0);
});
