/**
 * A pool against servers it can lose (throwaway clusters, `support/cluster.ts`): a primary with two streaming
 * standbys for read routing (readOnly and `pool.replicas` go to the standbys, balanced by load, back to the primary
 * when none is up; writes and transactions always on the primary), and a real server restart in the middle of load
 * (in-flight calls fail with ConnectionError, later ones succeed, nothing leaks).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncPooledDatabase, Config, ConnectionError, PooledDatabase } from "../src/index.js";
import { eventually } from "./support/both-sides.js";
import { startCluster, type Cluster } from "./support/cluster.js";

let primary: Cluster;
let standbyA: Cluster;
let standbyB: Cluster;
const pools: AsyncPooledDatabase[] = [];

before(async () => {
  primary = await startCluster();
  await primary.query("CREATE TABLE items (id int PRIMARY KEY, note text)");
  [standbyA, standbyB] = await Promise.all([startCluster({ replicaOf: primary }), startCluster({ replicaOf: primary })]);
});

after(async () => {
  for (const p of pools) await p.close();
  await Promise.all([standbyA?.remove(), standbyB?.remove(), primary?.remove()]);
});

const at = (c: Cluster) => ({ host: c.host, port: c.port });
const PORT = "SELECT current_setting('port')::int";

function poolOn(clusters: Cluster[], options: ConstructorParameters<typeof AsyncPooledDatabase>[1] = {}): AsyncPooledDatabase {
  const config = new Config({ hosts: clusters.map(at), user: "postgres", database: "postgres", connectTimeout: 2 });
  const p = new AsyncPooledDatabase(config, { minSize: 1, maxSize: 4, ...options });
  pools.push(p);
  return p;
}

describe("read scaling over standbys", () => {
  test("writes and transactions go to the primary, whatever the order of the hosts", async () => {
    const p = poolOn([standbyA, primary, standbyB]);
    assert.equal(await p.fetchVal<number>(PORT), primary.port);
    await p.execute("INSERT INTO items VALUES (1, 'one')");
    assert.equal(await p.transaction((tx) => tx.fetchVal<number>(PORT)), primary.port);
    assert.equal(await p.replicas.transaction((tx) => tx.fetchVal<number>(PORT)), primary.port, "replicas' transactions too");
  });

  test("readOnly statements and pool.replicas run on the standbys, spread by load, and see replicated rows", async () => {
    const p = poolOn([primary, standbyA, standbyB]);
    await p.execute("INSERT INTO items VALUES (2, 'two')");
    await Promise.all([standbyA.waitForReplay(), standbyB.waitForReplay()]);
    assert.equal(await p.fetchVal<string>("SELECT note FROM items WHERE id = 2", [], { readOnly: true }), "two");
    const ports = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? p.fetchVal<number>(`${PORT} FROM pg_sleep(0.02)`, [], { readOnly: true }) : p.replicas.fetchVal<number>(`${PORT} FROM pg_sleep(0.02)`))),
    );
    const seen = new Set(ports);
    assert.ok(!seen.has(primary.port), `a read went to the primary: ${[...seen].join(",")}`);
    assert.deepEqual([...seen].sort(), [standbyA.port, standbyB.port].sort(), "both standbys took reads");
    // A write through the replicas is refused by the standby, not silently sent elsewhere.
    await assert.rejects(p.replicas.execute("INSERT INTO items VALUES (3, 'three')"), /read-only transaction/);
  });

  test("with every standby down, reads fall back to the primary; when one is back, they go to it again", async () => {
    const p = poolOn([primary, standbyA]);
    await standbyA.stop();
    try {
      assert.equal(await p.fetchVal<number>(PORT, [], { readOnly: true }), primary.port);
      assert.equal(await p.replicas.fetchVal<number>(PORT), primary.port);
    } finally {
      await standbyA.start();
    }
    await eventually(() => p.replicas.fetchVal<number>(PORT), (port) => port === standbyA.port, "reads back on the standby");
  });

  test("the sync pool routes the same way", () => {
    const config = new Config({ hosts: [at(standbyB), at(primary)], user: "postgres", database: "postgres" });
    const p = new PooledDatabase(config, { minSize: 1, maxSize: 2 });
    try {
      assert.equal(p.fetchVal<number>(PORT), primary.port);
      assert.equal(p.fetchVal<number>(PORT, [], { readOnly: true }), standbyB.port);
      assert.equal(p.replicas.fetchVal<number>(PORT), standbyB.port);
    } finally {
      p.close();
    }
  });
});

describe("a server restart in the middle of load", () => {
  test("in-flight calls fail with ConnectionError, later calls succeed, and no connection leaks", async () => {
    const server = await startCluster();
    const p = new AsyncPooledDatabase(server.url, { minSize: 2, maxSize: 5, timeout: 20 });
    try {
      await p.open();
      let stop = false;
      const outcomes = { ok: 0, lost: 0, other: [] as string[] };
      const load = Array.from({ length: 30 }, async (_, k) => {
        while (!stop) {
          try {
            if (k % 3 === 0) await p.transaction((tx) => tx.execute("SELECT pg_sleep(0.01)"));
            else await p.fetchVal("SELECT pg_sleep(0.003)");
            outcomes.ok++;
          } catch (e) {
            if (e instanceof ConnectionError) outcomes.lost++;
            else outcomes.other.push(String(e));
          }
        }
      });
      await new Promise((r) => setTimeout(r, 300));
      await server.restart();
      const okAtRestart = outcomes.ok;
      await eventually(async () => outcomes.ok, (n) => n > okAtRestart + 50, "calls succeed again after the restart");
      stop = true;
      await Promise.all(load);
      assert.deepEqual(outcomes.other, []);
      assert.ok(outcomes.lost >= 1, "the calls in flight at the restart failed with ConnectionError");
      assert.ok(p.stats.errors >= 1);
      assert.ok(p.stats.size <= 5);
      const sessions = await server.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
      assert.ok((sessions[0] as { n: number }).n <= 5, `the server sees ${JSON.stringify(sessions)}`);
    } finally {
      await p.close();
      await server.remove();
    }
  });
});
