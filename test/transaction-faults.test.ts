/**
 * Transactions never lie: what a fault-injection review found (concurrent savepoints, commits of failed
 * transactions, SQL COMMIT on a connection, async callbacks on the sync facade). Every check reads back what
 * the server holds.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, beforeEach, describe, test } from "node:test";
import { AsyncDatabase, Database, DatabaseError, InFailedSqlTransaction, TscopgError } from "../src/index.js";
import { createTestSchema, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
let db: AsyncDatabase;

before(async () => {
  ctx = await createTestSchema("txfault");
  db = new AsyncDatabase(ctx.config);
  await db.execute("CREATE TABLE t (v text NOT NULL)");
});

after(async () => {
  await db?.close();
  await ctx?.drop();
});

beforeEach(async () => {
  await db.execute("TRUNCATE t");
});

const stored = async (): Promise<string[]> => (await db.execute<{ v: string }>("SELECT v FROM t ORDER BY v")).map((r) => r.v);
const tick = () => new Promise((r) => setTimeout(r, 5));

describe("concurrent savepoints", () => {
  test("two savepoint callbacks started together run one after the other: the failing one loses only its own rows", async () => {
    const results = await db.transaction(async (tx) =>
      Promise.allSettled([
        tx.transaction(async (a) => {
          await a.execute("INSERT INTO t VALUES ('a1')");
          await tick();
          await a.execute("INSERT INTO t VALUES ('a2')");
          return "a";
        }),
        tx.transaction(async (b) => {
          await b.execute("INSERT INTO t VALUES ('b1')");
          await tick();
          throw new Error("b fails");
        }),
      ]),
    );
    assert.equal(results[0].status, "fulfilled");
    assert.equal(results[1].status, "rejected");
    assert.deepEqual(await stored(), ["a1", "a2"]);
  });

  test("the same with the failing one first, and through db.transaction() inside a callback (ambient)", async () => {
    const results = await db.transaction(async () =>
      Promise.allSettled([
        db.transaction(async () => {
          await db.execute("INSERT INTO t VALUES ('x1')");
          await tick();
          throw new Error("x fails");
        }),
        db.transaction(async () => {
          await db.execute("INSERT INTO t VALUES ('y1')");
          await tick();
          await db.execute("INSERT INTO t VALUES ('y2')");
        }),
      ]),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "fulfilled"],
    );
    assert.deepEqual(await stored(), ["y1", "y2"]);
  });

  test("a parent statement issued while a savepoint callback runs waits for it, so the savepoint's rollback cannot undo it", async () => {
    await db.transaction(async (tx) => {
      const child = tx
        .transaction(async (sp) => {
          await sp.execute("INSERT INTO t VALUES ('child')");
          await tick();
          throw new Error("child fails");
        })
        .catch(() => "rolled back");
      const parent = tx.execute("INSERT INTO t VALUES ('parent')");
      const ambient = db.execute("INSERT INTO t VALUES ('ambient')");
      assert.equal(await child, "rolled back");
      await parent;
      await ambient;
    });
    assert.deepEqual(await stored(), ["ambient", "parent"]);
  });

  test("using the outer transaction from inside its savepoint's callback is refused (it could only deadlock or lie)", async () => {
    await db.transaction(async (tx) => {
      await tx.transaction(async (sp) => {
        await sp.execute("INSERT INTO t VALUES ('inner')");
        await assert.rejects(tx.execute("INSERT INTO t VALUES ('outer')"), /from inside its savepoint's callback/);
        await assert.rejects(tx.transaction(async () => undefined), /from inside its savepoint's callback/);
      });
    });
    assert.deepEqual(await stored(), ["inner"]);
  });

  test("with a savepoint open without a callback, the parent refuses statements and savepoints until it ends", async () => {
    await db.transaction(async (tx) => {
      const sp = await tx.transaction();
      await sp.execute("INSERT INTO t VALUES ('sp')");
      await assert.rejects(tx.execute("INSERT INTO t VALUES ('parent')"), /still open beneath this one/);
      await assert.rejects(tx.transaction(), /still open beneath this one/);
      await sp.rollback();
      await tx.execute("INSERT INTO t VALUES ('after')");
    });
    assert.deepEqual(await stored(), ["after"]);
  });

  test("savepoint names are unique on a connection: successive and nested savepoints roll back exactly their own work", async () => {
    await db.transaction(async (tx) => {
      for (let i = 0; i < 3; i++) {
        await tx.transaction(async (sp) => {
          await sp.execute("INSERT INTO t VALUES ($1)", [`keep${i}`]);
          await sp
            .transaction(async (inner) => {
              await inner.execute("INSERT INTO t VALUES ($1)", [`drop${i}`]);
              throw new Error("inner fails");
            })
            .catch(() => undefined);
        });
      }
    });
    assert.deepEqual(await stored(), ["keep0", "keep1", "keep2"]);
  });

  test("a transaction ended while a savepoint callback still runs (missing await) rolls everything back and says so", async () => {
    let late: Promise<unknown> | undefined;
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute("INSERT INTO t VALUES ('outer')");
        late = tx.transaction(async (sp) => {
          await tick();
          await sp.execute("INSERT INTO t VALUES ('late')");
        });
        late.catch(() => undefined);
      }),
      /still running \(a missing await\?\)/,
    );
    await assert.rejects(late!, /already ended/);
    assert.deepEqual(await stored(), []);
  });

  test("inside an ended transaction's callback context, db.execute is refused rather than autocommitted", async () => {
    let later: Promise<unknown> | undefined;
    await db.transaction(async () => {
      later = new Promise((resolve) => setTimeout(resolve, 20)).then(() => db.execute("INSERT INTO t VALUES ('late')"));
      later.catch(() => undefined);
    });
    await assert.rejects(later!, /already finished/);
    assert.deepEqual(await stored(), []);
    await db.execute("INSERT INTO t VALUES ('outside')", null, { autocommit: true });
  });
});

describe("a commit that did not happen is never reported", () => {
  test("db.transaction: a failed statement caught by the callback makes the transaction raise InFailedSqlTransaction", async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute("INSERT INTO t VALUES ('before')");
        await tx.execute("SELECT 1/0").catch(() => undefined);
        return "looks fine";
      }),
      (e: unknown) => {
        assert.ok(e instanceof InFailedSqlTransaction);
        assert.ok(e instanceof DatabaseError);
        assert.equal(e.code, "25P02");
        assert.match(e.message, /rolled back because a statement in it failed/);
        return true;
      },
    );
    assert.deepEqual(await stored(), []);
    assert.equal(await db.fetchVal("SELECT 1"), 1, "the handle is fine afterwards");
  });

  test("tx.commit() and conn.commit() raise too; the connection is usable afterwards", async () => {
    const tx = await db.transaction();
    await tx.execute("INSERT INTO t VALUES ('tx')");
    await tx.execute("SELECT * FROM no_such_table").catch(() => undefined);
    await assert.rejects(tx.commit(), InFailedSqlTransaction);
    assert.equal(tx.finished, true);

    await using conn = await db.connect();
    await conn.execute("INSERT INTO t VALUES ('conn')");
    await conn.execute("SELECT 1/0").catch(() => undefined);
    await assert.rejects(conn.commit(), InFailedSqlTransaction);
    await conn.execute("INSERT INTO t VALUES ('conn2')");
    await conn.commit();
    assert.deepEqual(await stored(), ["conn2"]);
  });

  test("a failed savepoint is rolled back on commit, and its parent goes on", async () => {
    await db.transaction(async (tx) => {
      await tx.execute("INSERT INTO t VALUES ('parent')");
      await assert.rejects(
        tx.transaction(async (sp) => {
          await sp.execute("INSERT INTO t VALUES ('sp')");
          await sp.execute("SELECT 1/0").catch(() => undefined);
        }),
        InFailedSqlTransaction,
      );
      await tx.execute("INSERT INTO t VALUES ('parent2')");
    });
    assert.deepEqual(await stored(), ["parent", "parent2"]);
  });

  test("COMMIT/ROLLBACK/BEGIN written as SQL are refused inside a transaction object", async () => {
    await db.transaction(async (tx) => {
      await tx.execute("INSERT INTO t VALUES ('kept')");
      await assert.rejects(tx.execute("COMMIT"), /refused inside a transaction object/);
      await assert.rejects(db.execute("ROLLBACK"), /refused inside a transaction object/);
      await assert.rejects(tx.execute("BEGIN"), /refused/);
      // a savepoint of the user's own is fine
      await tx.execute("SAVEPOINT mine; INSERT INTO t VALUES ('undone'); ROLLBACK TO SAVEPOINT mine");
    });
    assert.deepEqual(await stored(), ["kept"]);
  });
});

describe("db.connect() keeps its implicit transaction", () => {
  test("after COMMIT written as SQL, the next statement begins a new transaction that rollback() undoes", async () => {
    {
      await using conn = await db.connect();
      await conn.execute("INSERT INTO t VALUES ('1')");
      await conn.execute("COMMIT");
      await conn.execute("INSERT INTO t VALUES ('2')");
      await conn.rollback();
      await conn.execute("INSERT INTO t VALUES ('3')");
      await conn.execute("ROLLBACK");
      await conn.execute("INSERT INTO t VALUES ('4')");
    } // close() rolls back '4'
    assert.deepEqual(await stored(), ["1"]);
  });

  test("concurrent first statements send one BEGIN and run in the same transaction", async () => {
    await db.connect(async (conn) => {
      const xids = await Promise.all([1, 2, 3].map(() => conn.fetchVal<bigint>("SELECT txid_current()")));
      assert.equal(new Set(xids).size, 1);
      await conn.rollback();
    });
  });
});

describe("the synchronous facade refuses async callbacks completely", () => {
  test("nothing an async callback does commits, and a caught refusal does not crash the process", () => {
    // A child process: an unhandled rejection there would exit it with code 1.
    const script = `
      import { Database } from "./src/index.ts";
      const db = new Database(process.env.URL);
      const out = [];
      try {
        db.transaction(async (tx) => {
          db.execute("INSERT INTO t VALUES ('sync-before-await')");
          await null;
          db.execute("INSERT INTO t VALUES ('db-after-await')");
        });
      } catch (e) { out.push(e.message); }
      const plain = (tx) => Promise.resolve().then(() => { tx.execute("INSERT INTO t VALUES ('tx-later')"); });
      try { db.transaction(plain); } catch (e) { out.push(e.message); }
      const plainDb = () => Promise.resolve().then(() => db.execute("INSERT INTO t VALUES ('db-later')"));
      try { db.transaction(plainDb); } catch (e) { out.push(e.message); }
      setTimeout(() => {
        out.push(JSON.stringify(db.execute("SELECT v FROM t ORDER BY v")));
        console.log(JSON.stringify(out));
        db.close();
      }, 100);
    `;
    const url = ctx.config.with({}).url;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: new URL("..", import.meta.url).pathname,
      env: { ...process.env, URL: url },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as string[];
    assert.equal(out.length, 4);
    for (const m of out.slice(0, 3)) assert.match(m, /must not be async/);
    assert.deepEqual(JSON.parse(out[3]!), []);
  });

  test("the refusal is a TscopgError in-process too, and the handle goes on working", () => {
    const sdb = new Database(ctx.config);
    try {
      assert.throws(() => sdb.transaction((async () => undefined) as never), TscopgError);
      assert.equal(sdb.fetchVal("SELECT 5"), 5);
      assert.equal(sdb.transaction((tx) => tx.fetchVal("SELECT 6")), 6);
    } finally {
      sdb.close();
    }
  });
});
