/**
 * What errors tell the caller: the wrong number of `$n` values is a ParameterError (never a lost connection),
 * a statement's error points at the caller's code and carries the statement, sync objects name themselves.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AsyncDatabase, ConnectionError, Database, DatabaseError, ParameterError, TableNotFound, prepareQuery } from "../src/index.js";
import { toTscopgError } from "../src/errors.js";
import type { TestSchema } from "./support/db.js";
import { bothHandles } from "./support/handles.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

bothHandles("errors", (h) => ({ ctx, adb, db } = h));

describe("positional parameter count", () => {
  test("too few or too many $n values is a ParameterError before anything is sent, sync and async", async () => {
    const pid = await adb.fetchVal<number>("SELECT pg_backend_pid()");
    for (const [sql, params] of [
      ["SELECT $1::int + $2::int", [1]],
      ["SELECT $1::int", [1, 2]],
      ["SELECT 1", [1]],
      ["SELECT $2::int", [1]],
    ] as const) {
      await assert.rejects(adb.execute(sql, params), (e: unknown) => e instanceof ParameterError && !(e instanceof ConnectionError));
      assert.throws(() => db.execute(sql, params), ParameterError);
    }
    // The shared connection was never touched, let alone replaced.
    assert.equal(await adb.fetchVal<number>("SELECT pg_backend_pid()"), pid);
    assert.equal(await adb.fetchVal("SELECT $1::int + $2::int", [40, 2]), 42);
  });

  test("$n inside strings, quoted identifiers, comments and dollar quotes does not count", async () => {
    const sql = `SELECT $1::text AS a, '$2' AS "$3", $$ $4 $$ AS b /* $5 */ -- $6`;
    assert.deepEqual(await adb.execute(sql, ["x"]), [{ a: "x", $3: "$2", b: " $4 " }]);
    assert.equal(prepareQuery("SELECT $10", Array(10).fill(1)).values?.length, 10);
    assert.throws(() => prepareQuery("SELECT $10", [1]), /uses 10 positional parameters/);
  });

  test("a statement-level protocol error (08P01 with severity ERROR) is a DatabaseError, not a lost connection", () => {
    const stmt = toTscopgError({ code: "08P01", severity: "ERROR", message: "bind message supplies 2 parameters" });
    assert.ok(stmt instanceof DatabaseError && stmt.code === "08P01");
    assert.ok(!(stmt instanceof ConnectionError));
    const fatal = toTscopgError({ code: "08P01", severity: "FATAL", message: "invalid frontend message type" });
    assert.ok(fatal instanceof ConnectionError);
  });

  test("the server's own 08P01 for one statement leaves the connection in use", async () => {
    // A Bind with too many values, bypassing our check: the server refuses the statement, the session goes on.
    await using conn = await adb.connect({ autocommit: true });
    const session = conn._session;
    const pid = await conn.fetchVal<number>("SELECT pg_backend_pid()");
    await assert.rejects(session.query("SELECT 1", ["extra"]), (e: unknown) => e instanceof DatabaseError && e.code === "08P01" && !(e instanceof ConnectionError));
    assert.equal(session.broken, false);
    assert.equal(await conn.fetchVal<number>("SELECT pg_backend_pid()"), pid);
  });
});

describe("user mistakes are ParameterErrors raised before anything is sent", () => {
  /** Runs `sql` with `params` on both sides; each must be a ParameterError (never a server or connection error). */
  async function bothRefuse(sql: unknown, params: unknown, pattern: RegExp): Promise<void> {
    const ea = await adb.execute(sql as string, params as never).then(() => assert.fail("async: expected an error"), (e: unknown) => e);
    assert.ok(ea instanceof ParameterError, `async: ${String(ea)}`);
    assert.match(ea.message, pattern);
    assert.throws(
      () => db.execute(sql as string, params as never),
      (e: unknown) => e instanceof ParameterError && e.message === ea.message,
    );
  }

  test("a NUL character in the SQL text, with or without parameters, keeps the shared connection", async () => {
    const pid = await adb.fetchVal<number>("SELECT pg_backend_pid()");
    const syncPid = db.fetchVal<number>("SELECT pg_backend_pid()");
    await bothRefuse("SELECT 1\0", undefined, /NUL character/);
    await bothRefuse("SELECT $1::int\0", [1], /NUL character/);
    await bothRefuse("SELECT :a::int -- \0", { a: 1 }, /NUL character/);
    await assert.rejects(adb.executeMany("SELECT $1::int\0", [[1], [2]]), ParameterError);
    assert.throws(() => db.executeMany("SELECT $1::int\0", [[1], [2]]), ParameterError);
    assert.equal(await adb.fetchVal<number>("SELECT pg_backend_pid()"), pid);
    assert.equal(db.fetchVal<number>("SELECT pg_backend_pid()"), syncPid);
  });

  test("more than 65,535 parameters (the protocol's limit) keeps the shared connection", async () => {
    const pid = await adb.fetchVal<number>("SELECT pg_backend_pid()");
    const syncPid = db.fetchVal<number>("SELECT pg_backend_pid()");
    const placeholders = (n: number) => Array.from({ length: n }, (_, i) => `$${i + 1}::int`).join(",");
    const n = 70_000; // the driver writes the count in 16 bits: 70,000 arrives as 4,464
    await bothRefuse(`SELECT array_length(ARRAY[${placeholders(n)}], 1)`, Array(n).fill(1), /at most 65535/);
    const named = Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));
    const namedSql = `SELECT array_length(ARRAY[${Object.keys(named).map((k) => `:${k}::int`).join(",")}], 1)`;
    await bothRefuse(namedSql, named, /at most 65535/);
    assert.equal(await adb.fetchVal<number>("SELECT pg_backend_pid()"), pid);
    assert.equal(db.fetchVal<number>("SELECT pg_backend_pid()"), syncPid);
    // The limit itself is fine.
    const max = 65_535;
    assert.equal(await adb.fetchVal(`SELECT array_length(ARRAY[${placeholders(max)}], 1)`, Array(max).fill(1)), max);
  });

  test("SQL that is not a string is a ParameterError before any connection is touched", async () => {
    // A handle whose server does not exist: reaching for a connection would be a ConnectionError.
    const config = ctx.config.with({ host: "127.0.0.1", port: 1, connectTimeout: 1 });
    const nowhere = new AsyncDatabase(config);
    const nowhereSync = new Database(config);
    try {
      for (const [sql, what] of [[42, "number"], [null, "null"], [undefined, "undefined"], [{ text: "SELECT 1" }, "object"]] as const) {
        const message = `SQL text must be a string, got ${what}`;
        for (const params of [undefined, [1], { a: 1 }]) {
          await assert.rejects(nowhere.execute(sql as never, params), (e: unknown) => e instanceof ParameterError && e.message === message);
          assert.throws(() => nowhereSync.execute(sql as never, params), (e: unknown) => e instanceof ParameterError && e.message === message);
        }
        await assert.rejects(nowhere.executeMany(sql as never, []), (e: unknown) => e instanceof ParameterError && e.message === message);
        assert.throws(() => nowhereSync.executeMany(sql as never, [[1]]), (e: unknown) => e instanceof ParameterError && e.message === message);
      }
    } finally {
      nowhereSync.close();
      await nowhere.close();
    }
  });
});

describe("after an error on the shared connection", () => {
  test("the next statement never runs inside the failed transaction a parameterless script left open", async () => {
    // The server sends ErrorResponse and ReadyForQuery in two writes; when they arrive in two reads, a statement
    // sent in reaction to the error used to get in before the repairing ROLLBACK (25P02, about 1 % of tries).
    const failures: string[] = [];
    for (let i = 0; i < 500; i++) {
      await adb.execute("BEGIN; SELECT 1/0").catch(() => {});
      await adb.fetchVal<number>("SELECT $1::int", [i]).then(
        (v) => v === i || failures.push(`got ${v}`),
        (e: unknown) => failures.push(String(e)),
      );
    }
    assert.deepEqual(failures, []);
  });
});

describe("where an error comes from", () => {
  async function callerOfExecute(): Promise<void> {
    await adb.execute("SELECT * FROM no_such_table_errtest WHERE id = $1", [7]);
  }

  test("an async statement error shows the caller's frame and carries the statement text (not the values)", async () => {
    const err = await callerOfExecute().then(
      () => assert.fail("should have failed"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TableNotFound);
    assert.match(err.stack ?? "", /at async callerOfExecute \(.*errors\.test\.ts:\d+:\d+\)/);
    assert.equal(err.query, "SELECT * FROM no_such_table_errtest WHERE id = $1");
    assert.doesNotMatch(JSON.stringify(err), /"7"|\b7\b/);
  });

  test("parameter errors and executeMany errors are located the same way; sync errors carry the statement too", async () => {
    async function badParams(): Promise<void> {
      await adb.fetchOne("SELECT :a::int", {});
    }
    const e1 = await badParams().catch((e: unknown) => e);
    assert.ok(e1 instanceof ParameterError);
    assert.match(e1.stack ?? "", /at async badParams/);
    assert.equal(e1.query, "SELECT :a::int");
    async function badMany(): Promise<void> {
      await adb.executeMany("INSERT INTO no_such_table_errtest VALUES ($1)", [[1], [2]]);
    }
    const e2 = await badMany().catch((e: unknown) => e);
    assert.ok(e2 instanceof TableNotFound);
    assert.match(e2.stack ?? "", /at async badMany/);
    assert.throws(
      () => db.execute("SELECT * FROM no_such_table_errtest"),
      (e: unknown) => e instanceof TableNotFound && e.query === "SELECT * FROM no_such_table_errtest" && /errors\.test\.ts/.test(e.stack ?? ""),
    );
  });
});

describe("sync objects name themselves", () => {
  test("String(), inspect and constructor.name say Database/Connection/Transaction/Cursor, however obtained", async () => {
    const { inspect } = await import("node:util");
    const fromUrl = Database.fromUrl(ctx.config.url);
    try {
      for (const d of [db, fromUrl]) {
        assert.equal(d.constructor.name, "Database");
        assert.match(String(d), /^Database\("/);
        assert.equal(inspect(d), String(d));
      }
      using conn = db.connect();
      assert.equal(conn.constructor.name, "Connection");
      assert.match(String(conn), /^Connection\(/);
      using tx = db.transaction();
      assert.equal(tx.constructor.name, "Transaction");
      assert.match(String(tx), /^Transaction\(depth=0/);
      using cur = db.cursor();
      assert.equal(cur.constructor.name, "Cursor");
      assert.match(String(cur), /^Cursor\(rowCount=-1\)/);
    } finally {
      fromUrl.close();
    }
  });
});
