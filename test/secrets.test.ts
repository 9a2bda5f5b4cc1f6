/**
 * Passwords never show in messages, and scrubbing them never touches anything else: server fields and statement
 * errors come back exactly as the server sent them, whatever passwords other configurations hold, and a
 * configuration's password lives no longer than the configuration.
 */
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, test } from "node:test";
import { AsyncDatabase, Config, ConfigurationError, ConnectionError, Database, DatabaseError, TableNotFound } from "../src/index.js";
import { toTscopgError } from "../src/errors.js";
import type { TestSchema } from "./support/db.js";
import { bothHandles } from "./support/handles.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

bothHandles("secrets", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute("CREATE TABLE postgres_users (id int PRIMARY KEY)");
  await adb.execute("INSERT INTO postgres_users VALUES (1)");
});

describe("server fields and statement errors are never rewritten", () => {
  test("a common password elsewhere in the process leaves constraint names and messages intact", async () => {
    // Another configuration with a password that is also a common word. (The handles under test have their own.)
    const other = new Config({ host: "elsewhere", password: "postgres" });
    assert.equal(other.password, "postgres");
    const insert = "INSERT INTO postgres_users VALUES (1)";
    const dup = await adb.execute(insert).then(() => assert.fail("expected a duplicate key"), (e: unknown) => e);
    assert.ok(dup instanceof DatabaseError && dup.code === "23505");
    assert.equal(dup.constraint, "postgres_users_pkey");
    assert.equal(dup.table, "postgres_users");
    assert.equal(dup.message, 'duplicate key value violates unique constraint "postgres_users_pkey"');
    assert.equal(dup.query, insert);
    assert.throws(() => db.execute(insert), (e: unknown) => e instanceof DatabaseError && e.constraint === "postgres_users_pkey" && e.message === dup.message);

    const missing = "SELECT * FROM postgres_missing";
    await assert.rejects(adb.execute(missing), (e: unknown) => e instanceof TableNotFound && e.message === 'relation "postgres_missing" does not exist' && e.query === missing);
    assert.throws(() => db.execute(missing), (e: unknown) => e instanceof TableNotFound && e.message === 'relation "postgres_missing" does not exist');
  });

  test("the statement text attached to an error is the caller's, verbatim", async () => {
    const secret = "s3cret-passw0rd-in-sql";
    const withSecret = new AsyncDatabase(ctx.config.with({ password: secret }));
    try {
      const sql = `SELECT * FROM no_such_table_secrets WHERE x = '${secret}'`;
      const e = await withSecret.execute(sql).catch((x: unknown) => x);
      assert.ok(e instanceof TableNotFound || e instanceof ConnectionError, String(e)); // ConnectionError: a server that checks passwords
      if (e instanceof TableNotFound) assert.equal(e.query, sql);
    } finally {
      await withSecret.close();
    }
  });

  test("a handle whose own password is a common word keeps server fields too (trust-auth server)", async (t) => {
    if (process.env.TSCOPG_TEST_SERVER === "embedded") return t.skip("the embedded server checks passwords");
    const withPassword = new AsyncDatabase(ctx.config.with({ password: "postgres" }));
    try {
      const e = await withPassword.execute("INSERT INTO postgres_users VALUES (1)").catch((x: unknown) => x);
      if (e instanceof ConnectionError) return t.skip("this server checks passwords");
      assert.ok(e instanceof DatabaseError);
      assert.equal(e.constraint, "postgres_users_pkey");
      assert.match(e.message, /"postgres_users_pkey"/);
    } finally {
      await withPassword.close();
    }
  });
});

describe("connection errors never show the password", () => {
  test("connecting to a closed port with a URL that has a password", async () => {
    const pw = "Cl0sed-P0rt-Secret";
    const url = `postgresql://someone:${pw}@127.0.0.1:1/db?connect_timeout=2`;
    const nowhere = AsyncDatabase.fromUrl(url, { connectAttempts: 1 });
    const nowhereSync = Database.fromUrl(url, { connectAttempts: 1 });
    try {
      const e = await nowhere.execute("SELECT 1").catch((x: unknown) => x);
      assert.ok(e instanceof ConnectionError, String(e));
      for (const text of [e.message, e.stack ?? "", JSON.stringify(e), String(e.cause)]) assert.ok(!text.includes(pw), text);
      let es: unknown;
      try {
        nowhereSync.execute("SELECT 1");
      } catch (x) {
        es = x;
      }
      assert.ok(es instanceof ConnectionError);
      for (const text of [es.message, es.stack ?? "", JSON.stringify(es)]) assert.ok(!text.includes(pw), text);
    } finally {
      nowhereSync.close();
      await nowhere.close();
    }
  });
});

describe("URL errors never show the password", () => {
  /** The ConfigurationError message of `Config.fromUrl(url)`. */
  function urlError(url: string): string {
    try {
      Config.fromUrl(url);
    } catch (e) {
      assert.ok(e instanceof ConfigurationError, String(e));
      return e.message;
    }
    return assert.fail(`${url} was accepted`);
  }

  test("whatever the shape of the URL", () => {
    const shapes: [url: string, password: string][] = [
      ["postgresql://u:12345678/db", "12345678"], // no host: the password lands in the port
      ["postgresql://u:12345678/db%ZZ", "12345678"],
      ["postgresql://h1,u:87654321/db", "87654321"],
      ["postgresql://u:123456@/db%ZZ", "123456"],
      ["postgresql://u:12345678@/db%ZZ", "12345678"],
      ["postgresql://u:pa:ss@h/db%ZZ", "pa:ss"],
      ["postgresql://u:pa:ss/db%ZZ", "pa:ss"],
      ["postgresql://u:@h/db%ZZ", "u:@"],
      ["postgresql://u:p%40ss%3Aw0rd@h/db%ZZ", "p%40ss%3Aw0rd"],
      ["postgresql://u:p%40ss%3Aw0rd/db%ZZ", "p%40ss%3Aw0rd"],
      ["postgresql://h/db?password=qwertyuiop&x", "qwertyuiop"],
      ["postgresql://h/db?sslpassword=Key-Passphrase&x", "Key-Passphrase"],
      ["postgresql://h/db?password=abcd&efghij", "efghij"], // an unencoded "&" in the password
      ["postgresql://h/db%ZZ?password=abcd#efghij", "efghij"], // an unencoded "#" in the password
      ["postgresql://[::1]:s3cr3t/db", "s3cr3t"],
    ];
    for (const [url, pw] of shapes) {
      const message = urlError(url);
      assert.ok(!message.includes(pw), `${url}: ${message}`);
      if (pw.includes("%")) assert.ok(!message.includes(decodeURIComponent(pw)), `${url}: ${message}`);
    }
    // A real port is still shown, to help find the mistake.
    assert.match(urlError("postgresql://h:5433/db%ZZ"), /h:5433\/db%ZZ/);
  });
});

describe("a configuration's password lives as long as the configuration", () => {
  test("100,000 configurations with distinct passwords leave error handling fast and nothing behind", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const serverError = {
      code: "23505",
      severity: "ERROR",
      message: 'duplicate key value violates unique constraint "postgres_users_pkey"',
      detail: "Key (id)=(1) already exists.",
      table: "postgres_users",
      constraint: "postgres_users_pkey",
    };
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100_000; i++) new Config({ password: `distinct-password-${i}-${Math.random()}` });
    gc();
    const retained = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(retained < 4 * 1024 * 1024, `${(retained / 1024 / 1024).toFixed(1)} MB retained after the configurations are gone`);
    const start = performance.now();
    for (let i = 0; i < 5; i++) toTscopgError(serverError);
    assert.throws(() => Config.fromUrl("postgresql://u:pw@h/db%ZZ"), ConfigurationError);
    const elapsed = (performance.now() - start) / 6;
    assert.ok(elapsed < 5, `an error costs ${elapsed.toFixed(1)} ms`);
  });
});
