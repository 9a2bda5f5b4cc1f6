/**
 * Connecting with several hosts: whatever makes one host fail (a black hole, a server-reported error), the next one
 * is tried; another round follows only connection-level failures; the final error names every host. Also: whether an
 * error is a connection failure never depends on words in its text (a database named `timeout_db`, a value's
 * message). The failing hosts are fake servers on loopback ports; the healthy one is the server under test.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, Config, ConnectionError, Database, TableNotFound } from "../src/index.js";
import { closedPort, startFakeServer, type FakeServer } from "./support/fake-server.js";
import { serverUrl } from "./support/db.js";

const healthy = Config.fromUrl(serverUrl());
const at = (port: number) => ({ host: "127.0.0.1", port });

/** Runs `fn` with a handle on `config` and closes it. */
async function using<T>(config: Config, fn: (db: AsyncDatabase) => Promise<T>, options = {}): Promise<T> {
  const db = new AsyncDatabase(config, options);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** The ConnectionError `promise` rejects with. */
async function connectionError(promise: Promise<unknown>): Promise<ConnectionError> {
  const err = await promise.then(
    () => assert.fail("expected a ConnectionError"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectionError, `expected a ConnectionError, got ${String(err)}`);
  return err;
}

let blackHole: FakeServer;
let noDatabase: FakeServer;
let tooMany: FakeServer;
let badPassword: FakeServer;
let refused: number;

before(async () => {
  blackHole = await startFakeServer({ kind: "black-hole" });
  noDatabase = await startFakeServer({ kind: "error", code: "3D000", message: 'database "app" does not exist' });
  tooMany = await startFakeServer({ kind: "error", code: "53300", message: "sorry, too many clients already" });
  badPassword = await startFakeServer({ kind: "error", code: "28P01", message: 'password authentication failed for user "postgres"' });
  refused = await closedPort();
});

after(async () => {
  await Promise.all([blackHole, noDatabase, tooMany, badPassword].map((s) => s?.stop()));
});

describe("failover", () => {
  test("a black-holed first host times out and the second host is used (after connectTimeout, not later)", async () => {
    const before = blackHole.connections;
    const config = healthy.with({ hosts: [at(blackHole.port), ...healthy.hosts], connectTimeout: 1 });
    const t0 = performance.now();
    assert.equal(await using(config, (db) => db.fetchVal<number>("SELECT 41 + 1")), 42);
    const ms = performance.now() - t0;
    assert.equal(blackHole.connections - before, 1);
    assert.ok(ms >= 900 && ms < 2500, `connected after ${ms.toFixed(0)} ms`);
  });

  test("a first host that refuses with 3D000 or 53300 is skipped for the next one", async () => {
    for (const bad of [noDatabase, tooMany]) {
      const before = bad.connections;
      const config = healthy.with({ hosts: [at(bad.port), ...healthy.hosts] });
      assert.equal(await using(config, (db) => db.fetchVal<number>("SELECT 41 + 1")), 42);
      assert.equal(bad.connections - before, 1);
    }
  });

  test("when every host fails: one ConnectionError naming each host and why, with the most meaningful SQLSTATE", async () => {
    const config = healthy.with({ hosts: [at(blackHole.port), at(noDatabase.port), at(refused)], connectTimeout: 1 });
    const err = await connectionError(using(config, (db) => db.execute("SELECT 1"), { connectAttempts: 1 }));
    assert.equal(err.code, "3D000");
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${blackHole.port}: timeout expired`));
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${noDatabase.port}: database "app" does not exist`));
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${refused}: connect ECONNREFUSED`));
  });

  test("another round follows only connection-level failures (refused), not timeouts or server errors", async () => {
    // refused + 3D000: the refusing host may come back, so all three rounds run (each trying both hosts)
    let before = noDatabase.connections;
    const config = healthy.with({ hosts: [at(noDatabase.port), at(refused)] });
    const err = await connectionError(using(config, (db) => db.execute("SELECT 1")));
    assert.equal(err.code, "3D000");
    assert.equal(noDatabase.connections - before, 3);
    // 3D000 + 53300: no round would change anything
    before = noDatabase.connections;
    const tooManyBefore = tooMany.connections;
    const hard = healthy.with({ hosts: [at(noDatabase.port), at(tooMany.port)] });
    const err2 = await connectionError(using(hard, (db) => db.execute("SELECT 1")));
    assert.equal(err2.code, "3D000");
    assert.match(err2.message, /too many clients/);
    assert.deepEqual([noDatabase.connections - before, tooMany.connections - tooManyBefore], [1, 1]);
  });

  test("an authentication failure on a single host fails at once, with its SQLSTATE and the single-host message", async () => {
    const before = badPassword.connections;
    const config = healthy.with({ hosts: [at(badPassword.port)] });
    const t0 = performance.now();
    const err = await connectionError(using(config, (db) => db.execute("SELECT 1")));
    const ms = performance.now() - t0;
    assert.equal(err.code, "28P01");
    assert.equal(err.message, `could not connect to ${healthy.user}@127.0.0.1:${badPassword.port}/${healthy.database}: password authentication failed for user "postgres"`);
    assert.equal(badPassword.connections - before, 1);
    assert.ok(ms < 100, `took ${ms.toFixed(0)} ms`);
  });
});

describe("classification never reads the words of a message", () => {
  test("a database named timeout_db on a host that resets the first connection is retried", async () => {
    const proxy = await startFakeServer({ kind: "reset-then-proxy", resets: 1, target: healthy.hosts[0]! });
    try {
      const config = healthy.with({ hosts: [at(proxy.port)], database: "timeout_db" });
      const err = await connectionError(using(config, (db) => db.execute("SELECT 1")));
      // The second attempt reached the real server, which knows no such database.
      assert.equal(proxy.connections, 2);
      assert.equal(err.code, "3D000");
      assert.match(err.message, /database "timeout_db" does not exist/);
    } finally {
      await proxy.stop();
    }
  });

  test("a value whose conversion fails with 'connection error' or 'timeout expired' in its message is no ConnectionError", async () => {
    const bad = {
      toPostgres: () => {
        throw new Error("connection error? no: timeout expired, said the value");
      },
    };
    await using(healthy, async (db) => {
      const pid = await db.fetchVal<number>("SELECT pg_backend_pid()");
      const err = await db.execute("SELECT $1::text", [bad]).then(
        () => assert.fail("expected an error"),
        (e: unknown) => e,
      );
      // The value's own exception reaches the caller as it is (tscopg encodes values before the driver sees them).
      assert.ok(err instanceof Error && !(err instanceof ConnectionError), `got ${String(err)}`);
      assert.match(err.message, /said the value/);
      assert.equal(await db.fetchVal<number>("SELECT pg_backend_pid()"), pid, "the connection was kept");
      // A server error is classified by its SQLSTATE whatever its text says.
      await assert.rejects(db.execute(`SELECT * FROM "connection error: timeout expired"`), TableNotFound);
    });
    const sync = new Database(healthy);
    try {
      assert.throws(() => sync.execute(`SELECT * FROM "Connection terminated"`), TableNotFound);
    } finally {
      sync.close();
    }
  });
});
