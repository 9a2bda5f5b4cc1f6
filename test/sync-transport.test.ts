/**
 * What crosses the synchronous facade's worker boundary besides plain values: callbacks the worker calls back
 * while the call blocks, generators it pulls in chunks, nested calls from inside a callback (answers routed by
 * request id), and classes registered as their own kind (a pool-like subclass keeps its class and statics).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AsyncDatabase, Database, ParameterError, TscopgError } from "../src/index.js";
import { AsyncPoolLike, PoolLike } from "./fixtures/pool-like.js";
import { rawQuery, serverUrl, type TestSchema } from "./support/db.js";
import { bothHandles } from "./support/handles.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

bothHandles("transport", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute("CREATE TABLE items (id int PRIMARY KEY, label text)");
});

const count = async () => Number((await rawQuery<{ n: string }>(`SELECT count(*) AS n FROM "${ctx.schema}".items`))[0]!.n);

describe("callbacks and pulled generators", () => {
  test("a generator given to sync executeMany is pulled in chunks, and onProgress runs on the main thread", async () => {
    await adb.execute("TRUNCATE items");
    let produced = 0;
    function* rows(n: number) {
      for (let i = 1; i <= n; i++) {
        produced++;
        yield [i, `item ${i}`];
      }
    }
    const progress: [number, number][] = [];
    const n = db.executeMany("INSERT INTO items VALUES ($1, $2)", rows(30_000), {
      chunkSize: 5000,
      onProgress: (soFar) => void progress.push([soFar, produced]),
    });
    assert.equal(n, 30_000);
    assert.equal(await count(), 30_000);
    assert.deepEqual(progress.map(([soFar]) => soFar), [5000, 10_000, 15_000, 20_000, 25_000, 30_000]);
    // Pulled as needed: when the first chunk was done, the generator had not been read to the end.
    assert.ok(progress[0]![1] < 30_000, `the generator was read whole before the first chunk ran (${progress[0]![1]})`);
    // The same on the async side, from an async generator.
    await adb.execute("TRUNCATE items");
    async function* more() {
      for (let i = 1; i <= 7000; i++) yield { id: i, label: `a${i}` };
    }
    const seen: number[] = [];
    assert.equal(await adb.executeMany("INSERT INTO items VALUES (:id, :label)", more(), { onProgress: async (k) => void seen.push(k) }), 7000);
    assert.deepEqual(seen, [5000, 7000]);
    assert.equal(await count(), 7000);
  });

  test("all or nothing: a generator or a callback that throws rolls everything back, and its own error arrives", async () => {
    await adb.execute("TRUNCATE items");
    class Boom extends Error {}
    const boom = new Boom("generator failed");
    function* failing() {
      for (let i = 1; i <= 9000; i++) yield [i, "x"];
      throw boom;
    }
    assert.throws(() => db.executeMany("INSERT INTO items VALUES ($1, $2)", failing(), { chunkSize: 1000 }), (e) => e === boom);
    assert.equal(await count(), 0);
    const stop = new Boom("callback failed");
    assert.throws(
      () =>
        db.executeMany("INSERT INTO items VALUES ($1, $2)", (function* () {
          for (let i = 1; i <= 3000; i++) yield [i, "y"];
        })(), { chunkSize: 1000, onProgress: (k) => {
          if (k === 2000) throw stop;
        } }),
      (e) => e === stop,
    );
    assert.equal(await count(), 0);
    await assert.rejects(adb.executeMany("INSERT INTO items VALUES ($1, $2)", (function* () {
      for (let i = 1; i <= 3000; i++) yield [i, "y"];
    })(), { chunkSize: 1000, onProgress: (k) => {
      if (k === 2000) throw stop;
    } }), (e) => e === stop);
    assert.equal(await count(), 0);
    // The handle is fine afterwards.
    assert.equal(db.fetchVal("SELECT 1"), 1);
  });

  test("bad parameter sets in a pulled generator are the async API's ParameterError", async () => {
    function* bad() {
      yield [1, "ok"];
      yield [2, () => 1];
    }
    const es = (() => {
      try {
        db.executeMany("INSERT INTO items VALUES ($1, $2)", bad());
      } catch (e) {
        return e as Error;
      }
    })();
    const ea = await adb.executeMany("INSERT INTO items VALUES ($1, $2)", bad()).catch((e: Error) => e);
    assert.ok(es instanceof ParameterError && ea instanceof ParameterError);
    assert.equal(es.message, ea.message);
    await assert.rejects(adb.executeMany("SELECT 1", 5 as never), ParameterError);
    assert.throws(() => db.executeMany("SELECT 1", 5 as never), ParameterError);
  });

  test("a callback may make sync calls of its own: each answer reaches the call that asked (request ids)", async () => {
    await adb.execute("TRUNCATE items");
    const inside: unknown[] = [];
    db.executeMany("INSERT INTO items VALUES ($1, $2)", (function* () {
      for (let i = 1; i <= 30; i++) yield [i, String(i)];
    })(), {
      chunkSize: 10,
      // A nested call from the callback: the outer call is still waiting in the worker. The new rows are not
      // committed yet, so another session sees none of them; the values come back to the right caller.
      onProgress: (k) => void inside.push([k, db.fetchVal("SELECT $1::int * 2", [k]), db.fetchVal("SELECT count(*) FROM items", [], { autocommit: true })]),
    });
    assert.deepEqual(inside, [[10, 20, 0n], [20, 40, 0n], [30, 60, 0n]]);
    assert.equal(await count(), 30);
    assert.equal(db.fetchVal("SELECT 'next call'"), "next call");
  });

  test("an async callback on the sync side is refused, and nothing is written", async () => {
    await adb.execute("TRUNCATE items");
    assert.throws(
      () => db.executeMany("INSERT INTO items VALUES ($1, $2)", (function* () {
        for (let i = 1; i <= 20; i++) yield [i, "z"];
      })(), { chunkSize: 10, onProgress: async () => undefined }),
      (e: unknown) => e instanceof TscopgError && /must not be async/.test((e as Error).message),
    );
    assert.equal(await count(), 0);
  });
});

describe("classes registered as their own kind", () => {
  test("a pool-like subclass crosses with its own class, methods and statics, on both sides", async () => {
    const a = AsyncPoolLike.fromUrl(serverUrl());
    try {
      assert.ok(a instanceof AsyncPoolLike);
      assert.equal(typeof (await a.backendPid()), "number");
    } finally {
      await a.close();
    }
    using p = PoolLike.fromUrl(serverUrl());
    assert.ok(p instanceof PoolLike, `got ${p.constructor.name}`);
    assert.equal(p.constructor.name, "PoolLike");
    assert.equal(PoolLike.kindName(), "pool-like");
    const pid = p.backendPid();
    assert.equal(typeof pid, "number");
    assert.equal(p.fetchVal("SELECT pg_backend_pid()"), pid); // inherited methods, same shared connection
    assert.equal(p.schema.schemaExists(ctx.schema), true); // and the features
    using q = new PoolLike(ctx.config);
    assert.ok(q instanceof PoolLike);
    assert.equal(typeof q.backendPid(), "number");
    // The base class is unaffected.
    using d = Database.fromUrl(serverUrl());
    assert.equal(d.constructor.name, "Database");
    assert.equal((d as unknown as { backendPid?: unknown }).backendPid, undefined);
  });
});
