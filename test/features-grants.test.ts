/**
 * Grants (`db.admin`): statement builders without a server, then grant / revoke / listRoleGrants against the real
 * server, async and sync. The effect is read from behaviour (a role that connects — trust auth on the shared test
 * server — and selects, or is refused with InsufficientPrivilege) and from the catalog (`has_*_privilege`).
 * Roles are cluster-wide: random names, dropped (with what they hold) in `after`.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { after, before, describe, test } from "node:test";
import {
  AsyncDatabase,
  Database,
  DependentPrivilegeDescriptorsStillExist,
  InsufficientPrivilege,
  InvalidIdentifier,
  ParameterError,
  TableNotFound,
  UndefinedFunction,
  UndefinedObject,
} from "../src/index.js";
import { grantStatement, privilegeList, revokeStatement } from "../src/features/grants.js";
import { casesByName, refusedBeforeSending, sameError } from "./support/both-sides.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";

const suffix = randomBytes(4).toString("hex");
const roles: string[] = [];
/** A login role with no password (the shared server trusts local connections), dropped in `after`. */
async function makeRole(label: string): Promise<string> {
  const name = `tscopg_g_${label}_${suffix}`;
  roles.push(name);
  await rawQuery(`CREATE ROLE "${name}" LOGIN`);
  return name;
}

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
let S: string;
let dbName: string;

before(async () => {
  ctx = await createTestSchema("grants");
  S = ctx.schema;
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
  await adb.execute(`CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2);
    CREATE TABLE "Order" (id int); CREATE SEQUENCE counter; CREATE FUNCTION twice(a int) RETURNS int LANGUAGE sql AS 'SELECT 2 * a';
    CREATE PROCEDURE noop() LANGUAGE sql AS 'SELECT 1'`);
  dbName = (await adb.fetchVal<string>("SELECT current_database()"))!;
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
  for (const r of roles) await rawQuery(`DROP OWNED BY "${r}"; DROP ROLE IF EXISTS "${r}"`).catch(() => rawQuery(`DROP ROLE IF EXISTS "${r}"`));
});

/** Runs `sql` connected as `role` (a session of its own), answering its rows or throwing the library's error. */
async function asRole<R extends object>(role: string, sql: string): Promise<R[]> {
  const conn = new AsyncDatabase(ctx.config.with({ user: role }));
  try {
    return await conn.execute<R>(sql);
  } finally {
    await conn.close();
  }
}

async function has(check: string, ...args: unknown[]): Promise<boolean> {
  return (await rawQuery<{ ok: boolean }>(`SELECT ${check} AS ok`, args))[0]!.ok;
}

describe("grant statement builders (no server)", () => {
  test("tables by name (schema option or schema.name), lists, ALL TABLES IN SCHEMA, PUBLIC", () => {
    assert.equal(grantStatement("select, insert", "items", "bob", { schema: "s" }).sql.text, `GRANT SELECT, INSERT ON TABLE "s"."items" TO "bob"`);
    assert.equal(grantStatement(["Select"], ["a.Order", "user"], ["bob", "public"]).sql.text, `GRANT SELECT ON TABLE "a"."Order", "public"."user" TO "bob", PUBLIC`);
    assert.equal(grantStatement("all", "ALL TABLES", "bob", { schema: "s", withGrantOption: true }).sql.text, `GRANT ALL ON ALL TABLES IN SCHEMA "s" TO "bob" WITH GRANT OPTION`);
    assert.equal(grantStatement("usage", " all  sequences ", "bob").sql.text, `GRANT USAGE ON ALL SEQUENCES IN SCHEMA "public" TO "bob"`);
    assert.equal(grantStatement("execute", "ALL FUNCTIONS", "bob", { objectType: "function", schema: "s" }).sql.text, `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "s" TO "bob"`);
    assert.deepEqual(grantStatement("select", ["items", "s.x"], "bob", { schema: "s" }).tables, [{ schema: "s", name: "items" }, { schema: "s", name: "x" }]);
    assert.deepEqual(grantStatement("usage", "counter", "bob", { objectType: "sequence" }).tables, []);
  });

  test("other object types: each with its own name form and privilege list", () => {
    const g = (privileges: string, on: string, objectType: string) => grantStatement(privileges, on, "r", { objectType }).sql.text;
    assert.equal(g("usage, create", "Sales", "schema"), `GRANT USAGE, CREATE ON SCHEMA "Sales" TO "r"`);
    assert.equal(g("connect, temp", "app", "DATABASE"), `GRANT CONNECT, TEMP ON DATABASE "app" TO "r"`);
    assert.equal(g("usage", "s.counter", "sequence"), `GRANT USAGE ON SEQUENCE "s"."counter" TO "r"`);
    assert.equal(g("execute", "twice", "function"), `GRANT EXECUTE ON FUNCTION "public"."twice" TO "r"`);
    assert.equal(g("set, alter  system", "work_mem", "parameter"), `GRANT SET, ALTER SYSTEM ON PARAMETER "work_mem" TO "r"`);
    assert.equal(g("usage", "postgres_fdw", "foreign data wrapper"), `GRANT USAGE ON FOREIGN DATA WRAPPER "postgres_fdw" TO "r"`);
    assert.equal(
      revokeStatement("select", "items", ["a", "PUBLIC"], { cascade: true, grantOptionOnly: true }).sql.text,
      `REVOKE GRANT OPTION FOR SELECT ON TABLE "public"."items" FROM "a", PUBLIC CASCADE`,
    );
  });

  test("refusals: privileges from the type's list only, ALL alone, sensible combinations", () => {
    assert.throws(() => privilegeList("execute", "TABLE"), (e: unknown) => e instanceof InvalidIdentifier && /invalid TABLE privilege "execute": expected one of SELECT/.test(e.message));
    for (const bad of ["select; drop table x", "select,", "", "SELECT ALL", "select -- x", "ｓelect", ["select", 5]]) {
      assert.throws(() => privilegeList(bad, "TABLE"), InvalidIdentifier, inspect(bad));
    }
    assert.throws(() => privilegeList("all, select", "TABLE"), InvalidIdentifier);
    assert.throws(() => privilegeList([], "TABLE"), ParameterError);
    assert.throws(() => privilegeList(5, "TABLE"), ParameterError);
    assert.throws(() => grantStatement("select", "t", "r", { objectType: "TABLE; DROP" }), InvalidIdentifier);
    assert.throws(() => grantStatement("select", "t", "r", { objectType: "VIEW" }), InvalidIdentifier);
    assert.throws(() => grantStatement("select", "ALL TABLES", "r", { objectType: "sequence" }), ParameterError);
    assert.throws(() => grantStatement("usage", "s", "r", { objectType: "schema", schema: "x" }), /schema option does not apply/);
    assert.throws(() => grantStatement("select", "a.t", "r", { schema: "b" }), ParameterError);
    assert.throws(() => grantStatement("select", [], "r"), ParameterError);
    assert.throws(() => grantStatement("select", "t", []), ParameterError);
    assert.throws(() => grantStatement("select", "t", "public", { withGrantOption: true }), /cannot be given to PUBLIC/);
    assert.throws(() => grantStatement("select", "a.b.c", "r"), InvalidIdentifier);
    assert.throws(() => grantStatement("select", "t", "r x"), InvalidIdentifier);
  });
});

describe("grants on the server", () => {
  test("grant really allows SELECT and revoke really denies it (the role connects and reads), async and sync", async () => {
    const reader = await makeRole("reader");
    await assert.rejects(asRole(reader, "SELECT id FROM items"), TableNotFound, "without USAGE on the schema the table is not even seen");
    await adb.admin.grant("usage", S, reader, { objectType: "schema" });
    await assert.rejects(asRole(reader, "SELECT id FROM items"), InsufficientPrivilege);
    await adb.admin.grant("select", "items", reader, { schema: S });
    assert.deepEqual(await asRole(reader, "SELECT id FROM items ORDER BY id"), [{ id: 1 }, { id: 2 }]);
    await assert.rejects(asRole(reader, "INSERT INTO items VALUES (3)"), InsufficientPrivilege, "only SELECT was granted");
    db.admin.revoke("select", `${S}.items`, reader);
    await assert.rejects(asRole(reader, "SELECT id FROM items"), InsufficientPrivilege);
    db.grant(["SELECT", "INSERT"], "items", reader, { schema: S });
    await asRole(reader, "INSERT INTO items VALUES (3)");
    await assert.rejects(asRole(reader, "DELETE FROM items WHERE id = 3"), InsufficientPrivilege);
    await adb.execute("DELETE FROM items WHERE id = 3");
    await adb.revoke("all", "items", reader, { schema: S });
    await assert.rejects(asRole(reader, "SELECT id FROM items"), InsufficientPrivilege);
  });

  test("PUBLIC as grantee, seen through SET ROLE inside a transaction", async () => {
    const anyone = await makeRole("anyone");
    await adb.grant("usage", S, anyone, { objectType: "schema" });
    const select = async () =>
      adb.transaction(async (tx) => {
        await tx.execute(`SET LOCAL ROLE "${anyone}"`);
        return tx.fetchVal<number>(`SELECT count(*)::int FROM "Order"`);
      });
    await assert.rejects(select(), InsufficientPrivilege);
    await adb.grant("select", "Order", "PUBLIC", { schema: S });
    assert.equal(await select(), 0);
    db.revoke("select", "Order", "public", { schema: S });
    await assert.rejects(select(), InsufficientPrivilege);
  });

  test("ALL TABLES / ALL SEQUENCES / ALL FUNCTIONS IN SCHEMA", async () => {
    const role = await makeRole("bulk");
    await adb.grant("select", "ALL TABLES", role, { schema: S });
    db.grant("usage", "all sequences", role, { schema: S });
    await adb.revoke("execute", "ALL FUNCTIONS", "PUBLIC", { schema: S });
    assert.equal(await has("has_function_privilege($1, $2, 'EXECUTE')", role, `${S}.twice(int)`), false);
    db.grant("execute", "ALL FUNCTIONS", role, { schema: S });
    for (const t of ["items", '"Order"']) assert.equal(await has("has_table_privilege($1, $2, 'SELECT')", role, `${S}.${t}`), true, t);
    assert.equal(await has("has_sequence_privilege($1, $2, 'USAGE')", role, `${S}.counter`), true);
    assert.equal(await has("has_function_privilege($1, $2, 'EXECUTE')", role, `${S}.twice(int)`), true);
    await adb.revoke("select", "ALL TABLES", role, { schema: S });
    assert.equal(await has("has_table_privilege($1, $2, 'SELECT')", role, `${S}.items`), false);
  });

  test("sequences, functions, procedures, schemas and the database; listRoleGrants reads them all back", async () => {
    const role = await makeRole("lister");
    await adb.grant("usage, select", "counter", role, { objectType: "sequence", schema: S });
    db.grant("execute", `${S}.twice`, role, { objectType: "FUNCTION" });
    await adb.grant("execute", "noop", role, { objectType: "procedure", schema: S });
    db.grant("usage, create", S, role, { objectType: "schema", withGrantOption: true });
    await adb.grant("temporary", dbName, role, { objectType: "database" });
    await adb.grant("select", ["items", "Order"], role, { schema: S, withGrantOption: true });
    assert.equal(await has("has_sequence_privilege($1, $2, 'SELECT')", role, `${S}.counter`), true);
    assert.equal(await has("has_schema_privilege($1, $2, 'CREATE WITH GRANT OPTION')", role, S), true);
    assert.equal(await has("has_database_privilege($1, $2, 'TEMPORARY')", role, dbName), true);
    const entry = (objectType: string, schema: string | null, name: string, privilege: string, grantable: boolean, args: string | null = null) =>
      ({ objectType, schema, name, arguments: args, privilege, grantable });
    const expected = [
      entry("DATABASE", null, dbName, "TEMPORARY", false),
      entry("FUNCTION", S, "twice", "EXECUTE", false, "a integer"),
      entry("PROCEDURE", S, "noop", "EXECUTE", false, ""),
      entry("SCHEMA", null, S, "CREATE", true),
      entry("SCHEMA", null, S, "USAGE", true),
      entry("SEQUENCE", S, "counter", "SELECT", false),
      entry("SEQUENCE", S, "counter", "USAGE", false),
      entry("TABLE", S, "Order", "SELECT", true),
      entry("TABLE", S, "items", "SELECT", true),
    ];
    assert.deepEqual(await adb.admin.listRoleGrants(role), expected);
    assert.deepEqual(db.listRoleGrants(role), expected);
    assert.deepEqual(await adb.listRoleGrants(role, { includeSystem: true }), expected);
    // An owner's implicit privileges count (pycopg lists table grants only, and not these).
    const owner = (await adb.fetchVal<string>("SELECT current_user"))!;
    const owned = (await adb.listRoleGrants(owner)).filter((g) => g.schema === S || g.name === S);
    assert.ok(owned.some((g) => g.objectType === "TABLE" && g.name === "items" && g.privilege === "TRUNCATE"));
    assert.ok(owned.some((g) => g.objectType === "SCHEMA" && g.privilege === "CREATE"));
    const missing = `tscopg_missing_${suffix}`;
    const err = await sameError(() => adb.listRoleGrants(missing), () => db.admin.listRoleGrants(missing));
    assert.ok(err instanceof UndefinedObject);
    assert.equal(err.message, `role "${missing}" does not exist`);
  });

  test("revoke: grantOptionOnly keeps the privilege; without cascade dependent grants block it, with cascade they go too", async () => {
    const [boss, helper] = [await makeRole("boss"), await makeRole("helper")];
    await adb.grant("usage", S, [boss, helper], { objectType: "schema" });
    await adb.grant("select", "items", boss, { schema: S, withGrantOption: true });
    await adb.transaction(async (tx) => {
      await tx.execute(`SET LOCAL ROLE "${boss}"`);
      await tx.grant("select", "items", helper, { schema: S }); // boss grants on, as itself
    });
    assert.equal(await has("has_table_privilege($1, $2, 'SELECT')", helper, `${S}.items`), true);
    const err = await sameError(() => adb.revoke("select", "items", boss, { schema: S }), () => db.revoke("select", "items", boss, { schema: S }));
    assert.ok(err instanceof DependentPrivilegeDescriptorsStillExist);
    await adb.revoke("select", "items", boss, { schema: S, grantOptionOnly: true, cascade: true });
    assert.equal(await has("has_table_privilege($1, $2, 'SELECT')", boss, `${S}.items`), true);
    assert.equal(await has("has_table_privilege($1, $2, 'SELECT WITH GRANT OPTION')", boss, `${S}.items`), false);
    assert.equal(await has("has_table_privilege($1, $2, 'SELECT')", helper, `${S}.items`), false, "cascaded");
    db.revoke("select", "items", boss, { schema: S, cascade: true });
    assert.equal(await has("has_table_privilege($1, $2, 'SELECT')", boss, `${S}.items`), false);
  });

  test("inside a transaction grant and revoke join it and roll back with it, async and sync", async () => {
    const role = await makeRole("tx");
    await adb.transaction(async (tx) => {
      await tx.admin.grant("select", "items", role, { schema: S });
      await adb.grant("insert", "items", role, { schema: S }); // the database's method joins the ambient transaction
      assert.deepEqual((await tx.listRoleGrants(role)).map((g) => g.privilege), ["INSERT", "SELECT"]);
      await tx.rollback();
    });
    assert.equal(await has("has_table_privilege($1, $2, 'SELECT, INSERT')", role, `${S}.items`), false);
    assert.throws(() =>
      db.transaction((tx) => {
        tx.grant("select", "items", role, { schema: S });
        assert.deepEqual(db.listRoleGrants(role).length, 1);
        throw new Error("roll back");
      }), /roll back/);
    assert.deepEqual(await adb.listRoleGrants(role), []);
  });

  test("a missing table is TableNotFound naming schema and table; a missing role or function is the server's error", async () => {
    const role = await makeRole("missing");
    const err = await sameError(() => adb.grant("select", "nope", role, { schema: S }), () => db.grant("select", "nope", role, { schema: S }));
    assert.ok(err instanceof TableNotFound);
    assert.deepEqual([(err as TableNotFound).schema, (err as TableNotFound).table], [S, "nope"]);
    await sameError(() => adb.revoke("select", "items", `nope_${suffix}`, { schema: S }), () => db.revoke("select", "items", `nope_${suffix}`, { schema: S }), UndefinedObject);
    await assert.rejects(adb.grant("execute", "nope", role, { objectType: "function", schema: S }), UndefinedFunction);
  });

  test("bad privileges, object types, names and options are refused before anything is sent, the same on both sides", async () => {
    const role = `tscopg_never_${suffix}`;
    const calls: [string, unknown[], new (...a: never[]) => Error][] = [
      ["grant", ["select; drop table items", "items", role, { schema: S }], InvalidIdentifier],
      ["grant", ["execute", "items", role, { schema: S }], InvalidIdentifier],
      ["grant", ["select", "items; --", role], InvalidIdentifier],
      ["grant", ["select", "items", "x\"y"], InvalidIdentifier],
      ["grant", ["select", "items", role, { schema: "a b" }], InvalidIdentifier],
      ["grant", ["select", "items", role, { objectType: "TABLES" }], InvalidIdentifier],
      ["grant", ["select", "items", role, { grantOption: true }], ParameterError],
      ["grant", ["select", "items", "public", { withGrantOption: true }], ParameterError],
      ["revoke", ["select", "items", [role, "1x"]], InvalidIdentifier],
      ["revoke", ["select", "items", role, { cascade: "yes" }], ParameterError],
      ["revoke", ["connect", "x.y", role, { objectType: "database" }], InvalidIdentifier],
      ["listRoleGrants", ["a.b"], InvalidIdentifier],
      ["listRoleGrants", [role, { includeSystem: 1 }], ParameterError],
    ];
    await refusedBeforeSending(ctx.config, casesByName(calls), (q) => q.roleExists(role));
  });
});
