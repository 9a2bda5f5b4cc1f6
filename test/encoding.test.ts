/**
 * Parameter values that have no PostgreSQL encoding are ParameterErrors naming the parameter, identically on the
 * async API and on the synchronous facade; objects with node-postgres' `toPostgres()` send the same value on both.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AsyncDatabase, Database, ParameterError, type QueryParams } from "../src/index.js";
import { bothHandles } from "./support/handles.js";

let adb: AsyncDatabase;
let db: Database;

bothHandles("encoding", async (h) => {
  ({ adb, db } = h);
  await adb.execute("CREATE TABLE stored (id int PRIMARY KEY, v text, a text[], j jsonb)");
});

/** The error of an async call and of the same sync call; both must be ParameterErrors with the same message. */
async function sameParameterError(run: (q: AsyncDatabase | Database) => unknown, pattern: RegExp): Promise<string> {
  const ea = await Promise.resolve()
    .then(() => run(adb))
    .then(
      () => assert.fail("async: expected an error"),
      (e: unknown) => e,
    );
  assert.ok(ea instanceof ParameterError, `async: ${String(ea)}`);
  let es: unknown;
  try {
    run(db);
  } catch (e) {
    es = e;
  }
  assert.ok(es instanceof ParameterError, `sync: ${String(es)}`);
  assert.equal(es.message, ea.message);
  assert.match(ea.message, pattern);
  return ea.message;
}

const weakMap = new WeakMap();
const unsendable: [string, () => unknown][] = [
  ["a function", () => () => 1],
  ["a symbol", () => Symbol("s")],
  ["a Map", () => new Map([[1, 2]])],
  ["a Set", () => new Set([1])],
  ["a WeakMap", () => weakMap],
  ["a WeakSet", () => new WeakSet()],
  ["a Promise", () => Promise.resolve(1)],
];

describe("values with no PostgreSQL encoding", () => {
  test("are ParameterErrors naming the parameter, the same on both sides, and the handle still works", async () => {
    const pid = await adb.fetchVal<number>("SELECT pg_backend_pid()");
    for (const [what, make] of unsendable) {
      const msg = await sameParameterError((q) => q.fetchVal("SELECT $1::text, $2::text", ["ok", make()]), /^parameter \$2: /);
      assert.ok(msg.includes(`${what} `), msg);
      // Inside an array parameter, and as a named parameter (whose position is its first use).
      await sameParameterError((q) => q.fetchVal("SELECT $1::text[]", [["x", make()]]), /^parameter \$1: .*array/);
      await sameParameterError((q) => q.fetchVal("SELECT :a::text, :b::text", { b: make(), a: "x" }), /^parameter \$2: /);
      await sameParameterError((q) => q.executeMany("INSERT INTO stored (id, v) VALUES ($1, $2)", [[1, "x"], [2, make()]]), /^parameter \$2: /);
    }
    assert.equal(await adb.fetchVal("SELECT count(*) FROM stored"), 0n); // nothing of the batch was written
    assert.equal(await adb.fetchVal<number>("SELECT pg_backend_pid()"), pid);
    assert.equal(db.fetchVal("SELECT $1::int", [7]), 7);
  });

  test("a function or symbol anywhere inside a JSON value is refused (JSON.stringify would drop it)", async () => {
    const cases: QueryParams[] = [
      [{ a: 1, f: () => 1 }],
      [{ a: { deeper: [1, Symbol("s")] } }],
      [[{ f: () => 1 }]], // an array of JSON values
      [{ big: 1n }],
      [{ m: new Map() }],
    ];
    for (const params of cases) {
      await sameParameterError((q) => q.fetchVal("SELECT $1::jsonb", params), /^parameter \$1: .*JSON/);
    }
    // Absent values are still fine, like in JSON.stringify.
    assert.deepEqual(await adb.fetchVal("SELECT $1::jsonb", [{ a: 1, u: undefined }]), { a: 1 });
    assert.deepEqual(db.fetchVal("SELECT $1::jsonb", [{ a: 1, u: undefined }]), { a: 1 });
  });

  test("a circular object is a ParameterError on both sides", async () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    await sameParameterError((q) => q.fetchVal("SELECT $1::jsonb", [circular]), /^parameter \$1: .*circular/);
    await sameParameterError((q) => q.fetchVal("SELECT $1::jsonb", [{ nested: circular }]), /^parameter \$1: .*circular/);
  });

  test("a named parameter the statement does not use is ignored on both sides, whatever it holds", async () => {
    assert.equal(await adb.fetchVal("SELECT :a::int", { a: 1, unused: () => 1 }), 1);
    assert.equal(db.fetchVal("SELECT :a::int", { a: 1, unused: () => 1 }), 1);
  });

  test("the wrong kind of parameters container is refused the same way on both sides", async () => {
    await sameParameterError((q) => q.fetchVal("SELECT $1::int", new Set([1]) as never), /plain object/);
    await sameParameterError((q) => q.fetchVal("SELECT $1::int", new Map([["a", 1]]) as never), /plain object/);
    class Params {
      a = 1;
    }
    await sameParameterError((q) => q.fetchVal("SELECT :a::int", new Params() as never), /plain object .*got \[object Object\]/);
  });

  test("a function inside an options object: the same answer on both sides (an unknown option is a ParameterError)", async () => {
    const opts = { autocommit: true, onConnect: () => 1 } as never;
    await assert.rejects(adb.connect(opts), (e: unknown) => e instanceof ParameterError && /unknown option "onConnect"/.test((e as Error).message));
    assert.throws(() => db.connect(opts), (e: unknown) => e instanceof ParameterError && /unknown option "onConnect"/.test((e as Error).message));
    await assert.rejects(adb.connect({ autocommit: "yes" } as never), ParameterError);
    assert.throws(() => db.connect({ autocommit: "yes" } as never), ParameterError);
    assert.equal(db.fetchVal("SELECT 1"), 1);
  });
});

/** node-postgres' convention: an object with `toPostgres(prepareValue)` is sent as what that returns. */
class Point3 {
  constructor(
    readonly x: number,
    readonly y: number,
    readonly z: number,
  ) {}
  toPostgres(): string {
    return `(${this.x},${this.y},${this.z})`;
  }
}

/** Uses the `prepareValue` argument for its parts (a Date, a bigint, an array). */
class Stamped {
  constructor(
    readonly at: Date,
    readonly n: bigint,
    readonly tags: string[],
  ) {}
  toPostgres(prepare: (v: unknown) => unknown): string {
    return `${String(prepare(this.at))}|${String(prepare(this.n))}|${String(prepare(this.tags))}`;
  }
}

/** Returns another such object: the chain is followed. */
class Wrapper {
  constructor(readonly inner: unknown) {}
  toPostgres(): unknown {
    return this.inner;
  }
}

describe("toPostgres()", () => {
  test("both sides store what toPostgres() returns, also inside arrays, named and in executeMany", async () => {
    const at = new Date("2001-02-03T04:05:06.789Z");
    const values = [new Point3(1, 2, 3), new Stamped(at, 2n ** 60n, ["a", 'b"c']), new Wrapper(new Point3(4, 5, 6))];
    const expectedText = ["(1,2,3)", `2001-02-03T04:05:06.789Z|${2n ** 60n}|{"a","b\\"c"}`, "(4,5,6)"];
    for (const [side, q] of [["async", adb], ["sync", db]] as const) {
      const base = side === "async" ? 100 : 200;
      for (let i = 0; i < values.length; i++) {
        await q.execute("INSERT INTO stored (id, v, a) VALUES ($1, $2, $3)", [base + i, values[i], [values[i], null]]);
      }
      await q.execute("INSERT INTO stored (id, v) VALUES (:id, :v)", { id: base + 10, v: values[0] });
      await q.executeMany("INSERT INTO stored (id, v) VALUES ($1, $2)", [[base + 20, values[1]], [base + 21, values[2]]]);
      await q.executeMany("INSERT INTO stored (id, v) VALUES (:id, :v)", [{ id: base + 30, v: values[2] }]);
    }
    const rows = await adb.execute<{ id: number; v: string; a: string[] | null }>("SELECT id, v, a FROM stored ORDER BY id");
    const bySide = (base: number) => rows.filter((r) => r.id >= base && r.id < base + 100).map((r) => ({ ...r, id: r.id - base }));
    const expected = [
      ...expectedText.map((v, i) => ({ id: i, v, a: [v, null] })),
      { id: 10, v: expectedText[0], a: null },
      { id: 20, v: expectedText[1], a: null },
      { id: 21, v: expectedText[2], a: null },
      { id: 30, v: expectedText[2], a: null },
    ];
    assert.deepEqual(bySide(100), expected);
    assert.deepEqual(bySide(200), expected);
  });

  test("a JSON value keeps JSON's view of an object inside it (toPostgres applies to parameters and array elements)", async () => {
    const params = [{ p: new Point3(1, 2, 3) }];
    const viaAsync = await adb.fetchVal("SELECT $1::jsonb", params);
    assert.deepEqual(viaAsync, { p: { x: 1, y: 2, z: 3 } });
    assert.deepEqual(db.fetchVal("SELECT $1::jsonb", params), viaAsync);
  });

  test("toPostgres() returning something with no encoding, or itself, is a ParameterError on both sides", async () => {
    await sameParameterError((q) => q.fetchVal("SELECT $1::text", [new Wrapper(() => 1)]), /^parameter \$1: .*function/);
    const selfish = { toPostgres(): unknown { return selfish; } };
    await sameParameterError((q) => q.fetchVal("SELECT $1::text", [selfish]), /^parameter \$1: .*toPostgres/);
  });
});
