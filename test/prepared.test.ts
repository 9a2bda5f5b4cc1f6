/**
 * Prepared statements (`core/statement-cache.ts`): a text run with parameters a second time on a connection is
 * prepared there (seen in pg_prepared_statements); a table that changes shape, or a DEALLOCATE behind tscopg's back,
 * never breaks a statement run outside a transaction; DISCARD ALL (a connection's reset, or the user's) clears the
 * cache; behind `pooler: "transaction"` nothing is prepared. Both sides.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AsyncDatabase, AsyncPooledDatabase, Database } from "../src/index.js";
import { bothHandles } from "./support/handles.js";
import { rawQuery, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
bothHandles("prepared", (h) => ({ ctx, adb, db } = h));

const PREPARED = "SELECT count(*)::int FROM pg_prepared_statements WHERE name LIKE 'tscopg_%' AND statement = $1";

describe("prepared statements", () => {
  test("the second run of a text on a connection prepares it; later runs use it", async () => {
    await adb.connect(async (c) => {
      const text = "SELECT $1::int + 100 AS v";
      assert.equal(await c.fetchVal<number>(text, [1]), 101);
      assert.equal(await c.fetchVal<number>(PREPARED, [text]), 0, "not after one run");
      assert.equal(await c.fetchVal<number>(text, [2]), 102);
      assert.equal(await c.fetchVal<number>(PREPARED, [text]), 1, "prepared at the second");
      assert.equal(await c.fetchVal<number>(text, [3]), 103);
      assert.equal(await c.fetchVal<number>(PREPARED, [text]), 1, "and reused");
    });
  });

  test("a table that another program changes the shape of does not break a prepared SELECT * outside a transaction (both sides)", async () => {
    for (const q of [adb, db] as const) {
      const table = q === adb ? "shape_a" : "shape_s";
      const run = async <T>(sql: string, params?: unknown[]) => (await (q as AsyncDatabase).fetchAll(sql, params)) as T;
      await run(`CREATE TABLE ${table} (a int)`);
      await run(`INSERT INTO ${table} VALUES (1)`);
      const read = `SELECT * FROM ${table} WHERE a = $1`;
      for (let i = 0; i < 3; i++) assert.deepEqual(await run(read, [1]), [{ a: 1 }]);
      await rawQuery(`ALTER TABLE "${ctx.schema}".${table} ADD COLUMN b text DEFAULT 'x'`); // another program: not seen
      assert.deepEqual(await run(read, [1]), [{ a: 1, b: "x" }]);
      assert.deepEqual(await run(read, [1]), [{ a: 1, b: "x" }]);
    }
  });

  test("a schema change made through tscopg re-prepares every connection's statements: new parameter types fit", async () => {
    await adb.connect(async (c) => {
      await c.execute("CREATE TABLE retyped (v int8)");
      const insert = "INSERT INTO retyped VALUES ($1)";
      await c.execute(insert, [1]);
      await c.execute(insert, [2]); // prepared with v int8: the parameter is an int8
      await c.commit();
      await adb.execute("DROP TABLE retyped; CREATE TABLE retyped (v float8)"); // on another connection
      await c.execute(insert, [0.5]);
      await c.commit();
      assert.deepEqual(await c.execute("SELECT v FROM retyped"), [{ v: 0.5 }]);
    });
  });

  test("a column retyped by another program: outside a transaction the statement still works", async () => {
    await adb.connect({ autocommit: true }, async (c) => {
      await c.execute("CREATE TABLE retyped_elsewhere (v int4)");
      const insert = "INSERT INTO retyped_elsewhere VALUES ($1)";
      await c.execute(insert, [1]);
      await c.execute(insert, [2]); // prepared: $1 is an int4
      await rawQuery(`ALTER TABLE "${ctx.schema}".retyped_elsewhere ALTER COLUMN v TYPE int8`); // not seen by tscopg
      await c.execute(insert, [5_000_000_000]);
      await c.execute(insert, [6_000_000_000]);
      assert.deepEqual(await c.execute("SELECT v::text FROM retyped_elsewhere ORDER BY v"), [{ v: "1" }, { v: "2" }, { v: "5000000000" }, { v: "6000000000" }]);
      await assert.rejects(c.execute(insert, ["not a number"]), (e: Error & { code?: string }) => e.code === "22P02", "a genuine error still fails");
    });
  });

  test("a change made by another program: inside a transaction a stale statement fails once, then works again", async () => {
    await adb.execute("CREATE TABLE shape_tx (a int)");
    await adb.connect(async (c) => {
      const read = "SELECT * FROM shape_tx WHERE a = $1";
      await c.execute(read, [1]);
      await c.execute(read, [1]);
      await c.commit();
      await rawQuery(`ALTER TABLE "${ctx.schema}".shape_tx ADD COLUMN b int`); // not through tscopg: not seen
      await assert.rejects(c.execute(read, [1]), (e: Error & { code?: string }) => e.code === "0A000");
      await c.rollback();
      assert.deepEqual(await c.execute(read, [1]), []);
    });
  });

  test("DEALLOCATE ALL and DISCARD ALL by the user clear the cache; a reset's DISCARD ALL too", async () => {
    await adb.connect({ autocommit: true }, async (c) => {
      const text = "SELECT $1::int * 3";
      await c.fetchVal(text, [1]);
      await c.fetchVal(text, [1]);
      await c.execute("DEALLOCATE ALL");
      assert.equal(await c.fetchVal<number>(text, [2]), 6);
      await c.fetchVal(text, [2]);
      await c.execute("DISCARD ALL");
      assert.equal(await c.fetchVal<number>(text, [3]), 9);
    });
    // A borrower that changed session state: the connection is reset (DISCARD ALL) before the next one.
    const pool = new AsyncPooledDatabase(ctx.config, { minSize: 1, maxSize: 1 });
    try {
      const text = "SELECT $1::int * 5";
      await pool.connection(async (c) => {
        await c.fetchVal(text, [1]);
        await c.fetchVal(text, [1]);
        await c.execute("SET work_mem = '5MB'");
      });
      assert.equal(await pool.connection((c) => c.fetchVal<number>(text, [2])), 10);
      assert.equal(await pool.fetchVal<number>(text, [3]), 15);
    } finally {
      await pool.close();
    }
  });

  test("behind pooler: \"transaction\" nothing is prepared", async () => {
    const plain = new AsyncDatabase(ctx.config.with({ pooler: "transaction" }));
    try {
      await plain.connect(async (c) => {
        const text = "SELECT $1::int - 1";
        for (let i = 0; i < 3; i++) await c.fetchVal(text, [i]);
        assert.equal(await c.fetchVal<number>(PREPARED, [text]), 0);
      });
    } finally {
      await plain.close();
    }
  });
});
