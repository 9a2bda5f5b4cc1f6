/**
 * Databases (`db.schema`): createDatabase, dropDatabase, databaseExists, listDatabases. Statement building without
 * a server, then every method against the real server, async and sync, read back from `pg_database` and from
 * behaviour (a session connected to a database keeps it from being dropped unless `force`).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import {
  AsyncDatabase,
  Config,
  Database,
  DatabaseExists,
  DuplicateDatabase,
  InvalidCatalogName,
  InvalidIdentifier,
  ObjectInUse,
  ParameterError,
  UndefinedObject,
} from "../src/index.js";
import { createDatabaseStatement, dropDatabaseStatement, checkEncoding } from "../src/sql/database-ddl.js";
import { createTestSchema, rawQuery, serverUrl, type TestSchema } from "./support/db.js";
import { casesByName, errorOf, refusedBeforeSending, sameErrorOn, sameOn } from "./support/both-sides.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
/** Databases and roles this file creates (cluster-wide), dropped in `after`. */
const databases: string[] = [];
const roles: string[] = [];

/** A fresh database name, remembered for cleanup (mixed case on purpose). */
function dbName(label: string): string {
  const name = `tscopg_Db_${label}_${randomBytes(3).toString("hex")}`;
  databases.push(name);
  return name;
}

async function row(name: string): Promise<{ owner: string; encoding: string; template: boolean } | undefined> {
  const rows = await rawQuery<{ owner: string; encoding: string; template: boolean }>(
    "SELECT datdba::regrole::text AS owner, pg_encoding_to_char(encoding) AS encoding, datistemplate AS template FROM pg_database WHERE datname = $1",
    [name],
  );
  return rows[0];
}

before(async () => {
  ctx = await createTestSchema("databases");
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
});

after(async () => {
  db?.close();
  await adb?.close();
  for (const name of databases) {
    await rawQuery(`UPDATE pg_database SET datistemplate = false WHERE datname = $1`, [name]);
    await rawQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
  for (const role of roles) await rawQuery(`DROP ROLE IF EXISTS "${role}"`);
  await ctx?.drop();
});

describe("database statements (no server)", () => {
  test("CREATE DATABASE: quoted names, template default, encoding as a literal", () => {
    assert.equal(createDatabaseStatement("app").text, 'CREATE DATABASE "app" TEMPLATE "template1"');
    assert.equal(
      createDatabaseStatement("Order", { owner: "user", template: "template0", encoding: "UTF8" }).text,
      'CREATE DATABASE "Order" OWNER "user" TEMPLATE "template0" ENCODING \'UTF8\'',
    );
    assert.equal(createDatabaseStatement("a", { owner: null, encoding: null }).text, 'CREATE DATABASE "a" TEMPLATE "template1"');
  });

  test("DROP DATABASE: IF EXISTS and WITH (FORCE) only when asked", () => {
    assert.equal(dropDatabaseStatement("app").text, 'DROP DATABASE "app"');
    assert.equal(dropDatabaseStatement("app", { ifExists: true, force: true }).text, 'DROP DATABASE IF EXISTS "app" WITH (FORCE)');
  });

  test("names are validated, encodings checked against a strict format", () => {
    assert.throws(() => createDatabaseStatement("a; DROP DATABASE b"), InvalidIdentifier);
    assert.throws(() => createDatabaseStatement("a", { owner: 'x"y' }), InvalidIdentifier);
    assert.throws(() => createDatabaseStatement("a", { template: "t".repeat(64) }), InvalidIdentifier);
    assert.throws(() => dropDatabaseStatement("a.b"), InvalidIdentifier);
    for (const ok of ["UTF8", "utf-8", "EUC_JP", "ISO-8859-1", "WIN1252", "SQL_ASCII"]) assert.equal(checkEncoding(ok), ok);
    for (const bad of ["UTF8'; DROP DATABASE x; --", "", "-utf8", "utf--8", "1abc", "utf 8", "x".repeat(33), "ütf8", "utf8\n"]) {
      assert.throws(() => createDatabaseStatement("a", { encoding: bad }), ParameterError, JSON.stringify(bad));
    }
    assert.throws(() => checkEncoding(8), ParameterError);
  });
});

describe("databases on the server", () => {
  test("createDatabase: created with its owner and template; databaseExists and listDatabases see it", async () => {
    const role = `tscopg_owner_${randomBytes(3).toString("hex")}`;
    roles.push(role);
    await rawQuery(`CREATE ROLE "${role}"`);
    const a = dbName("a");
    const s = dbName("s");
    await adb.createDatabase(a, { owner: role });
    db.createDatabase(s);
    assert.deepEqual(await row(a), { owner: role, encoding: "UTF8", template: false });
    const [{ me }] = await rawQuery<{ me: string }>("SELECT current_user AS me");
    assert.equal((await row(s))?.owner, me);
    for (const name of [a, s]) {
      assert.equal(await sameOn(adb, db, (x) => x.databaseExists(name)), true);
      assert.equal(await adb.schema.databaseExists(name), true);
      assert.equal(db.schema.databaseExists(name), true);
    }
    assert.equal(await sameOn(adb, db, (x) => x.databaseExists(`${a}_missing`)), false);
    assert.equal(await sameOn(adb, db, (x) => x.databaseExists("template1")), true); // templates exist, they are just not listed
    const listed = (await sameOn(adb, db, (x) => x.listDatabases())) as string[];
    assert.ok(listed.includes(a) && listed.includes(s) && listed.includes("postgres"));
    assert.ok(!listed.includes("template0") && !listed.includes("template1"));
    assert.deepEqual(listed, [...listed].sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1)), "sorted by name (C order)");
    // The new database is usable: a handle on it answers.
    await using other = new AsyncDatabase(Config.fromUrl(serverUrl()).withDatabase(a));
    assert.equal(await other.fetchVal("SELECT current_database()"), a);
  });

  test("createDatabase: encoding by the server's canonical name; an unknown one is refused before CREATE", async () => {
    const name = dbName("enc");
    await adb.createDatabase(name, { encoding: "sql-ascii", template: "template0" }); // server alias → SQL_ASCII
    assert.equal((await row(name))?.encoding, "SQL_ASCII");
    const utf = dbName("utf");
    db.createDatabase(utf, { encoding: "utf-8", template: "template0" });
    assert.equal((await row(utf))?.encoding, "UTF8");
    const never = dbName("never");
    await sameErrorOn(adb, db, (x) => x.createDatabase(never, { encoding: "KLINGON" }), ParameterError, /unknown encoding "KLINGON"/);
    await sameErrorOn(adb, db, (x) => x.createDatabase(never, { encoding: "UTF8' TEMPLATE template0 --" }), ParameterError, /invalid encoding/);
    assert.equal(await row(never), undefined);
  });

  test("createDatabase: an existing one is DuplicateDatabase, or nothing with ifNotExists; server errors pass through", async () => {
    const name = dbName("dup");
    await adb.createDatabase(name);
    await sameErrorOn(adb, db, (x) => x.createDatabase(name), DuplicateDatabase, /already exists/);
    await adb.createDatabase(name, { ifNotExists: true });
    db.createDatabase(name, { ifNotExists: true });
    const never = dbName("never2");
    await sameErrorOn(adb, db, (x) => x.createDatabase(never, { owner: "tscopg_no_such_role" }), UndefinedObject, /role .* does not exist/);
    await sameErrorOn(adb, db, (x) => x.createDatabase(never, { template: "tscopg_no_such_db" }), InvalidCatalogName, /template database .* does not exist/);
    assert.equal(await row(never), undefined);
  });

  test("AsyncDatabase.create builds its statement with the same builder (owner, template) and keeps DatabaseExists", async () => {
    const name = dbName("static");
    const created = await AsyncDatabase.create(name, { config: Config.fromUrl(serverUrl()), template: "template0" });
    await created.close();
    assert.equal((await row(name))?.encoding, "UTF8");
    await assert.rejects(AsyncDatabase.create(name, { config: Config.fromUrl(serverUrl()), ifNotExists: false }), DatabaseExists);
    await assert.rejects(AsyncDatabase.create(name, { config: Config.fromUrl(serverUrl()), owner: "x; --" }), InvalidIdentifier);
  });

  test("create and drop run on a session of their own: a rollback of the surrounding transaction does not undo them", async () => {
    const a = dbName("txa");
    const s = dbName("txs");
    await adb.transaction(async (tx) => {
      await tx.schema.createDatabase(a);
      await tx.execute("CREATE TABLE in_tx (id int)");
      assert.equal(await tx.databaseExists(a), true); // committed already: seen from inside
      await tx.rollback();
    });
    assert.equal((await rawQuery("SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'in_tx'", [ctx.schema])).length, 0);
    assert.ok(await row(a));
    assert.throws(() =>
      db.transaction((tx) => {
        tx.createDatabase(s);
        throw new Error("roll back");
      }),
    /roll back/);
    assert.ok(await row(s));
    await adb.transaction(async (tx) => {
      await tx.dropDatabase(a);
      await tx.rollback();
    });
    assert.equal(await row(a), undefined);
  });

  test("dropDatabase: never kills other sessions unasked; force does; ifExists by default", async () => {
    const name = dbName("drop");
    await adb.createDatabase(name);
    const client = new pg.Client({ connectionString: urlFor(name) });
    await client.connect();
    let clientError: Error | undefined;
    client.on("error", (err) => (clientError = err));
    try {
      // The server waits 5 s for the other session to leave before it refuses: once (async) is enough here; the
      // sync side's ObjectInUse is compared below on the currently open database.
      const err = await errorOf(() => adb.dropDatabase(name));
      assert.ok(err instanceof ObjectInUse && /is being accessed by other users/.test(err.message), String(err));
      assert.ok(await row(name), "still there");
      assert.equal((await client.query("SELECT 1 AS one")).rows[0].one, 1, "the other session is alive");
      db.dropDatabase(name, { force: true });
      assert.equal(await row(name), undefined);
      await assert.rejects(client.query("SELECT 1"));
      assert.ok(clientError === undefined || /terminat/i.test(clientError.message));
    } finally {
      await client.end().catch(() => undefined);
    }
    await adb.dropDatabase(name); // ifExists by default: nothing to do
    db.dropDatabase(name);
    await sameErrorOn(adb, db, (x) => x.dropDatabase(name, { ifExists: false }), InvalidCatalogName, /does not exist/);
    const [{ current }] = await rawQuery<{ current: string }>("SELECT current_database() AS current");
    await sameErrorOn(adb, db, (x) => x.dropDatabase(current!), ObjectInUse, /currently open database/);
  });

  test("refusals come before anything is sent: bad names, bad options", async () => {
    await refusedBeforeSending(
      ctx.config,
      casesByName([
        ["createDatabase", ["bad name"], InvalidIdentifier],
        ["createDatabase", ["ok", { owner: "a;b" }], InvalidIdentifier],
        ["createDatabase", ["ok", { template: "" }], InvalidIdentifier],
        ["createDatabase", ["ok", { encoding: "utf8;" }], ParameterError],
        ["createDatabase", ["ok", { encodng: "UTF8" }], ParameterError],
        ["createDatabase", ["ok", { ifNotExists: "yes" }], ParameterError],
        ["dropDatabase", ["a".repeat(64)], InvalidIdentifier],
        ["dropDatabase", ["ok", { force: 1 }], ParameterError],
        ["dropDatabase", ["ok", { cascade: true }], ParameterError],
        ["databaseExists", ['x"y'], InvalidIdentifier],
        ["databaseExists", [42], InvalidIdentifier],
      ]),
      (x) => x.databaseExists("ok"), // a valid call is sent
    );
  });
});

function urlFor(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}
