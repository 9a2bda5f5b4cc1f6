/**
 * Extensions (`db.schema`): listExtensions, hasExtension, createExtension, dropExtension. Extensions are
 * database-wide, so this file works in a database of its own (created and dropped here), not in the shared one
 * other test files use. Effects are read back from `pg_extension` and from behaviour (the extension's functions
 * and types work, or no longer exist).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import {
  AsyncDatabase,
  Config,
  Database,
  DependentObjectsStillExist,
  DuplicateObject,
  ExtensionNotAvailable,
  InvalidIdentifier,
  InvalidSchemaName,
  ParameterError,
  UndefinedObject,
} from "../src/index.js";
import { closeNames, createExtensionStatement, dropExtensionStatement, notAvailable } from "../src/features/extensions.js";
import { rawQuery, serverUrl } from "./support/db.js";
import { casesByName, refusedBeforeSending, sameErrorOn, sameOn } from "./support/both-sides.js";

const dbname = `tscopg_ext_${randomBytes(4).toString("hex")}`;
let adb: AsyncDatabase;
let db: Database;

function urlFor(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Reads the extension database without the library. */
async function q<R extends Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: urlFor(dbname) });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as R[];
  } finally {
    await client.end();
  }
}

async function installed(): Promise<Record<string, string>> {
  const rows = await q<{ name: string; schema: string }>(
    "SELECT e.extname AS name, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace",
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.schema]));
}

before(async () => {
  await rawQuery(`CREATE DATABASE "${dbname}"`);
  const config = Config.fromUrl(urlFor(dbname));
  adb = new AsyncDatabase(config);
  db = new Database(config);
  await adb.execute('CREATE SCHEMA "Ext"');
});

after(async () => {
  db?.close();
  await adb?.close();
  await rawQuery(`DROP DATABASE IF EXISTS "${dbname}" WITH (FORCE)`);
});

describe("extension statements (no server)", () => {
  test("names may hold '-', and are quoted; options as clauses", () => {
    assert.equal(createExtensionStatement("uuid-ossp").text, 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"');
    assert.equal(
      createExtensionStatement("hstore", { schema: "Ext", ifNotExists: false, cascade: true }).text,
      'CREATE EXTENSION "hstore" SCHEMA "Ext" CASCADE',
    );
    assert.equal(dropExtensionStatement("uuid-ossp").text, 'DROP EXTENSION IF EXISTS "uuid-ossp"');
    assert.equal(dropExtensionStatement("hstore", { ifExists: false, cascade: true }).text, 'DROP EXTENSION "hstore" CASCADE');
    assert.throws(() => createExtensionStatement('pg"crypto'), InvalidIdentifier);
    assert.throws(() => createExtensionStatement("-x"), InvalidIdentifier);
    assert.throws(() => createExtensionStatement("hstore", { schema: "a-b" }), InvalidIdentifier); // schemas take no '-'
    assert.throws(() => dropExtensionStatement("a b"), InvalidIdentifier);
  });

  test("close names: small edits, case, '-' and '_', containment; closest first, at most 5", () => {
    const offered = ["pgcrypto", "uuid-ossp", "hstore", "pg_trgm", "postgres_fdw", "cube", "earthdistance", "citext"];
    assert.deepEqual(closeNames("pgcrypt", offered), ["pgcrypto"]);
    assert.deepEqual(closeNames("uuid_ossp", offered), ["uuid-ossp"]);
    assert.deepEqual(closeNames("HSTORE2", offered), ["hstore"]);
    assert.deepEqual(closeNames("trgm", offered), ["pg_trgm"]);
    assert.deepEqual(closeNames("postgis", offered), []);
    assert.equal(closeNames("a", ["b", "c", "d", "e", "f", "g", "h"]).length, 5);
    assert.match(notAvailable("pgcrypt", offered).message, /"pgcrypt" is not available.*close matches: pgcrypto$/);
    assert.match(notAvailable("postgis", offered).message, /nothing close among the 8 it offers$/);
  });
});

describe("extensions on the server", () => {
  test("createExtension installs it (name with '-'), hasExtension and listExtensions see it, it works", async () => {
    assert.equal(await sameOn(adb, db, (x) => x.hasExtension("uuid-ossp")), false);
    await adb.createExtension("uuid-ossp");
    assert.equal((await installed())["uuid-ossp"], "public");
    assert.equal(await sameOn(adb, db, (x) => x.hasExtension("uuid-ossp")), true);
    assert.match(String(await adb.fetchVal("SELECT uuid_generate_v4()::text")), /^[0-9a-f-]{36}$/);
    db.createExtension("pgcrypto");
    assert.equal(await adb.schema.hasExtension("pgcrypto"), true);
    assert.equal(await adb.fetchVal("SELECT length(gen_random_bytes(8))"), 8);
    const list = (await sameOn(adb, db, (x) => x.listExtensions())) as { name: string; version: string; schema: string }[];
    const raw = await q<{ name: string; version: string; schema: string }>(
      "SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1",
    );
    assert.deepEqual(list, raw);
    assert.ok(list.some((e) => e.name === "plpgsql" && e.schema === "pg_catalog"));
    assert.ok(list.some((e) => e.name === "uuid-ossp" && /^\d+\.\d+$/.test(e.version)));
  });

  test("createExtension: schema option, ifNotExists by default, DuplicateObject without it", async () => {
    await adb.createExtension("hstore", { schema: "Ext" });
    assert.equal((await installed()).hstore, "Ext");
    assert.equal(await adb.fetchVal(`SELECT ('a=>1'::"Ext".hstore) OPERATOR("Ext".->) 'a'`), "1");
    await adb.createExtension("hstore"); // installed: nothing to do
    db.createExtension("hstore", { schema: "Ext" });
    await sameErrorOn(adb, db, (x) => x.createExtension("hstore", { ifNotExists: false }), DuplicateObject, /already exists/);
    await sameErrorOn(adb, db, (x) => x.createExtension("citext", { schema: "no_such_schema" }), InvalidSchemaName, /does not exist/);
    assert.equal((await installed()).citext, undefined);
  });

  test("createExtension: a required extension needs cascade", async () => {
    await sameErrorOn(adb, db, (x) => x.createExtension("earthdistance"), UndefinedObject, /required extension "cube" is not installed/);
    assert.equal((await installed()).earthdistance, undefined);
    db.createExtension("earthdistance", { cascade: true });
    const now = await installed();
    assert.ok(now.earthdistance && now.cube);
  });

  test("an extension the server lacks: ExtensionNotAvailable naming it and what is close; nothing created", async () => {
    const before = await installed();
    const err = await sameErrorOn(adb, db, (x) => x.createExtension("pgcrypt0"), ExtensionNotAvailable, /^extension "pgcrypt0" is not available on this server/);
    assert.match(err.message, /close matches: pgcrypto/);
    const far = await sameErrorOn(adb, db, (x) => x.createExtension("tscopg_no_such_extension"), ExtensionNotAvailable, /"tscopg_no_such_extension" is not available/);
    assert.match(far.message, /nothing close among the \d+ it offers/);
    await sameErrorOn(adb, db, (x) => x.createExtension("uuid_ossp"), ExtensionNotAvailable, /"uuid_ossp".*close matches: uuid-ossp/);
    assert.deepEqual(await installed(), before);
  });

  test("dropExtension: ifExists by default; dependents need cascade; UndefinedObject without ifExists", async () => {
    await adb.createExtension("hstore", { schema: "Ext" });
    await adb.execute('CREATE TABLE kv (id int, "Attrs" "Ext".hstore)');
    await sameErrorOn(adb, db, (x) => x.dropExtension("hstore"), DependentObjectsStillExist, /depend/);
    assert.ok((await installed()).hstore);
    await adb.dropExtension("hstore", { cascade: true });
    assert.equal((await installed()).hstore, undefined);
    assert.deepEqual((await q("SELECT attname FROM pg_attribute WHERE attrelid = 'kv'::regclass AND attnum > 0 AND NOT attisdropped")).map((r) => r.attname), ["id"]);
    await adb.dropExtension("hstore");
    db.dropExtension("hstore");
    await sameErrorOn(adb, db, (x) => x.dropExtension("hstore", { ifExists: false }), UndefinedObject, /does not exist/);
    db.dropExtension("pgcrypto");
    assert.equal(await adb.hasExtension("pgcrypto"), false);
  });

  test("in a transaction they join it: a rollback undoes create and drop", async () => {
    await adb.transaction(async (tx) => {
      await tx.schema.createExtension("citext");
      assert.equal(await tx.hasExtension("citext"), true);
      await tx.rollback();
    });
    assert.equal((await installed()).citext, undefined);
    assert.throws(() =>
      db.transaction((tx) => {
        tx.dropExtension("uuid-ossp");
        assert.equal(tx.schema.hasExtension("uuid-ossp"), false);
        throw new Error("roll back");
      }),
    /roll back/);
    assert.equal((await installed())["uuid-ossp"], "public");
  });

  test("refusals come before anything is sent: bad names, bad options", async () => {
    await refusedBeforeSending(
      Config.fromUrl(urlFor(dbname)),
      casesByName([
        ["createExtension", ["uuid ossp"], InvalidIdentifier],
        ["createExtension", ['x"; DROP SCHEMA public; --'], InvalidIdentifier],
        ["createExtension", ["hstore", { schema: "a.b" }], InvalidIdentifier],
        ["createExtension", ["hstore", { version: "1.0" }], ParameterError],
        ["createExtension", ["hstore", { cascade: "yes" }], ParameterError],
        ["dropExtension", ["-hstore"], InvalidIdentifier],
        ["dropExtension", ["hstore", { force: true }], ParameterError],
        ["hasExtension", [""], InvalidIdentifier],
        ["hasExtension", ["e".repeat(64)], InvalidIdentifier],
      ]),
      (x) => x.hasExtension("uuid-ossp"), // a valid call is sent
    );
  });
});
