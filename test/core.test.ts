import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AsyncDatabase,
  Config,
  ConnectionError,
  DatabaseError,
  DatabaseExists,
  ParameterError,
  QueryCanceled,
  TableNotFound,
  TscopgError,
} from "../src/index.js";
import { createTestSchema, rawQuery, serverUrl, sessionsNamed, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
let db: AsyncDatabase;

before(async () => {
  ctx = await createTestSchema("core");
  db = new AsyncDatabase(ctx.config);
  await db.execute("CREATE TABLE items (id serial PRIMARY KEY, name text UNIQUE NOT NULL, qty int CHECK (qty >= 0))");
  await db.execute(`CREATE TABLE "Order" ("user" text, "select" int)`);
});

after(async () => {
  await db?.close();
  await ctx?.drop();
});

describe("queries", () => {
  test("execute with $n params returns typed rows read back from the server", async () => {
    await db.execute("INSERT INTO items (name, qty) VALUES ($1, $2), ($3, $4)", ["apple", 3, "pear", 5]);
    const rows = await db.execute<{ name: string; qty: number }>("SELECT name, qty FROM items ORDER BY name");
    assert.deepEqual(rows, [
      { name: "apple", qty: 3 },
      { name: "pear", qty: 5 },
    ]);
  });

  test("named :params, repeated and next to casts", async () => {
    const row = await db.fetchOne<{ a: number; b: string; c: number }>("SELECT :x::int AS a, :y AS b, :x::int + 1 AS c", {
      x: 41,
      y: "why",
    });
    assert.deepEqual(row, { a: 41, b: "why", c: 42 });
  });

  test("a missing named parameter is a ParameterError naming it", async () => {
    await assert.rejects(db.execute("SELECT :a::int, :b::int", { a: 1 }), (e: unknown) => {
      assert.ok(e instanceof ParameterError);
      assert.match((e as Error).message, /:b\b|\bb\b/);
      return true;
    });
  });

  test("fetchOne / fetchVal / fetchAll", async () => {
    assert.equal(await db.fetchOne("SELECT 1 WHERE false"), null);
    assert.equal(await db.fetchVal("SELECT 1 WHERE false"), null);
    assert.equal(await db.fetchVal<number>("SELECT qty FROM items WHERE name = $1", ["pear"]), 5);
    assert.equal((await db.fetchAll("SELECT * FROM items")).length, 2);
  });

  test("query() reports rowCount and command", async () => {
    const r = await db.query("UPDATE items SET qty = qty + 1 WHERE qty > $1", [0]);
    assert.equal(r.command, "UPDATE");
    assert.equal(r.rowCount, 2);
  });

  test("mixed-case and reserved-word identifiers work when quoted", async () => {
    await db.execute(`INSERT INTO "Order" ("user", "select") VALUES ($1, $2)`, ["ann", 7]);
    assert.deepEqual(await db.execute(`SELECT "user", "select" FROM "Order"`), [{ user: "ann", select: 7 }]);
  });

  test("multi-statement string returns the last result with rows", async () => {
    const rows = await db.execute("CREATE TEMP TABLE IF NOT EXISTS tmp_m (x int); SELECT 10 AS x; SELECT 20 AS y");
    assert.deepEqual(rows, [{ y: 20 }]);
  });

  test("value types: int8 bigint, numeric string, timestamps, date, bytea, json, arrays", async () => {
    const ts = new Date("2024-02-29T12:34:56.789Z");
    const row = await db.fetchOne<Record<string, unknown>>(
      `SELECT $1::int8 AS big, 12.50::numeric AS num, $2::timestamptz AS tstz, $2::timestamp AS ts,
              '2024-01-02'::date AS d, $3::bytea AS bin, $4::jsonb AS j, $5::int[] AS arr, count(*) AS cnt
         FROM (VALUES (1)) v`,
      [9007199254740993n, ts, Buffer.from([0, 1, 255]), { a: [1, "x"] }, [1, 2, null]],
    );
    assert.ok(row);
    assert.equal(row.big, 9007199254740993n);
    assert.equal(row.num, "12.50");
    assert.deepEqual(row.tstz, ts);
    assert.deepEqual(row.ts, ts, "timestamp without time zone round-trips as UTC wall-clock time");
    assert.equal(row.d, "2024-01-02");
    assert.deepEqual(row.bin, Buffer.from([0, 1, 255]));
    assert.deepEqual(row.j, { a: [1, "x"] });
    assert.deepEqual(row.arr, [1, 2, null]);
    assert.equal(row.cnt, 1n);
  });

  test("concurrent statements pipeline on the shared connection and each gets its own answer", async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => db.fetchVal<number>("SELECT $1::int * 2", [i])));
    assert.deepEqual(results, Array.from({ length: 200 }, (_, i) => i * 2));
  });
});

describe("errors", () => {
  test("a failing statement carries SQLSTATE, detail, schema, table, constraint", async () => {
    await assert.rejects(db.execute("INSERT INTO items (name, qty) VALUES ($1, 1)", ["apple"]), (e: unknown) => {
      assert.ok(e instanceof DatabaseError);
      assert.ok(e instanceof TscopgError);
      assert.equal(e.code, "23505");
      assert.equal(e.constraint, "items_name_key");
      assert.equal(e.table, "items");
      assert.equal(e.schema, ctx.schema);
      assert.match(e.detail ?? "", /\(name\)=\(apple\) already exists/);
      return true;
    });
  });

  test("syntax errors carry a position and hint-bearing errors a hint", async () => {
    await assert.rejects(db.execute("SELECT * FROM items WHERE"), (e: unknown) => {
      assert.ok(e instanceof DatabaseError);
      assert.equal(e.code, "42601");
      assert.equal(e.position, 26);
      return true;
    });
    await assert.rejects(db.execute("SELECT nam FROM items"), (e: unknown) => {
      assert.ok(e instanceof DatabaseError);
      assert.equal(e.code, "42703");
      assert.match(e.hint ?? "", /name/);
      return true;
    });
  });

  test("an undefined table is TableNotFound (a DatabaseError with 42P01)", async () => {
    await assert.rejects(db.execute("SELECT * FROM no_such_table"), (e: unknown) => {
      assert.ok(e instanceof TableNotFound);
      assert.ok(e instanceof DatabaseError);
      assert.equal(e.code, "42P01");
      return true;
    });
  });

  test("the handle stays usable after errors, and transaction control on the shared connection is refused before sending", async () => {
    await assert.rejects(db.execute("SELECT 1/0"));
    assert.equal(await db.fetchVal("SELECT 1"), 1);
    await assert.rejects(db.execute("BEGIN; INSERT INTO items (name, qty) VALUES ('ghost', 1)"), /refused on the database's shared connection/);
    await assert.rejects(db.execute("BEGIN; SELECT 1/0"), /refused/);
    assert.equal(await db.fetchVal("SELECT count(*) FROM items WHERE name = 'ghost'"), 0n);
    assert.equal(await db.fetchVal("SELECT 2"), 2);
  });

  test("a connection the server dropped is replaced: the next statement works", async () => {
    const d = new AsyncDatabase(ctx.config);
    try {
      const pid = await d.fetchVal<number>("SELECT pg_backend_pid()");
      await rawQuery("SELECT pg_terminate_backend($1)", [pid]);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await d.fetchVal("SELECT 7"), 7);
      assert.notEqual(await d.fetchVal<number>("SELECT pg_backend_pid()"), pid);
      // a dedicated connection killed while idle in the cache is not handed out again
      const txPid = await d.transaction((tx) => tx.fetchVal<number>("SELECT pg_backend_pid()"));
      await rawQuery("SELECT pg_terminate_backend($1)", [txPid]);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await d.transaction((tx) => tx.fetchVal("SELECT 8")), 8);
    } finally {
      await d.close();
    }
  });

  test("statement timeout cancels a slow query", async () => {
    const quick = new AsyncDatabase(ctx.config.with({ statementTimeout: 200 }));
    try {
      const t0 = Date.now();
      await assert.rejects(quick.execute("SELECT pg_sleep(5)"), (e: unknown) => {
        assert.ok(e instanceof QueryCanceled);
        assert.equal((e as QueryCanceled).code, "57014");
        return true;
      });
      assert.ok(Date.now() - t0 < 3000, "cancelled well before the sleep ended");
      assert.equal(await quick.fetchVal("SHOW statement_timeout"), "200ms");
      assert.equal(await quick.fetchVal("SELECT 3"), 3);
    } finally {
      await quick.close();
    }
  });

  test("an unreachable server is a ConnectionError, quickly", async () => {
    const nowhere = new AsyncDatabase(new Config({ host: "127.0.0.1", port: 1, password: "s3cret-pw" }));
    const t0 = Date.now();
    await assert.rejects(nowhere.execute("SELECT 1"), (e: unknown) => {
      assert.ok(e instanceof ConnectionError);
      assert.doesNotMatch(String((e as Error).message), /s3cret-pw/);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000);
    await nowhere.close();
  });

  test("an authentication/role failure is not retried and keeps its SQLSTATE", async () => {
    const base = Config.fromUrl(serverUrl());
    const bad = new AsyncDatabase(base.with({ user: "no_such_role_x", password: "pw-should-not-leak" }));
    await assert.rejects(bad.execute("SELECT 1"), (e: unknown) => {
      assert.ok(e instanceof ConnectionError);
      assert.match(String((e as ConnectionError).code), /^28/);
      assert.doesNotMatch(String((e as Error).message), /pw-should-not-leak/);
      return true;
    });
    await bad.close();
  });

  test("a closed handle refuses work", async () => {
    const d = new AsyncDatabase(ctx.config);
    assert.equal(await d.fetchVal("SELECT 1"), 1);
    await d.close();
    await assert.rejects(d.execute("SELECT 1"), TscopgError);
  });
});

describe("transactions", () => {
  test("callback form commits on success and rolls back on throw", async () => {
    const v = await db.transaction(async (tx) => {
      await tx.execute("INSERT INTO items (name, qty) VALUES ('t1', 1)");
      return "done";
    });
    assert.equal(v, "done");
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute("INSERT INTO items (name, qty) VALUES ('t2', 1)");
        throw new Error("boom");
      }),
      /boom/,
    );
    const names = (await rawQuery<{ name: string }>(`SELECT name FROM "${ctx.schema}".items WHERE name LIKE 't_' ORDER BY 1`)).map((r) => r.name);
    assert.deepEqual(names, ["t1"]);
  });

  test("nested transactions are savepoints", async () => {
    await db.transaction(async (tx) => {
      await tx.execute("INSERT INTO items (name, qty) VALUES ('outer', 1)");
      await assert.rejects(
        tx.transaction(async (sp) => {
          assert.equal(sp.depth, 1);
          await sp.execute("INSERT INTO items (name, qty) VALUES ('inner', 1)");
          throw new Error("inner fails");
        }),
      );
      await tx.transaction(async (sp) => {
        await sp.execute("INSERT INTO items (name, qty) VALUES ('inner2', 1)");
      });
    });
    const names = (await db.execute<{ name: string }>("SELECT name FROM items WHERE name IN ('outer','inner','inner2') ORDER BY 1")).map((r) => r.name);
    assert.deepEqual(names, ["inner2", "outer"]);
  });

  test("inside a callback, db's own methods join the transaction (and nested db.transaction is a savepoint)", async () => {
    await assert.rejects(
      db.transaction(async () => {
        await db.execute("INSERT INTO items (name, qty) VALUES ('ambient', 1)");
        assert.equal(await db.fetchVal("SELECT count(*) FROM items WHERE name = 'ambient'"), 1n);
        // an outside observer does not see it yet
        assert.equal((await rawQuery(`SELECT 1 FROM "${ctx.schema}".items WHERE name = 'ambient'`)).length, 0);
        await db.transaction(async (sp) => assert.equal(sp.depth, 1));
        throw new Error("undo");
      }),
    );
    assert.equal(await db.fetchVal("SELECT count(*) FROM items WHERE name = 'ambient'"), 0n);
  });

  test("autocommit: true runs outside the ambient transaction and survives its rollback", async () => {
    await assert.rejects(
      db.transaction(async () => {
        await db.execute("INSERT INTO items (name, qty) VALUES ('inside', 1)");
        await db.execute("INSERT INTO items (name, qty) VALUES ('outside', 1)", null, { autocommit: true });
        assert.equal((await rawQuery(`SELECT 1 FROM "${ctx.schema}".items WHERE name = 'outside'`)).length, 1);
        throw new Error("roll back the inside");
      }),
    );
    const names = (await db.execute<{ name: string }>("SELECT name FROM items WHERE name IN ('inside','outside')")).map((r) => r.name);
    assert.deepEqual(names, ["outside"]);
  });

  test("await using without commit rolls back; with commit persists", async () => {
    {
      await using tx = await db.transaction();
      await tx.execute("INSERT INTO items (name, qty) VALUES ('u1', 1)");
    }
    {
      await using tx = await db.transaction();
      await tx.execute("INSERT INTO items (name, qty) VALUES ('u2', 1)");
      await tx.commit();
      assert.equal(tx.finished, true);
      await assert.rejects(tx.execute("SELECT 1"), TscopgError);
    }
    const names = (await db.execute<{ name: string }>("SELECT name FROM items WHERE name IN ('u1','u2')")).map((r) => r.name);
    assert.deepEqual(names, ["u2"]);
  });

  test("a failed statement inside a transaction rolls the whole transaction back", async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute("INSERT INTO items (name, qty) VALUES ('f1', 1)");
        await tx.execute("INSERT INTO items (name, qty) VALUES ('f2', -1)");
      }),
      (e: unknown) => e instanceof DatabaseError && e.code === "23514",
    );
    assert.equal(await db.fetchVal("SELECT count(*) FROM items WHERE name IN ('f1','f2')"), 0n);
  });
});

describe("connections and cursors", () => {
  test("connect(): implicit transaction until commit; close rolls back the rest", async () => {
    const conn = await db.connect();
    await conn.execute("INSERT INTO items (name, qty) VALUES ('c1', 1)");
    await conn.commit();
    await conn.execute("INSERT INTO items (name, qty) VALUES ('c2', 1)");
    await conn.close();
    const names = (await db.execute<{ name: string }>("SELECT name FROM items WHERE name IN ('c1','c2')")).map((r) => r.name);
    assert.deepEqual(names, ["c1"]);
  });

  test("connect({ autocommit: true }) commits each statement; callback form commits on success", async () => {
    await db.connect({ autocommit: true }, async (conn) => {
      assert.equal(conn.autocommit, true);
      await conn.execute("INSERT INTO items (name, qty) VALUES ('a1', 1)");
      assert.equal((await rawQuery(`SELECT 1 FROM "${ctx.schema}".items WHERE name = 'a1'`)).length, 1);
    });
    await db.connect(async (conn) => {
      await conn.execute("INSERT INTO items (name, qty) VALUES ('a2', 1)");
    });
    assert.equal(await db.fetchVal("SELECT count(*) FROM items WHERE name IN ('a1','a2')"), 2n);
  });

  test("connection-scoped session state (SET, temp tables) does not leak to the next user", async () => {
    await db.connect(async (conn) => {
      await conn.execute("SET work_mem = '7MB'");
      await conn.execute("CREATE TEMP TABLE scratch (x int)");
    });
    await db.connect(async (conn) => {
      assert.notEqual(await conn.fetchVal("SHOW work_mem"), "7MB");
      assert.equal(await conn.fetchVal("SELECT to_regclass('pg_temp.scratch')::text"), null);
    });
  });

  test("cursor(): fetchOne, fetchMany, fetchAll, rowCount, description", async () => {
    await using cur = await db.cursor();
    await cur.execute("SELECT g AS n FROM generate_series(1, 5) g");
    assert.equal(cur.rowCount, 5);
    assert.deepEqual(cur.description?.map((d) => d.name), ["n"]);
    assert.deepEqual(await cur.fetchOne(), { n: 1 });
    assert.deepEqual(await cur.fetchMany(2), [{ n: 2 }, { n: 3 }]);
    assert.deepEqual(await cur.fetchAll(), [{ n: 4 }, { n: 5 }]);
    assert.equal(await cur.fetchOne(), null);
    await cur.execute("SELECT g AS n FROM generate_series(1, 3) g");
    await cur.fetchOne();
    const rest: unknown[] = [];
    for await (const row of cur) rest.push(row);
    assert.deepEqual(rest, [{ n: 2 }, { n: 3 }]);
  });

  test("executeMany: pipelined, counts rows, all-or-nothing", async () => {
    const n = await db.executeMany(
      "INSERT INTO items (name, qty) VALUES ($1, $2)",
      Array.from({ length: 500 }, (_, i) => [`m${i}`, i]),
    );
    assert.equal(n, 500);
    assert.equal(await db.fetchVal("SELECT count(*) FROM items WHERE name LIKE 'm%'"), 500n);
    await assert.rejects(
      db.executeMany("INSERT INTO items (name, qty) VALUES (:name, :qty)", [
        { name: "x1", qty: 1 },
        { name: "x2", qty: -5 },
        { name: "x3", qty: 1 },
      ]),
      (e: unknown) => e instanceof DatabaseError && e.code === "23514",
    );
    assert.equal(await db.fetchVal("SELECT count(*) FROM items WHERE name IN ('x1','x2','x3')"), 0n);
    assert.equal(await db.executeMany("SELECT 1", []), 0);
    // inside a transaction on a dedicated connection too
    await db.transaction(async (tx) => {
      assert.equal(await tx.executeMany("UPDATE items SET qty = qty WHERE name = $1", [["m1"], ["m2"], ["nope"]]), 2);
    });
  });

  test("nothing leaks: connections are reused and all closed at close()", async () => {
    const d = new AsyncDatabase(ctx.config);
    for (let i = 0; i < 5; i++) {
      await d.transaction(async (tx) => tx.execute("SELECT 1"));
      await d.connect(async (c) => c.execute("SELECT 1"));
      await assert.rejects(d.transaction(async () => Promise.reject(new Error("x"))));
    }
    await d.execute("SELECT 1");
    assert.ok(d.connectionCount <= 3, `connectionCount ${d.connectionCount}`);
    await d.close();
    assert.equal(d.connectionCount, 0);
    // the server agrees (sessions of other handles on this schema were never closed: only compare counts)
    const before = await sessionsNamed(ctx.schema);
    assert.ok(before >= 1, "the shared test handle is still connected");
  });
});

describe("create()", () => {
  test("creates a database and returns a handle on it; DatabaseExists when asked", async () => {
    const name = `tscopg_create_${process.pid}`;
    await rawQuery(`DROP DATABASE IF EXISTS ${name}`);
    const base = Config.fromUrl(serverUrl());
    const created = await AsyncDatabase.create(name, { config: base });
    try {
      assert.equal(await created.fetchVal("SELECT current_database()"), name);
      await assert.rejects(AsyncDatabase.create(name, { config: base, ifNotExists: false }), DatabaseExists);
      const again = await AsyncDatabase.create(name, { config: base });
      await again.close();
      // from the environment (npm test sets DATABASE_URL)
      const fromEnv = await AsyncDatabase.createFromEnv(name, { loadDotenvFile: false });
      assert.equal(await fromEnv.fetchVal("SELECT current_database()"), name);
      await fromEnv.close();
    } finally {
      await created.close();
      await rawQuery(`DROP DATABASE IF EXISTS ${name}`);
    }
  });
});
