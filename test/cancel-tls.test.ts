/**
 * The cancel request goes where the session went, the way it went: a TCP relay in front of the server records how
 * each connection through it begins (an SSLRequest, a CancelRequest, a start-up message). On a throwaway server
 * with TLS on (the shared server is never reconfigured), a session opened with `sslmode=require` is cancelled over
 * a connection that negotiates TLS first; without TLS (the shared server), the CancelRequest is sent as it is.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { AsyncDatabase, Config, QueryCanceled } from "../src/index.js";
import { startEmbeddedServer, type EmbeddedServer } from "../src/embedded/server.js";
import { serverUrl } from "./support/db.js";
import { eventually } from "./support/both-sides.js";

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

/** A relay to `port` on 127.0.0.1 that records, for each connection, the code in its first message (bytes 4–7). */
async function relay(port: number): Promise<{ port: number; codes: number[]; close(): Promise<void> }> {
  const codes: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    let head = Buffer.alloc(0);
    const recordHead = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 8) return;
      codes.push(head.readInt32BE(4));
      client.off("data", recordHead);
    };
    client.on("data", recordHead);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    codes,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs pg_sleep(10) on `db` with a signal, aborts it once it runs (seen through `watcher`), expects the server's cancel. */
async function cancelASleep(db: AsyncDatabase, watcher: pg.Client): Promise<void> {
  const c = new AbortController();
  const call = db.execute("SELECT pg_sleep(10) /* tls_cancel */", [], { signal: c.signal });
  await eventually(
    async () => (await watcher.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%/* tls_cancel */'")).rows[0].n,
    (n: number) => n === 1,
    "pg_sleep running",
  );
  c.abort();
  await assert.rejects(call, (e: unknown) => e instanceof QueryCanceled && /due to user request/.test(e.message));
  assert.equal(await db.fetchVal("SELECT 1"), 1);
}

describe("over TLS", () => {
  let server: EmbeddedServer;
  let watcher: pg.Client;
  const lines: string[] = [];
  const log = (): string => lines.join("\n");
  before(async () => {
    server = await startEmbeddedServer({ log: (line) => lines.push(line) });
    const key = path.join(server.dataDir, "server.key");
    const crt = path.join(server.dataDir, "server.crt");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "1", "-subj", "/CN=localhost"], {
      stdio: "ignore",
    });
    chmodSync(key, 0o600);
    const owner = statSync(server.dataDir); // the server may run as another user (initdb refuses root)
    for (const f of [key, crt]) chownSync(f, owner.uid, owner.gid);
    watcher = new pg.Client({ connectionString: server.url });
    await watcher.connect();
    await watcher.query("ALTER SYSTEM SET ssl = on");
    await watcher.query("SELECT pg_reload_conf()");
    const tlsWorks = async (): Promise<boolean | string> => {
      const probe = new pg.Client({ connectionString: server.url, ssl: { rejectUnauthorized: false } });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        return (await probe.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).rows[0].ssl as boolean;
      } catch (err) {
        return `${String(err)}; server log: ${log()}`;
      } finally {
        await probe.end().catch(() => undefined);
      }
    };
    await eventually(tlsWorks, (ok) => ok === true, "a TLS connection to the throwaway server");
  });
  after(async () => {
    await watcher?.end();
    await server?.stop();
  });

  test("the cancel request negotiates TLS like the session did", async () => {
    const r = await relay(server.port);
    const db = new AsyncDatabase(Config.fromUrl(server.url).with({ port: r.port, sslmode: "require" }));
    try {
      assert.equal(await db.fetchVal("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), true);
      const before = r.codes.length;
      await cancelASleep(db, watcher);
      assert.ok(r.codes.length > before + 1, "no cancel connection went through the relay"); // its own session + the cancel
      assert.deepEqual(new Set(r.codes), new Set([SSL_REQUEST]), `connections began with ${r.codes.join(", ")}`);
    } finally {
      await db.close();
      await r.close();
    }
  });
});

test("without TLS, the CancelRequest goes to the session's host and port", async () => {
  const base = Config.fromUrl(serverUrl());
  const r = await relay(base.port);
  const db = new AsyncDatabase(base.with({ host: "127.0.0.1", port: r.port }));
  const watcher = new pg.Client({ connectionString: serverUrl() });
  await watcher.connect();
  try {
    await db.fetchVal("SELECT 1");
    await cancelASleep(db, watcher);
    assert.ok(r.codes.includes(CANCEL_REQUEST), `connections began with ${r.codes.join(", ")}`);
    assert.ok(r.codes.every((c) => c === CANCEL_REQUEST || c === PROTOCOL_3), `connections began with ${r.codes.join(", ")}`);
  } finally {
    await watcher.end();
    await db.close();
    await r.close();
  }
});
