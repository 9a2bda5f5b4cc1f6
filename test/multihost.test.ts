/**
 * Several hosts on a real primary and its streaming replica (throwaway clusters, `support/cluster.ts`):
 * `targetSessionAttrs` picks the server the way libpq does, on both sides; a stopped host and a host of the wrong
 * kind are both named in the error; the connection tells which kind of server it reached. Also a password function
 * (a role that logs in with scram-sha-256, whose password rotates) and the `pooler: "transaction"` preset.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { AsyncDatabase, Config, ConfigurationError, ConnectionError, Database } from "../src/index.js";
import type { ConfigInit, TargetSessionAttrs } from "../src/index.js";
import { connectClient } from "../src/core/connect.js";
import { mismatch, reportedState } from "../src/core/target-session.js";
import { sameErrorOn, sameOn } from "./support/both-sides.js";
import { startCluster, type Cluster } from "./support/cluster.js";

let primary: Cluster;
let replica: Cluster;
const ROLE = "rotating_app";
let rolePassword = "first-token";

before(async () => {
  primary = await startCluster({ hba: [`host all ${ROLE} 127.0.0.1/32 scram-sha-256`] });
  await primary.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${rolePassword}'`);
  replica = await startCluster({ replicaOf: primary });
});

after(async () => {
  await Promise.all([replica?.remove(), primary?.remove()]);
});

const at = (c: Cluster) => ({ host: c.host, port: c.port });

function configOf(clusters: Cluster[], targetSessionAttrs: TargetSessionAttrs, more: ConfigInit = {}): Config {
  return new Config({ hosts: clusters.map(at), user: "postgres", database: "postgres", connectTimeout: 5, targetSessionAttrs, ...more });
}

/** Where a statement runs: the server's port and whether it is a standby. */
const WHERE = "SELECT current_setting('port')::int AS port, pg_is_in_recovery() AS standby";

interface Where {
  port: number;
  standby: boolean;
}

/** Runs `call` on an AsyncDatabase and a sync Database of `config`: the same answer; returns it. */
async function onBoth<R>(config: Config, call: (q: AsyncDatabase | Database) => R): Promise<Awaited<R>> {
  const adb = new AsyncDatabase(config);
  const db = new Database(config);
  try {
    return await sameOn(adb, db, call);
  } finally {
    db.close();
    await adb.close();
  }
}

/** Where the handles of `config` land (the same on both sides). */
const whereOf = (config: Config) => onBoth(config, (q) => q.fetchOne<Where>(WHERE));

/** The same ConnectionError on both sides, for a statement on `config`; returns it. */
async function failsOnBoth(config: Config, pattern?: RegExp): Promise<ConnectionError> {
  const adb = new AsyncDatabase(config);
  const db = new Database(config);
  try {
    return (await sameErrorOn(adb, db, (q) => q.fetchVal("SELECT 1"), ConnectionError, pattern)) as ConnectionError;
  } finally {
    db.close();
    await adb.close();
  }
}

describe("targetSessionAttrs picks the server, like libpq", () => {
  test("read-write skips the standby: [replica, primary] → the primary", async () => {
    assert.deepEqual(await whereOf(configOf([replica, primary], "read-write")), { port: primary.port, standby: false });
  });

  test("read-only and standby → the replica, even when the primary comes first", async () => {
    assert.deepEqual(await whereOf(configOf([primary, replica], "read-only")), { port: replica.port, standby: true });
    assert.deepEqual(await whereOf(configOf([primary, replica], "standby")), { port: replica.port, standby: true });
  });

  test("primary skips the standby; any takes the first host", async () => {
    assert.deepEqual(await whereOf(configOf([replica, primary], "primary")), { port: primary.port, standby: false });
    assert.deepEqual(await whereOf(configOf([replica, primary], "any")), { port: replica.port, standby: true });
    assert.deepEqual(await whereOf(configOf([primary, replica], "any")), { port: primary.port, standby: false });
  });

  test("from a URL and from the environment too", async () => {
    const url = `postgresql://postgres@${primary.host}:${primary.port},${replica.host}:${replica.port}/postgres?target_session_attrs=standby`;
    assert.deepEqual(await whereOf(Config.fromUrl(url)), { port: replica.port, standby: true });
    const env = { PGHOST: `${replica.host},${primary.host}`, PGPORT: `${replica.port},${primary.port}`, PGUSER: "postgres", PGTARGETSESSIONATTRS: "read-write" };
    assert.deepEqual(await whereOf(Config.fromEnv(null, { env, loadDotenvFile: false })), { port: primary.port, standby: false });
  });

  test("a read-only primary (default_transaction_read_only) is not read-write, but is primary", async () => {
    const readOnly = { options: { default_transaction_read_only: "on" } };
    const err = await failsOnBoth(configOf([primary], "read-write", readOnly));
    assert.match(err.message, new RegExp(`session is read-only, read-write wanted`));
    assert.deepEqual(await whereOf(configOf([primary], "read-only", readOnly)), { port: primary.port, standby: false });
    assert.deepEqual(await whereOf(configOf([primary], "primary", readOnly)), { port: primary.port, standby: false });
  });

  test("prefer-standby → the replica; with the replica stopped → the primary", async () => {
    assert.deepEqual(await whereOf(configOf([primary, replica], "prefer-standby")), { port: replica.port, standby: true });
    await replica.stop();
    try {
      assert.deepEqual(await whereOf(configOf([primary, replica], "prefer-standby")), { port: primary.port, standby: false });
      assert.deepEqual(await whereOf(configOf([replica, primary], "prefer-standby")), { port: primary.port, standby: false });
    } finally {
      await replica.start();
    }
  });

  test("the primary stopped: any fails over to the replica; read-write names both hosts and why", async () => {
    await primary.stop();
    try {
      assert.deepEqual(await whereOf(configOf([primary, replica], "any")), { port: replica.port, standby: true });
      const err = await failsOnBoth(configOf([primary, replica], "read-write"));
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${primary.port}: connect ECONNREFUSED`));
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${replica.port}: server is a standby, read-write wanted`));
      const err2 = await failsOnBoth(configOf([replica, primary], "primary"));
      assert.match(err2.message, new RegExp(`127\\.0\\.0\\.1:${replica.port}: server is a standby, primary wanted; 127\\.0\\.0\\.1:${primary.port}: connect ECONNREFUSED`));
    } finally {
      await primary.start();
    }
  });

  test("no host of the kind wanted: every host named, no extra rounds for a mismatch alone", async () => {
    const err = await failsOnBoth(configOf([primary], "standby"), /server is a primary, standby wanted/);
    assert.equal(err.code, undefined);
    const t0 = performance.now();
    await assert.rejects(connectClient(configOf([replica], "read-write"), { pipeline: false, attempts: 3, backoffMs: 5_000 }), ConnectionError);
    assert.ok(performance.now() - t0 < 3_000, "a host of the wrong kind must not earn a back-off round");
  });
});

describe("the connection tells which server it reached", () => {
  test("role and readOnly from the start-up reports (PostgreSQL 14+), for any targetSessionAttrs", async () => {
    for (const [cluster, role, readOnly] of [
      [primary, "primary", false],
      [replica, "standby", true],
    ] as const) {
      const c = await connectClient(configOf([cluster], "any"), { pipeline: false });
      try {
        assert.equal(c.role, role);
        assert.equal(c.readOnly, readOnly);
      } finally {
        await c.client.end();
      }
    }
  });

  test("without the reports, one query answers (SHOW transaction_read_only / pg_is_in_recovery())", async () => {
    for (const [cluster, isStandby] of [
      [primary, false],
      [replica, true],
    ] as const) {
      const client = new pg.Client({ host: cluster.host, port: cluster.port, user: "postgres", database: "postgres" });
      await client.connect();
      try {
        const asked = reportedState(new Map()); // what an older server would leave unknown
        assert.deepEqual(asked, {});
        assert.equal(await mismatch(client, asked, "read-write"), isStandby ? "session is read-only, read-write wanted" : undefined);
        assert.equal(asked.readOnly, isStandby);
        const asked2 = reportedState(new Map());
        assert.equal(await mismatch(client, asked2, "primary"), isStandby ? "server is a standby, primary wanted" : undefined);
        assert.equal(asked2.role, isStandby ? "standby" : "primary");
      } finally {
        await client.end();
      }
    }
  });
});

describe("a password function", () => {
  const roleConfig = (password: ConfigInit["password"], clusters = [primary]) =>
    new Config({ hosts: clusters.map(at), user: ROLE, database: "postgres", password, connectTimeout: 5 });

  test("is called for each new connection, never cached: a rotated password works for the next one", async () => {
    let calls = 0;
    const token = async () => {
      calls++;
      return rolePassword;
    };
    const config = roleConfig(token);
    await using first = new AsyncDatabase(config);
    assert.equal(await first.fetchVal("SELECT current_user"), ROLE);
    assert.equal(calls, 1);
    rolePassword = "second-token";
    await primary.query(`ALTER ROLE ${ROLE} PASSWORD '${rolePassword}'`);
    await using second = new AsyncDatabase(config);
    assert.equal(await second.fetchVal("SELECT current_user"), ROLE);
    assert.equal(calls, 2);
    assert.equal(await first.fetchVal("SELECT 1"), 1); // the open connection is not affected
    // A sync function works as well.
    await using third = new AsyncDatabase(roleConfig(() => rolePassword));
    assert.equal(await third.fetchVal("SELECT current_user"), ROLE);
  });

  test("a server that asks for no password never calls it", async () => {
    let calls = 0;
    const config = configOf([primary], "any", { password: () => String(++calls) });
    await using db = new AsyncDatabase(config);
    assert.equal(await db.fetchVal("SELECT 1"), 1);
    assert.equal(calls, 0);
  });

  test("its error fails the connection at once (no other host, no round) with the error as cause", async () => {
    let calls = 0;
    const boom = new Error("the token service is down");
    await using db = new AsyncDatabase(roleConfig(() => {
      calls++;
      throw boom;
    }, [primary, primary]));
    const err = await db.fetchVal("SELECT 1").then(
      () => assert.fail("expected a ConnectionError"),
      (e: unknown) => e as ConnectionError,
    );
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.cause, boom);
    assert.match(err.message, /the password function failed: the token service is down/);
    assert.equal(calls, 1);
  });

  test("a non-string result, or a wrong password, fails like any bad password would", async () => {
    await using notString = new AsyncDatabase(roleConfig((async () => 42) as unknown as () => Promise<string>));
    await assert.rejects(notString.fetchVal("SELECT 1"), (e: unknown) => e instanceof ConnectionError && /returned number, not a string/.test(e.message));
    await using wrong = new AsyncDatabase(roleConfig(async () => "not-the-password"));
    await assert.rejects(wrong.fetchVal("SELECT 1"), (e: unknown) => e instanceof ConnectionError && e.code === "28P01");
  });

  test("the synchronous Database refuses it at construction (ConfigurationError), with a Config or plain settings", () => {
    const fn = () => rolePassword;
    assert.throws(() => new Database(roleConfig(fn)), ConfigurationError);
    assert.throws(() => new Database({ host: primary.host, port: primary.port, user: ROLE, password: fn }), ConfigurationError);
    assert.throws(() => Database.create("x", { host: primary.host, port: primary.port, password: fn }), ConfigurationError);
    assert.throws(() => new Database(roleConfig(fn)), /password function.*use AsyncDatabase/);
  });
});

describe('pooler: "transaction"', () => {
  test("sends no start-up options of tscopg's own (no client_connection_check_interval)", async () => {
    const direct = configOf([primary], "any");
    const pooled = direct.with({ pooler: "transaction" });
    assert.equal(await onBoth(direct, (q) => q.fetchVal("SHOW client_connection_check_interval")), "1s");
    assert.equal(await onBoth(pooled, (q) => q.fetchVal("SHOW client_connection_check_interval")), "0");
    assert.equal(pooled.pooler, "transaction");
  });
});
