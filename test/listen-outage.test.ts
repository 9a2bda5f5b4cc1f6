/**
 * listen across an outage (a server restart seen from the client): a TCP relay to the real server cuts every
 * connection and then refuses new ones for a while, so the listener's reconnection meets real connection failures
 * before the server is back; it then listens again and onReconnect marks the gap. With the attempts exhausted, the
 * loop throws the ConnectionError and ends.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, test } from "node:test";
import { AsyncDatabase, ConnectionError, type ReconnectEvent } from "../src/index.js";
import { eventually } from "./support/both-sides.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";

/** A relay to the real server that can go down (cutting its connections, resetting new ones) and come back. */
class Relay {
  readonly server: net.Server;
  readonly sockets = new Set<net.Socket>();
  refused = 0;
  #down = false;

  constructor(target: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      if (this.#down) {
        this.refused++;
        client.resetAndDestroy();
        return;
      }
      const upstream = net.connect(target.port, target.host);
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        a.pipe(b);
        a.on("error", () => b.destroy());
        a.on("close", () => b.destroy());
        this.sockets.add(a);
        a.on("close", () => this.sockets.delete(a));
      }
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  down(): void {
    this.#down = true;
    for (const s of this.sockets) s.destroy();
  }

  up(): void {
    this.#down = false;
  }

  close(): Promise<void> {
    this.down();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let ctx: TestSchema;
let adb: AsyncDatabase;
let relay: Relay;
let port: number;

before(async () => {
  ctx = await createTestSchema("listen_outage");
  adb = new AsyncDatabase(ctx.config);
  const [host] = ctx.config.hosts;
  relay = new Relay(host!);
  port = await relay.listen();
});

after(async () => {
  await adb?.close();
  await relay?.close();
  await ctx?.drop();
});

const channel = () => `ch_${randomBytes(4).toString("hex")}`;

function relayed(app: string, connectAttempts = 1): AsyncDatabase {
  return new AsyncDatabase(ctx.config.with({ hosts: [{ host: "127.0.0.1", port }], applicationName: app }), { connectAttempts });
}

test("an outage: reconnection fails while the server is away, succeeds when it is back; the gap is marked", async () => {
  const app = `lso_${randomBytes(4).toString("hex")}`;
  const ldb = relayed(app);
  try {
    const ch = channel();
    const events: ReconnectEvent[] = [];
    const seen: string[] = [];
    const listener = ldb.listen(ch, {
      onReconnect: (e) => {
        events.push(e);
        seen.push("<gap>");
      },
    });
    await listener.ready;
    await adb.notify(ch, "before");
    const it = listener[Symbol.asyncIterator]();
    seen.push((await it.next()).value!.payload);
    relay.down();
    await adb.notify(ch, "while down: lost");
    await eventually(async () => relay.refused, (n) => n >= 2, "reconnection attempts refused");
    relay.up();
    await eventually(
      () => rawQuery("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle' AND query LIKE 'LISTEN%'", [app]),
      (r) => r.length === 1,
      "the listener back and listening",
    );
    await adb.notify(ch, "after");
    seen.push((await it.next()).value!.payload);
    assert.deepEqual(seen, ["before", "<gap>", "after"]);
    assert.equal(events.length, 1);
    assert.ok(events[0]!.error instanceof ConnectionError);
    assert.ok(events[0]!.attempts >= 2, `attempts: ${events[0]!.attempts}`);
    await it.return!();
  } finally {
    relay.up();
    await ldb.close();
  }
});

test("attempts exhausted: the loop throws the ConnectionError and ends", async () => {
  const ldb = relayed(`lso_${randomBytes(4).toString("hex")}`);
  try {
    const listener = ldb.listen(channel(), { reconnectAttempts: 2 });
    await listener.ready;
    const outcome = (async () => {
      for await (const _ of listener) assert.fail("no notification was sent");
    })().then(
      () => "ended without an error",
      (e: unknown) => e,
    );
    relay.down();
    const err = await outcome;
    assert.ok(err instanceof ConnectionError, String(err));
    assert.ok(relay.refused >= 2);
    assert.equal(ldb.connectionCount, 0);
  } finally {
    relay.up();
    await ldb.close();
  }
});
