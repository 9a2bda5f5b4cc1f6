/**
 * Schemas and tables (`db.schema`): createSchema, dropSchema, listSchemas, schemaExists; listTables, tableExists,
 * tableInfo, listColumns, columnsWithTypes, rowCount, dropTable, truncateTable. Statement building without a
 * server, then every method against the real server, async and sync, read back from the catalog (pg_namespace,
 * pg_class, information_schema) and from behaviour (rows gone, identities restarted, dependents dropped).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  AsyncDatabase,
  Database,
  DependentObjectsStillExist,
  DuplicateSchema,
  FeatureNotSupported,
  InvalidIdentifier,
  InvalidSchemaName,
  ParameterError,
  TableNotFound,
  UndefinedObject,
  WrongObjectType,
} from "../src/index.js";
import { createSchemaStatement, dropSchemaStatement } from "../src/features/schemas.js";
import { dropTableStatement, truncateTableStatement } from "../src/features/tables.js";
import { target } from "../src/features/target.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";
import { byName, casesByName, refusedBeforeSending, sameErrorOn, sameOn } from "./support/both-sides.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
let S: string;
const fdw = `tscopg_fdw_${randomBytes(3).toString("hex")}`;
const roles: string[] = [];

before(async () => {
  ctx = await createTestSchema("schemas_tables");
  S = ctx.schema;
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
  await adb.execute(`
    CREATE DOMAIN "Code" AS varchar(10) NOT NULL;
    CREATE TABLE "Order" (
      id serial PRIMARY KEY,
      "user" varchar(20) NOT NULL DEFAULT 'x',
      "select" numeric(10,2),
      price double precision,
      flags bit(3),
      tags text[],
      doubled int GENERATED ALWAYS AS (id * 2) STORED,
      initials char(5),
      code "Code",
      "Mixed Case" boolean DEFAULT true
    );
    CREATE TABLE "Parts" (id int) PARTITION BY RANGE (id);
    CREATE TABLE "Parts_1" PARTITION OF "Parts" FOR VALUES FROM (0) TO (1000000);
    CREATE VIEW "V" AS SELECT id, "user" FROM "Order";
    CREATE MATERIALIZED VIEW "MV" AS SELECT 1 AS x;
    CREATE SEQUENCE "Seq";
    CREATE INDEX "Idx" ON "Order" (price);
    CREATE TABLE empty_cols ();
  `);
  await adb.execute(`CREATE FOREIGN DATA WRAPPER "${fdw}"; CREATE SERVER "${fdw}_srv" FOREIGN DATA WRAPPER "${fdw}"`);
  await adb.execute(`CREATE FOREIGN TABLE "Remote" (id int, name text) SERVER "${fdw}_srv"`);
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
  await rawQuery(`DROP FOREIGN DATA WRAPPER IF EXISTS "${fdw}" CASCADE`);
  for (const role of roles) await rawQuery(`DROP ROLE IF EXISTS "${role}"`);
});

describe("schema and table statements (no server)", () => {
  test("schemas: IF [NOT] EXISTS by default, AUTHORIZATION, CASCADE", () => {
    assert.equal(createSchemaStatement("Sales").text, 'CREATE SCHEMA IF NOT EXISTS "Sales"');
    assert.equal(createSchemaStatement("user", { ifNotExists: false, owner: "Admin" }).text, 'CREATE SCHEMA "user" AUTHORIZATION "Admin"');
    assert.equal(dropSchemaStatement("Sales").text, 'DROP SCHEMA IF EXISTS "Sales"');
    assert.equal(dropSchemaStatement("Sales", { ifExists: false, cascade: true }).text, 'DROP SCHEMA "Sales" CASCADE');
    assert.throws(() => createSchemaStatement("a;b"), InvalidIdentifier);
    assert.throws(() => createSchemaStatement("a", { owner: "b c" }), InvalidIdentifier);
  });

  test("tables: qualified and quoted, options as clauses", () => {
    const t = target("x", "s.Order");
    assert.equal(dropTableStatement(t).text, 'DROP TABLE IF EXISTS "s"."Order"');
    assert.equal(dropTableStatement(t, { ifExists: false, cascade: true }).text, 'DROP TABLE "s"."Order" CASCADE');
    assert.equal(truncateTableStatement(target("x", "user")).text, 'TRUNCATE TABLE "public"."user"');
    assert.equal(truncateTableStatement(t, { restartIdentity: true, cascade: true }).text, 'TRUNCATE TABLE "s"."Order" RESTART IDENTITY CASCADE');
  });
});

describe("schemas on the server", () => {
  test("createSchema with an owner, ifNotExists by default; schemaExists and listSchemas see it; dropSchema", async () => {
    const role = `tscopg_schema_owner_${randomBytes(3).toString("hex")}`;
    roles.push(role);
    await rawQuery(`CREATE ROLE "${role}"`);
    const name = `${S}_Sales`;
    const plain = `${S}_user`;
    await adb.createSchema(name, { owner: role });
    db.createSchema(plain);
    const owners = await rawQuery<{ n: string; o: string }>("SELECT nspname AS n, nspowner::regrole::text AS o FROM pg_namespace WHERE nspname IN ($1, $2) ORDER BY 1", [name, plain]);
    const [{ me }] = await rawQuery<{ me: string }>("SELECT current_user AS me");
    assert.deepEqual(owners, [
      { n: name, o: role },
      { n: plain, o: me },
    ]);
    await adb.createSchema(name); // exists: nothing to do
    db.createSchema(name, { owner: role });
    await sameErrorOn(adb, db, (x) => x.createSchema(name, { ifNotExists: false }), DuplicateSchema, /already exists/);
    await sameErrorOn(adb, db, (x) => x.createSchema(`${S}_never`, { owner: "tscopg_no_such_role" }), UndefinedObject, /role .* does not exist/);
    for (const n of [name, plain]) assert.equal(await sameOn(adb, db, (x) => x.schemaExists(n)), true);
    assert.equal(await sameOn(adb, db, (x) => x.schemaExists(`${S}_never`)), false);
    const list = (await sameOn(adb, db, (x) => x.listSchemas())) as string[];
    assert.ok(list.includes(name) && list.includes(plain) && list.includes("public") && !list.includes(`${S}_never`));
    assert.ok(!list.some((n) => n.startsWith("pg_") || n === "information_schema"));

    await adb.execute(`CREATE TABLE "${name}".t (id int)`);
    await sameErrorOn(adb, db, (x) => x.dropSchema(name), DependentObjectsStillExist, /depend/);
    assert.equal(await adb.schemaExists(name), true);
    await adb.dropSchema(name, { cascade: true });
    db.dropSchema(plain);
    assert.deepEqual(await rawQuery("SELECT 1 FROM pg_namespace WHERE nspname IN ($1, $2)", [name, plain]), []);
    await adb.dropSchema(name); // ifExists by default
    db.dropSchema(name);
    await sameErrorOn(adb, db, (x) => x.dropSchema(name, { ifExists: false }), InvalidSchemaName, /does not exist/);
  });

  test("in a transaction they join it: a rollback undoes create and drop", async () => {
    const name = `${S}_tx`;
    await adb.transaction(async (tx) => {
      await tx.schema.createSchema(name);
      assert.equal(await tx.schemaExists(name), true);
      await tx.rollback();
    });
    assert.equal(await adb.schemaExists(name), false);
    assert.throws(() =>
      db.transaction((tx) => {
        tx.dropSchema(S, { cascade: true });
        assert.equal(tx.schema.schemaExists(S), false);
        throw new Error("roll back");
      }),
    /roll back/);
    assert.equal(await adb.schemaExists(S), true);
    assert.equal(await adb.tableExists("Order", { schema: S }), true);
  });
});

describe("tables on the server", () => {
  test("listTables: ordinary and partitioned tables (and partitions); no views, matviews, foreign tables", async () => {
    const want = ["Order", "Parts", "Parts_1", "empty_cols"];
    assert.deepEqual(await sameOn(adb, db, (x) => x.listTables({ schema: S })), want);
    assert.deepEqual(await adb.schema.listTables({ schema: S }), want);
    const raw = await rawQuery<{ t: string }>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name COLLATE \"C\"",
      [S],
    );
    assert.deepEqual(raw.map((r) => r.t), want, "the same as information_schema's base tables");
    const none = await sameErrorOn(adb, db, (x) => x.listTables({ schema: `${S}_none` }), InvalidSchemaName, /schema ".*_none" does not exist/);
    assert.equal((none as InvalidSchemaName).schema, `${S}_none`);
    await adb.createSchema(`${S}_empty`);
    assert.deepEqual(await sameOn(adb, db, (x) => x.listTables({ schema: `${S}_empty` })), [], "an empty schema has no tables");
    await adb.dropSchema(`${S}_empty`);
  });

  test("tableExists: tables, partitioned tables, views, matviews, foreign tables; not sequences or indexes", async () => {
    for (const name of ["Order", "Parts", "Parts_1", "V", "MV", "Remote", "empty_cols"]) {
      assert.equal(await sameOn(adb, db, (x) => x.tableExists(name, { schema: S })), true, name);
      assert.equal(await sameOn(adb, db, (x) => x.tableExists(`${S}.${name}`)), true, `${S}.${name}`);
    }
    for (const name of ["Seq", "Idx", "order", "missing"]) assert.equal(await sameOn(adb, db, (x) => x.tableExists(name, { schema: S })), false, name);
    assert.equal(await sameOn(adb, db, (x) => x.tableExists("Order")), false, "default schema is public");
    await sameErrorOn(adb, db, (x) => x.tableExists(`${S}.Order`, { schema: "public" }), ParameterError, /names schema/);
  });

  test("tableInfo: per column name, format_type, nullability, default, position, length, precision, scale", async () => {
    const info = await sameOn(adb, db, (x) => x.tableInfo("Order", { schema: S }));
    assert.deepEqual(info, [
      { name: "id", dataType: "integer", nullable: false, default: `nextval('"Order_id_seq"'::regclass)`, position: 1, maxLength: null, precision: 32, scale: 0 },
      { name: "user", dataType: "character varying(20)", nullable: false, default: "'x'::character varying", position: 2, maxLength: 20, precision: null, scale: null },
      { name: "select", dataType: "numeric(10,2)", nullable: true, default: null, position: 3, maxLength: null, precision: 10, scale: 2 },
      { name: "price", dataType: "double precision", nullable: true, default: null, position: 4, maxLength: null, precision: 53, scale: null },
      { name: "flags", dataType: "bit(3)", nullable: true, default: null, position: 5, maxLength: 3, precision: null, scale: null },
      { name: "tags", dataType: "text[]", nullable: true, default: null, position: 6, maxLength: null, precision: null, scale: null },
      { name: "doubled", dataType: "integer", nullable: true, default: null, position: 7, maxLength: null, precision: 32, scale: 0 },
      { name: "initials", dataType: "character(5)", nullable: true, default: null, position: 8, maxLength: 5, precision: null, scale: null },
      { name: "code", dataType: `"Code"`, nullable: false, default: null, position: 9, maxLength: 10, precision: null, scale: null },
      { name: "Mixed Case", dataType: "boolean", nullable: true, default: "true", position: 10, maxLength: null, precision: null, scale: null },
    ]); // the domain shows as its quoted name, unqualified as its schema is on the search path
    // Length, precision, scale, position and nullability agree with information_schema.columns.
    const raw = await rawQuery<Record<string, unknown>>(
      `SELECT column_name AS name, ordinal_position::int AS position, character_maximum_length::int AS "maxLength",
              numeric_precision::int AS precision, numeric_scale::int AS scale, is_nullable = 'YES' AS nullable
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'Order' ORDER BY ordinal_position`,
      [S],
    );
    assert.deepEqual(
      info.map(({ name, position, maxLength, precision, scale, nullable }) => ({ name, position, maxLength, precision, scale, nullable })),
      raw.map((r) => (r.name === "code" ? { ...r, nullable: false } : r)), // information_schema ignores a domain's NOT NULL
    );
    assert.deepEqual(await sameOn(adb, db, (x) => x.tableInfo("empty_cols", { schema: S })), []);
    const view = (await sameOn(adb, db, (x) => x.tableInfo(`${S}.V`))) as { name: string; dataType: string }[];
    assert.deepEqual(view.map((c) => [c.name, c.dataType]), [["id", "integer"], ["user", "character varying(20)"]]);
  });

  test("listColumns and columnsWithTypes, in column order, for every kind of table", async () => {
    assert.deepEqual(await sameOn(adb, db, (x) => x.listColumns("Order", { schema: S })), [
      "id", "user", "select", "price", "flags", "tags", "doubled", "initials", "code", "Mixed Case",
    ]);
    await adb.execute(`ALTER TABLE "Order" ADD COLUMN later int, DROP COLUMN flags`);
    try {
      const withTypes = (await sameOn(adb, db, (x) => x.columnsWithTypes("Order", { schema: S }))) as [string, string][];
      assert.deepEqual(withTypes.slice(0, 4), [["id", "integer"], ["user", "character varying(20)"], ["select", "numeric(10,2)"], ["price", "double precision"]]);
      assert.deepEqual(withTypes.at(-1), ["later", "integer"]);
      assert.ok(!withTypes.some(([n]) => n === "flags"), "a dropped column is gone");
      const positions = ((await adb.tableInfo("Order", { schema: S })) as { position: number }[]).map((c) => c.position);
      assert.deepEqual(positions, [1, 2, 3, 4, 6, 7, 8, 9, 10, 11], "attnum: the dropped column leaves its gap");
    } finally {
      await adb.execute(`ALTER TABLE "Order" DROP COLUMN later, ADD COLUMN flags bit(3)`);
    }
    assert.deepEqual(await sameOn(adb, db, (x) => x.columnsWithTypes("MV", { schema: S })), [["x", "integer"]]);
    assert.deepEqual(await sameOn(adb, db, (x) => x.listColumns("Remote", { schema: S })), ["id", "name"]);
    assert.deepEqual(await sameOn(adb, db, (x) => x.listColumns("Parts", { schema: S })), ["id"]);
  });

  test("rowCount: exact count(*) by default, as a number", async () => {
    await adb.execute(`CREATE TABLE counted (id int) WITH (autovacuum_enabled = false)`);
    await adb.execute("INSERT INTO counted SELECT g FROM generate_series(1, 1234) g");
    assert.equal(await sameOn(adb, db, (x) => x.rowCount("counted", { schema: S })), 1234);
    assert.equal(await sameOn(adb, db, (x) => x.rowCount(`${S}.V`)), 0);
    await adb.execute(`INSERT INTO "Order" ("user", code) VALUES ('a', 'c1'), ('b', 'c2')`);
    assert.equal(await sameOn(adb, db, (x) => x.rowCount("V", { schema: S })), 2);
    await adb.execute(`REFRESH MATERIALIZED VIEW "MV"`);
    assert.equal(await sameOn(adb, db, (x) => x.rowCount("MV", { schema: S })), 1);
    await adb.execute(`DELETE FROM "Order"`);
  });

  test("rowCount with estimate: reltuples when known, never -1; a sample or a count when never analyzed", async () => {
    const reltuples = async (t: string) =>
      (await rawQuery<{ n: number }>(`SELECT reltuples::float8 AS n FROM pg_class WHERE oid = $1::regclass`, [`"${S}"."${t}"`]))[0]!.n;
    await adb.execute(`CREATE TABLE fresh (id int) WITH (autovacuum_enabled = false)`);
    assert.equal(await reltuples("fresh"), -1, "never analyzed (PostgreSQL ≥ 14 marks it -1; pycopg returns that)");
    assert.equal(await sameOn(adb, db, (x) => x.rowCount("fresh", { schema: S, estimate: true })), 0);
    await adb.execute("INSERT INTO fresh SELECT g FROM generate_series(1, 700) g"); // a few pages: counted
    assert.equal(await sameOn(adb, db, (x) => x.rowCount("fresh", { schema: S, estimate: true })), 700);
    await adb.execute(`CREATE TABLE big (id int, pad text) WITH (autovacuum_enabled = false)`);
    await adb.execute("INSERT INTO big SELECT g, repeat('x', g % 40) FROM generate_series(1, 200000) g");
    assert.equal(await reltuples("big"), -1);
    const sampled = (await sameOn(adb, db, (x) => x.rowCount("big", { schema: S, estimate: true }))) as number;
    assert.ok(Math.abs(sampled - 200000) < 10000, `sampled estimate ${sampled} is near 200000`);
    await adb.execute(`ANALYZE big; ANALYZE "Parts"`);
    assert.equal(await sameOn(adb, db, (x) => x.rowCount("big", { schema: S, estimate: true })), Math.round(await reltuples("big")));
    // Views and never-analyzed partitioned tables: the planner's estimate (a number ≥ 0, not -1). (The foreign
    // table here has a wrapper without handler: it cannot be read, so it cannot be counted either.)
    for (const t of ["V", "Parts", "MV"]) {
      const n = (await sameOn(adb, db, (x) => x.rowCount(t, { schema: S, estimate: true }))) as number;
      assert.ok(Number.isInteger(n) && n >= 0, `${t}: ${n}`);
    }
    await adb.execute(`INSERT INTO "Parts" SELECT g FROM generate_series(1, 3000) g; ANALYZE "Parts"`);
    const parts = await reltuples("Parts");
    assert.equal(await sameOn(adb, db, (x) => x.rowCount("Parts", { schema: S, estimate: true })), parts >= 0 ? Math.round(parts) : 3000);
    assert.equal(await sameOn(adb, db, (x) => x.rowCount("Parts", { schema: S })), 3000);
  });

  test("dropTable: ifExists by default; TableNotFound without it; dependents need cascade", async () => {
    await adb.execute(`CREATE TABLE "user" (id int PRIMARY KEY); CREATE VIEW user_view AS SELECT * FROM "user"`);
    await sameErrorOn(adb, db, (x) => x.dropTable("user", { schema: S }), DependentObjectsStillExist, /depend/);
    await adb.dropTable("user", { schema: S, cascade: true });
    assert.deepEqual(await rawQuery("SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relname IN ('user', 'user_view')", [S]), []);
    await adb.dropTable("user", { schema: S });
    db.dropTable(`${S}.user`);
    const err = await sameErrorOn(adb, db, (x) => x.dropTable("user", { schema: S, ifExists: false }), TableNotFound, new RegExp(`table "${S}"\\."user" does not exist`));
    assert.equal((err as TableNotFound).schema, S);
    assert.equal((err as TableNotFound).table, "user");
    await sameErrorOn(adb, db, (x) => x.dropTable("V", { schema: S }), WrongObjectType, /is not a table/);
    db.execute("CREATE TABLE dropped_sync (id int)");
    db.dropTable("dropped_sync", { schema: S, ifExists: false });
    assert.equal(await adb.tableExists("dropped_sync", { schema: S }), false);
  });

  test("truncateTable: rows gone; restartIdentity; cascade for referencing tables; TableNotFound", async () => {
    await adb.execute(`CREATE TABLE parent (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
      CREATE TABLE child (parent_id int REFERENCES parent (id));
      INSERT INTO parent (v) VALUES ('a'), ('b'); INSERT INTO child VALUES (1)`);
    await sameErrorOn(adb, db, (x) => x.truncateTable("parent", { schema: S }), FeatureNotSupported, /referenced in a foreign key/);
    await adb.truncateTable("parent", { schema: S, cascade: true });
    assert.deepEqual(await rawQuery(`SELECT * FROM "${S}".child`), []);
    await adb.execute(`INSERT INTO parent (v) VALUES ('c')`);
    assert.equal(await adb.fetchVal("SELECT max(id) FROM parent"), 3, "identity not restarted by default");
    db.truncateTable("parent", { schema: S, cascade: true, restartIdentity: true });
    await adb.execute(`INSERT INTO parent (v) VALUES ('d')`);
    assert.equal(await adb.fetchVal("SELECT max(id) FROM parent"), 1, "identity restarted");
    db.truncateTable(`${S}.child`);
    await sameErrorOn(adb, db, (x) => x.truncateTable("missing", { schema: S }), TableNotFound, /does not exist/);
    await sameErrorOn(adb, db, (x) => x.truncateTable("V", { schema: S }), WrongObjectType, /is not a table/);
  });

  test("table methods on a missing table: TableNotFound naming schema and table", async () => {
    for (const [name, args] of [
      ["tableInfo", ["missing", { schema: S }]],
      ["listColumns", [`${S}.missing`]],
      ["columnsWithTypes", ["missing", { schema: S }]],
      ["rowCount", ["missing", { schema: S }]],
      ["rowCount", ["missing", { schema: S, estimate: true }]],
      ["rowCount", ["Seq", { schema: S }]],
      ["tableInfo", ["order", { schema: S }]],
    ] as [string, unknown[]][]) {
      const err = (await sameErrorOn(adb, db, byName(name, ...args), TableNotFound, /does not exist/)) as TableNotFound;
      assert.equal(err.schema, S, name);
      assert.equal(err.code, "42P01");
    }
  });

  test("in a transaction they join it: a rollback brings back dropped and truncated tables", async () => {
    await adb.execute(`CREATE TABLE keep (id int); INSERT INTO keep VALUES (1), (2)`);
    await adb.transaction(async (tx) => {
      await tx.schema.truncateTable("keep", { schema: S });
      assert.equal(await tx.rowCount("keep", { schema: S }), 0);
      await tx.dropTable("keep", { schema: S });
      assert.equal(await tx.tableExists("keep", { schema: S }), false);
      await tx.rollback();
    });
    assert.equal(await adb.rowCount("keep", { schema: S }), 2);
    assert.throws(() =>
      db.transaction((tx) => {
        tx.truncateTable("keep", { schema: S });
        assert.equal(tx.schema.rowCount("keep", { schema: S }), 0);
        throw new Error("roll back");
      }),
    /roll back/);
    assert.equal(db.rowCount("keep", { schema: S }), 2);
  });

  test("refusals come before anything is sent: bad names, bad options", async () => {
    await refusedBeforeSending(
      ctx.config,
      casesByName([
        ["createSchema", ["a b"], InvalidIdentifier],
        ["createSchema", ["ok", { owner: "x'y" }], InvalidIdentifier],
        ["createSchema", ["ok", { cascade: true }], ParameterError],
        ["dropSchema", ["a.b"], InvalidIdentifier],
        ["dropSchema", ["ok", { cascade: "yes" }], ParameterError],
        ["schemaExists", ["s".repeat(64)], InvalidIdentifier],
        ["listTables", [{ schema: "a;b" }], InvalidIdentifier],
        ["listTables", [{ scheme: "public" }], ParameterError],
        ["tableExists", ["a.b.c"], InvalidIdentifier],
        ["tableInfo", ["t", { schema: "" }], InvalidIdentifier],
        ["listColumns", ['t"; --'], InvalidIdentifier],
        ["columnsWithTypes", ["t", { schema: 1 }], ParameterError],
        ["rowCount", ["t", { estimate: "yes" }], ParameterError],
        ["rowCount", ["-t"], InvalidIdentifier],
        ["rowCount", ["s.t", { schema: "other" }], ParameterError],
        ["dropTable", ["t", { ifExists: 0 }], ParameterError],
        ["dropTable", ["t", { schema: "x y" }], InvalidIdentifier],
        ["truncateTable", ["t", { restart: true }], ParameterError],
        ["truncateTable", ["t\u0000"], InvalidIdentifier],
      ]),
      (x) => x.tableExists("ok"), // a valid call is sent
    );
  });
});
