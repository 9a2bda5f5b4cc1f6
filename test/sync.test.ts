import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AsyncDatabase,
  Config,
  ConnectionError,
  Database,
  DatabaseError,
  InvalidIdentifier,
  ParameterError,
  TableNotFound,
  TscopgError,
} from "../src/index.js";
import { rawQuery, type TestSchema } from "./support/db.js";
import { asyncOnlyFeatures } from "../src/features/registry.js";
import { bothHandles } from "./support/handles.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

bothHandles("sync", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute("CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, data bytea, at timestamptz, big int8)");
});

describe("the synchronous facade", () => {
  test("it is generated: every AsyncDatabase method exists on Database (async-only features excepted)", () => {
    const names = (proto: object) => {
      const out = new Set<string>();
      for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
        for (const n of Object.getOwnPropertyNames(p)) if (n !== "constructor" && !n.startsWith("_")) out.add(n);
      }
      return out;
    };
    const asyncNames = names(AsyncDatabase.prototype);
    const syncNames = names(Database.prototype);
    for (const n of asyncNames) assert.equal(syncNames.has(n), !asyncOnlyFeatures.has(n), `Database ${asyncOnlyFeatures.has(n) ? "has the async-only" : "lacks"} ${n}`);
    for (const s of ["fromUrl", "fromEnv", "create", "createFromEnv"]) assert.equal(typeof (Database as unknown as Record<string, unknown>)[s], "function");
  });

  test("returns values (not promises) identical to the async API's, types included", async () => {
    db.execute("INSERT INTO t VALUES ($1, $2, $3, $4, $5)", [1, "one", Buffer.from([1, 2, 3]), new Date("2020-01-01T00:00:00Z"), 2n ** 62n]);
    const queries: [string, unknown[]?][] = [
      ["SELECT * FROM t ORDER BY id"],
      ["SELECT $1::int AS a, 'x' AS b, NULL AS c, 1.5::numeric AS d, '{\"k\":[1]}'::jsonb AS e", [5]],
      ["SELECT count(*) FROM t"],
      ["SELECT g FROM generate_series(1, 50) g"],
    ];
    for (const [sql, params] of queries) {
      const s = db.execute(sql, params);
      assert.ok(!(s instanceof Promise));
      assert.deepEqual(s, await adb.execute(sql, params));
    }
    const row = db.fetchOne<{ data: Buffer; at: Date; big: bigint }>("SELECT data, at, big FROM t WHERE id = 1");
    assert.ok(Buffer.isBuffer(row?.data));
    assert.ok(row?.at instanceof Date);
    assert.equal(row?.big, 2n ** 62n);
    assert.equal(db.fetchVal("SELECT name FROM t WHERE id = :id", { id: 1 }), await adb.fetchVal("SELECT name FROM t WHERE id = :id", { id: 1 }));
    assert.equal(db.executeMany("INSERT INTO t (id, name) VALUES ($1, $2)", [[2, "two"], [3, "three"]]), 2);
    assert.equal(await adb.fetchVal("SELECT count(*) FROM t"), 3n);
  });

  test("errors arrive as the same classes with the same fields", async () => {
    const capture = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e;
      }
      assert.fail("expected an error");
    };
    const capAsync = async (p: Promise<unknown>) => p.then(() => assert.fail("expected an error"), (e: unknown) => e);

    const cases: [() => unknown, () => Promise<unknown>][] = [
      [() => db.execute("INSERT INTO t (id, name) VALUES (1, 'dup')"), () => adb.execute("INSERT INTO t (id, name) VALUES (1, 'dup')")],
      [() => db.execute("SELECT * FROM nope"), () => adb.execute("SELECT * FROM nope")],
      [() => db.execute("SELECT :missing", {}), () => adb.execute("SELECT :missing", {})],
      [() => db.execute("SELEC 1"), () => adb.execute("SELEC 1")],
    ];
    for (const [s, a] of cases) {
      const es = capture(s) as Record<string, unknown>;
      const ea = (await capAsync(a())) as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(es), Object.getPrototypeOf(ea));
      for (const f of ["name", "message", "code", "detail", "hint", "position", "schema", "table", "constraint"]) {
        assert.deepEqual(es[f], ea[f], `field ${f}`);
      }
    }
    assert.ok(capture(() => db.execute("SELECT * FROM nope")) instanceof TableNotFound);
    const dup = capture(() => db.execute("INSERT INTO t (id, name) VALUES (1, 'dup')")) as DatabaseError;
    assert.ok(dup instanceof DatabaseError && dup instanceof TscopgError);
    assert.equal(dup.code, "23505");
    assert.equal(dup.constraint, "t_pkey");
    assert.ok(capture(() => db.execute("SELECT :missing", {})) instanceof ParameterError);
    assert.ok(capture(() => Database.create("bad name; --", { config: ctx.config })) instanceof InvalidIdentifier);
    // still usable afterwards
    assert.equal(db.fetchVal("SELECT 1"), 1);
  });

  test("transaction callback commits or rolls back; nested calls are savepoints; db joins the transaction", () => {
    db.transaction((tx) => {
      tx.execute("INSERT INTO t (id, name) VALUES (10, 'ten')");
      assert.equal(tx.depth, 0);
      let seenDepth = -1;
      assert.throws(
        () =>
          tx.transaction((sp) => {
            seenDepth = sp.depth;
            sp.execute("INSERT INTO t (id, name) VALUES (11, 'eleven')");
            throw new Error("undo the savepoint");
          }),
        /undo the savepoint/,
      );
      assert.equal(seenDepth, 1);
      // the handle's own methods run inside the transaction
      assert.equal(db.fetchVal("SELECT count(*) FROM t WHERE id = 10"), 1n);
      assert.equal(db.transaction((sp) => sp.depth), 1);
    });
    assert.throws(
      () =>
        db.transaction(() => {
          db.execute("INSERT INTO t (id, name) VALUES (12, 'twelve')");
          throw new Error("undo all");
        }),
      /undo all/,
    );
    assert.deepEqual(
      db.execute<{ id: number }>("SELECT id FROM t WHERE id >= 10 ORDER BY id").map((r) => r.id),
      [10],
    );
  });

  test("using: a transaction not committed is rolled back; connections and cursors close", async () => {
    {
      using tx = db.transaction();
      tx.execute("INSERT INTO t (id, name) VALUES (20, 'twenty')");
    }
    {
      using tx = db.transaction();
      tx.execute("INSERT INTO t (id, name) VALUES (21, 'twenty-one')");
      tx.commit();
      assert.equal(tx.finished, true);
    }
    {
      using conn = db.connect();
      conn.execute("INSERT INTO t (id, name) VALUES (22, 'twenty-two')");
      conn.commit();
      using cur = conn.cursor();
      cur.execute("SELECT id FROM t WHERE id >= 20 ORDER BY id");
      assert.equal(cur.rowCount, 2);
      assert.deepEqual(cur.fetchOne(), { id: 21 });
      assert.deepEqual(cur.fetchAll(), [{ id: 22 }]);
    }
    const ids = (await rawQuery<{ id: number }>(`SELECT id FROM "${ctx.schema}".t WHERE id >= 20 ORDER BY id`)).map((r) => r.id);
    assert.deepEqual(ids, [21, 22]);
    // iteration crosses the worker as a sync iterator (and stops early cleanly)
    db.cursor((cur) => {
      cur.execute("SELECT g AS n FROM generate_series(1, 5) g");
      const seen: unknown[] = [];
      for (const row of cur) {
        seen.push(row);
        if (seen.length === 3) break;
      }
      assert.deepEqual(seen, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      assert.deepEqual([...cur], [{ n: 4 }, { n: 5 }]);
    });
    const n = db.cursor((cur) => {
      cur.execute("SELECT 1 AS one");
      return cur.fetchAll().length;
    });
    assert.equal(n, 1);
  });

  test("an async callback is refused (and rolled back) instead of silently misbehaving", () => {
    assert.throws(
      () => db.transaction((async () => {}) as never),
      (e: unknown) => e instanceof TscopgError && /must not be async/.test((e as Error).message),
    );
  });

  test("Database.fromUrl and an unreachable server", () => {
    const other = Database.fromUrl(ctx.config.url);
    assert.equal(other.fetchVal("SELECT current_setting('search_path')"), ctx.schema);
    assert.ok(other.config instanceof Config);
    assert.equal(other.config.database, ctx.config.database);
    other.close();
    const nowhere = new Database(new Config({ host: "127.0.0.1", port: 1 }));
    assert.throws(() => nowhere.execute("SELECT 1"), ConnectionError);
    nowhere.close();
  });
});

test("query() results cross the worker as plain data", () => {
  const r = db.query("SELECT 1::int AS one, 'x' AS two");
  assert.equal(r.command, "SELECT");
  assert.equal(r.rowCount, 1);
  assert.deepEqual(r.rows, [{ one: 1, two: "x" }]);
  assert.deepEqual(r.fields.map((f) => f.name), ["one", "two"]);
  assert.equal(r.fields[0]!.dataTypeID, 23);
});

// Compile-time parity (checked by `npm run typecheck`): every public AsyncDatabase member has a sync twin whose
// methods return values, not Promises.
type PublicKeys<T> = { [K in keyof T]: K extends `_${string}` ? never : K }[keyof T];
type MissingOnSync = Exclude<PublicKeys<AsyncDatabase>, keyof Database | typeof Symbol.asyncDispose>;
const noneMissing: [MissingOnSync] extends [never] ? true : false = true;
const fetchValIsSync: ReturnType<Database["fetchVal"]> extends Promise<unknown> ? false : true = true;
const executeIsSync: ReturnType<Database["executeMany"]> extends number ? true : false = true;

// Compile-time: a Promise-returning callback is a type error on the sync facade (it would run after the blocking call
// had already finished the resource), while AsyncDatabase takes both kinds. Row types may be interfaces. Never called.
interface ItemRow {
  id: number;
  name: string;
}
function callbackForms(s: Database, a: AsyncDatabase): [number, Promise<number>, Promise<number>, ItemRow[], Promise<ItemRow | null>] {
  // @ts-expect-error an async transaction callback on the synchronous facade
  s.transaction(async (tx) => tx.execute("SELECT 1"));
  // @ts-expect-error a Promise-returning transaction callback
  s.transaction(() => Promise.resolve(1));
  // @ts-expect-error an async connect callback
  s.connect(async (conn) => conn.fetchVal("SELECT 1"));
  // @ts-expect-error an async connect callback with options
  s.connect({ autocommit: true }, async () => 1);
  // @ts-expect-error an async cursor callback
  s.cursor(async (cur) => cur.fetchAll());
  // @ts-expect-error an async cursor callback with options
  s.cursor({ autocommit: false }, async () => 1);
  // @ts-expect-error an async savepoint callback on a sync connection
  s.connect((conn) => conn.transaction(async () => 1));
  const fromSync: number = s.transaction((tx) => tx.execute("SELECT 1").length);
  const asyncCallback: Promise<number> = a.transaction(async (tx) => (await tx.execute("SELECT 1")).length);
  const plainCallback: Promise<number> = a.connect({ autocommit: undefined }, () => 1);
  return [fromSync, asyncCallback, plainCallback, s.execute<ItemRow>("SELECT 1"), a.fetchOne<ItemRow>("SELECT 1")];
}

test("type-level parity holds (see the declarations above)", () => {
  assert.deepEqual([noneMissing, fetchValIsSync, executeIsSync], [true, true, true]);
  assert.equal(typeof callbackForms, "function");
});
