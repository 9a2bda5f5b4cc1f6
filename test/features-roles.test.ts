/**
 * Roles (`db.admin`): statement builders without a server, then every method against the real server, async and
 * sync, its effect read back from the catalog (`pg_authid`, `pg_auth_members`); inside transactions; the refusals,
 * with nothing sent. Passwords: the role really logs in with its password (and not with another) on a throwaway
 * server that requires scram-sha-256, and the clear password never reaches that server's statement log nor any
 * error. Roles are cluster-wide: every name here has a random suffix, and all are dropped in `after`.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { after, before, describe, test } from "node:test";
import { AsyncDatabase, Config, Database, DuplicateObject, InvalidIdentifier, ParameterError, TscopgError, UndefinedObject } from "../src/index.js";
import { alterRoleStatement, createRoleStatement, validUntilLiteral } from "../src/features/roles.js";
import { casesByName, refusedBeforeSending, sameError } from "./support/both-sides.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";
import { startPasswordServer, type PasswordServer } from "./support/password-server.js";

const suffix = randomBytes(4).toString("hex");
const made = new Set<string>();
/** A fresh cluster-wide role name (mixed case for some), remembered for clean-up. */
function roleName(label: string): string {
  const name = `tscopg_${label}_${suffix}`;
  made.add(name);
  return name;
}

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

before(async () => {
  ctx = await createTestSchema("roles");
  adb = new AsyncDatabase(ctx.config);
  db = new Database(ctx.config);
});

after(async () => {
  db?.close();
  await adb?.close();
  for (const name of made) await rawQuery(`DROP ROLE IF EXISTS "${name}"`);
  await ctx?.drop();
});

interface AuthRow {
  login: boolean;
  superuser: boolean;
  createdb: boolean;
  createrole: boolean;
  inherit: boolean;
  replication: boolean;
  connlimit: number;
  validuntil: string | null;
  password: string | null;
}

/** The role as the catalog holds it (read without the library), or undefined. */
async function catalogRole(name: string): Promise<AuthRow | undefined> {
  const rows = await rawQuery<AuthRow & Record<string, unknown>>(
    `SELECT rolcanlogin AS login, rolsuper AS superuser, rolcreatedb AS createdb, rolcreaterole AS createrole,
      rolinherit AS inherit, rolreplication AS replication, rolconnlimit AS connlimit,
      to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS validuntil, rolpassword AS password
      FROM pg_authid WHERE rolname = $1`,
    [name],
  );
  return rows[0];
}

async function membersOf(role: string): Promise<{ member: string; admin: boolean }[]> {
  return rawQuery<{ member: string; admin: boolean }>(
    `SELECT m.rolname::text AS member, am.admin_option AS admin FROM pg_auth_members am
      JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member WHERE r.rolname = $1 ORDER BY 1`,
    [role],
  );
}

describe("role statement builders (no server)", () => {
  test("CREATE ROLE: every attribute, IN ROLE, quoted names, the verifier as a literal", () => {
    const stmt = createRoleStatement(
      "App_User",
      { superuser: false, createdb: true, createrole: false, inherit: false, replication: false, connectionLimit: -1, validUntil: "2031-02-03 04:05:06+02", inRoles: ["Readers", "user"] },
      "SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5",
    );
    assert.equal(
      stmt.text,
      `CREATE ROLE "App_User" WITH LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOINHERIT NOREPLICATION CONNECTION LIMIT -1 VALID UNTIL '2031-02-03 04:05:06+02' PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5' IN ROLE "Readers", "user"`,
    );
  });

  test("CREATE ROLE defaults: LOGIN and INHERIT, nothing else", () => {
    assert.equal(createRoleStatement("r", {}).text, `CREATE ROLE "r" WITH LOGIN INHERIT`);
    assert.equal(createRoleStatement("r", { login: false, inRoles: [] }).text, `CREATE ROLE "r" WITH NOLOGIN INHERIT`);
  });

  test("ALTER ROLE: attributes, PASSWORD NULL, rename, and both as two statements", () => {
    assert.equal(alterRoleStatement("r", { login: false, connectionLimit: 3 }).text, `ALTER ROLE "r" WITH NOLOGIN CONNECTION LIMIT 3`);
    assert.equal(alterRoleStatement("r", {}, null).text, `ALTER ROLE "r" WITH PASSWORD NULL`);
    assert.equal(alterRoleStatement("r", { renameTo: "Order" }).text, `ALTER ROLE "r" RENAME TO "Order"`);
    assert.equal(alterRoleStatement("r", { createdb: true, renameTo: "s" }).text, `ALTER ROLE "r" WITH CREATEDB; ALTER ROLE "r" RENAME TO "s"`);
    assert.throws(() => alterRoleStatement("r", {}), /nothing to change/);
  });

  test("validUntil: Dates in UTC, ISO strings and infinity are accepted as written", () => {
    assert.equal(validUntilLiteral("m", new Date(Date.UTC(2030, 0, 2, 3, 4, 5))).text, `'2030-01-02T03:04:05.000Z'`);
    for (const ok of ["2030-01-01", "2030-01-01 10:00", "2030-01-01T10:00:59.123456Z", "2030-01-01 10:00:00-0530", "2024-02-29T00:00+14:00", "2000-02-29"]) {
      assert.equal(validUntilLiteral("m", ok).text, `'${ok}'`);
    }
    assert.equal(validUntilLiteral("m", "Infinity").text, `'infinity'`);
    assert.equal(validUntilLiteral("m", "-infinity").text, `'-infinity'`);
  });

  test("validUntil: anything else is a ParameterError", () => {
    const bad = ["2030-02-30", "2023-02-29", "1900-02-29", "2030-13-01", "0000-01-01", "2030-01-01T24:00", "2030-01-01T10:60", "2030-01-01 10:00+16",
      "tomorrow", "now", "2030-1-1", " 2030-01-01", "2030-01-01'; DROP ROLE x; --", "2030-01-01+02", "", new Date(Number.NaN), new Date(Date.UTC(10000, 0, 1)), 5];
    for (const v of bad) assert.throws(() => validUntilLiteral("createRole", v), ParameterError, String(v));
  });

  test("names are checked: InvalidIdentifier for a bad role, inRoles entry or renameTo", () => {
    assert.throws(() => createRoleStatement("bad;name", {}), InvalidIdentifier);
    assert.throws(() => createRoleStatement("r", { inRoles: ["ok", "a\"b"] }), InvalidIdentifier);
    assert.throws(() => createRoleStatement("a".repeat(64), {}), InvalidIdentifier);
    assert.throws(() => alterRoleStatement("r", { renameTo: "x y" }), InvalidIdentifier);
  });
});

describe("roles on the server", () => {
  test("createRole sets every attribute, async and sync; the password is stored as a SCRAM verifier", async () => {
    const options = { password: "s3cret pässword", superuser: false, createdb: true, createrole: true, inherit: false, replication: false, connectionLimit: 7, validUntil: "2031-02-03 04:05:06+02" };
    const [a, s] = [roleName("Create_A"), roleName("create_s")];
    assert.equal(await adb.admin.createRole(a, options), true);
    assert.equal(db.createRole(s, options), true);
    for (const name of [a, s]) {
      const row = (await catalogRole(name))!;
      assert.match(row.password!, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
      assert.deepEqual({ ...row, password: undefined }, {
        login: true, superuser: false, createdb: true, createrole: true, inherit: false, replication: false, connlimit: 7, validuntil: "2031-02-03 02:05:06", password: undefined,
      });
    }
    assert.notEqual((await catalogRole(a))!.password, (await catalogRole(s))!.password, "a fresh salt per role");
  });

  test("createRole defaults: can log in, inherits, no password; ifNotExists answers false and changes nothing", async () => {
    const name = roleName("defaults");
    assert.equal(await adb.createRole(name), true);
    const row = (await catalogRole(name))!;
    assert.deepEqual([row.login, row.inherit, row.superuser, row.connlimit, row.password, row.validuntil], [true, true, false, -1, null, null]);
    assert.equal(await adb.admin.createRole(name, { ifNotExists: true, connectionLimit: 3, password: "x-unused" }), false);
    assert.equal(db.admin.createRole(name, { ifNotExists: true, connectionLimit: 3 }), false);
    assert.deepEqual(await catalogRole(name), row);
    // The password is checked even when the role exists and nothing would be sent.
    await sameError(() => adb.createRole(name, { ifNotExists: true, password: "" }), () => db.createRole(name, { ifNotExists: true, password: "" }));
    const err = await sameError(() => adb.createRole(name), () => db.createRole(name));
    assert.ok(err instanceof DuplicateObject);
  });

  test("inRoles makes the new role a member; listRoleMembers reads them back; grantRole/revokeRole", async () => {
    const [g1, g2, m, n] = [roleName("grp1"), roleName("Grp2"), roleName("mem"), roleName("mem2")];
    await adb.createRole(g1, { login: false });
    db.createRole(g2, { login: false });
    await adb.admin.createRole(m, { inRoles: [g1, g2] });
    db.admin.createRole(n, { inRoles: g1 });
    assert.deepEqual(await membersOf(g1), [{ member: m, admin: false }, { member: n, admin: false }].sort((x, y) => (x.member < y.member ? -1 : 1)));
    assert.deepEqual(await adb.admin.listRoleMembers(g2), [m]);
    assert.deepEqual(db.listRoleMembers(g1), [m, n].sort());
    await adb.admin.revokeRole(g1, m);
    db.revokeRole(g1, n);
    assert.deepEqual(await membersOf(g1), []);
    await adb.grantRole(g1, m, { withAdmin: true });
    db.admin.grantRole(g1, n);
    assert.deepEqual(await membersOf(g1), [{ member: m, admin: true }, { member: n, admin: false }].sort((x, y) => (x.member < y.member ? -1 : 1)));
    assert.deepEqual(await adb.listRoleMembers(g1), db.admin.listRoleMembers(g1));
    const missing = `tscopg_missing_${suffix}`;
    const err = await sameError(() => adb.listRoleMembers(missing), () => db.listRoleMembers(missing));
    assert.ok(err instanceof UndefinedObject);
    assert.equal(err.message, `role "${missing}" does not exist`);
    await sameError(() => adb.grantRole(g1, missing), () => db.grantRole(g1, missing), UndefinedObject);
  });

  test("roleExists and listRoles, async and sync alike", async () => {
    const name = roleName("Listed");
    await adb.createRole(name, { login: false, createdb: true, connectionLimit: 2, validUntil: new Date(Date.UTC(2032, 5, 6)) });
    assert.equal(await adb.roleExists(name), true);
    assert.equal(db.admin.roleExists(name), true);
    assert.equal(await adb.admin.roleExists(`nope_${suffix}`), false);
    const mine = (roles: { name: string }[]) => roles.filter((r) => r.name === name);
    const entry = { name, superuser: false, createrole: false, createdb: true, login: false, replication: false, connectionLimit: 2, validUntil: new Date(Date.UTC(2032, 5, 6)) };
    assert.deepEqual(mine(await adb.listRoles()), [entry]);
    assert.deepEqual(mine(db.admin.listRoles()), [entry]);
    const all = await adb.admin.listRoles();
    assert.ok(!all.some((r) => r.name.startsWith("pg_")), "no predefined roles by default");
    assert.deepEqual(all.map((r) => r.name), [...all.map((r) => r.name)].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    assert.ok(db.listRoles({ includeSystem: true }).some((r) => r.name === "pg_monitor"));
    await adb.alterRole(name, { validUntil: "infinity" });
    assert.deepEqual(mine(await adb.listRoles()), [{ ...entry, validUntil: "infinity" }]);
  });

  test("alterRole changes attributes and password; with renameTo both apply, or neither", async () => {
    const [a, b, taken] = [roleName("alter_a"), roleName("alter_b"), roleName("taken")];
    await adb.createRole(a, { password: "first" });
    db.createRole(taken);
    const before = (await catalogRole(a))!.password;
    await adb.admin.alterRole(a, { login: false, superuser: false, createdb: true, createrole: true, inherit: false, replication: false, connectionLimit: 4, validUntil: "2030-01-01", password: "second" });
    const row = (await catalogRole(a))!;
    assert.deepEqual([row.login, row.createdb, row.createrole, row.inherit, row.connlimit, row.validuntil !== null], [false, true, true, false, 4, true]);
    assert.notEqual(row.password, before);
    assert.match(row.password!, /^SCRAM-SHA-256\$/);
    db.alterRole(a, { password: null });
    assert.equal((await catalogRole(a))!.password, null);
    // Rename taken: the attributes sent with it are not applied either.
    const err = await sameError(() => adb.alterRole(a, { connectionLimit: 9, renameTo: taken }), () => db.alterRole(a, { connectionLimit: 9, renameTo: taken }));
    assert.ok(err instanceof DuplicateObject);
    assert.equal((await catalogRole(a))!.connlimit, 4);
    made.add(b);
    db.admin.alterRole(a, { connectionLimit: 9, renameTo: b });
    assert.equal(await catalogRole(a), undefined);
    assert.equal((await catalogRole(b))!.connlimit, 9);
    await refusedBeforeSending(ctx.config, [
      [(q) => q.alterRole(b, {}), Error, /alterRole\(\): nothing to change/],
      [(q) => q.alterRole(b, { renameTo: "bad name" }), InvalidIdentifier],
      [(q) => q.alterRole(b, { connectionLimit: -2 }), ParameterError],
      [(q) => q.alterRole(b, { validUntil: "2030-02-30" }), ParameterError],
    ]);
    await sameError(() => adb.alterRole(`nope_${suffix}`, { login: true }), () => db.alterRole(`nope_${suffix}`, { login: true }), UndefinedObject);
  });

  test("dropRole drops; a missing role is fine unless ifExists is false", async () => {
    const [a, s] = [roleName("drop_a"), roleName("drop_s")];
    await adb.createRole(a);
    db.createRole(s);
    await adb.admin.dropRole(a);
    db.dropRole(s);
    assert.deepEqual([await catalogRole(a), await catalogRole(s)], [undefined, undefined]);
    await adb.dropRole(a);
    db.admin.dropRole(s);
    const err = await sameError(() => adb.dropRole(a, { ifExists: false }), () => db.dropRole(a, { ifExists: false }));
    assert.ok(err instanceof UndefinedObject);
  });

  test("inside a transaction the statements join it and roll back with it, async and sync", async () => {
    const [a, s] = [roleName("tx_a"), roleName("tx_s")];
    await adb.transaction(async (tx) => {
      assert.equal(await tx.admin.createRole(a, { password: "in-tx" }), true);
      await adb.admin.alterRole(a, { connectionLimit: 5 }); // the database's own method joins the ambient transaction
      assert.equal(await tx.roleExists(a), true);
      assert.equal((await tx.listRoles()).find((r) => r.name === a)?.connectionLimit, 5);
      assert.equal(await catalogRole(a), undefined, "not visible outside before commit");
      await tx.rollback();
    });
    assert.equal(await catalogRole(a), undefined);
    assert.throws(() =>
      db.transaction((tx) => {
        tx.createRole(s);
        assert.equal(db.admin.roleExists(s), true);
        throw new Error("roll back");
      }), /roll back/);
    assert.equal(await catalogRole(s), undefined);
  });

  test("bad names, options and passwords are refused before anything is sent, the same on both sides", async () => {
    const name = roleName("refused");
    const calls: [string, unknown[], new (...a: never[]) => Error][] = [
      ["createRole", ["bad;name"], InvalidIdentifier],
      ["createRole", [name, { inRoles: ["ok", "x\"y"] }], InvalidIdentifier],
      ["createRole", [name, { connectionLimit: true }], ParameterError],
      ["createRole", [name, { connectionLimit: 1.5 }], ParameterError],
      ["createRole", [name, { validUntil: "soon" }], ParameterError],
      ["createRole", [name, { password: "" }], ParameterError],
      ["createRole", [name, { password: "nul\u0000inside" }], ParameterError],
      ["createRole", [name, { passwd: "x" }], ParameterError],
      ["createRole", [name, { password: "ok", ifNotExists: "yes" }], ParameterError],
      ["dropRole", ["a".repeat(64)], InvalidIdentifier],
      ["roleExists", ["x\u202e"], InvalidIdentifier],
      ["grantRole", [name, "x y"], InvalidIdentifier],
      ["revokeRole", ["", name], InvalidIdentifier],
      ["listRoleMembers", ["a.b"], InvalidIdentifier],
      ["listRoles", [{ system: true }], ParameterError],
    ];
    const errors = await refusedBeforeSending(ctx.config, casesByName(calls), (q) => q.roleExists(name));
    for (const err of errors) assert.ok(!err.message.includes("nul\u0000inside"), "the password is not shown");
    assert.equal(await catalogRole(name), undefined);
  });

  test("a failing statement with a password shows neither the password nor its verifier (query, message, inspect)", async () => {
    const name = roleName("secret");
    const password = "Tr0ub4dor&3-unique";
    await adb.createRole(name);
    const verifierHint = "SCRAM-SHA-256$";
    const cases: [() => Promise<unknown>, () => unknown][] = [
      [() => adb.createRole(name, { password }), () => db.createRole(name, { password })],
      [() => adb.alterRole(`nope_${suffix}`, { password }), () => db.admin.alterRole(`nope_${suffix}`, { password })],
    ];
    for (const [a, s] of cases) {
      const err = await sameError(a, s);
      assert.ok(err instanceof TscopgError);
      assert.match(err.query!, /PASSWORD '\*\*\*'/);
      let syncErr: unknown;
      try {
        s();
      } catch (e) {
        syncErr = e;
      }
      for (const e of [err, syncErr as Error]) {
        for (const text of [e.message, String(e), e.stack ?? "", inspect(e, { depth: 5 }), JSON.stringify({ ...e }), (e as TscopgError).query ?? ""]) {
          assert.ok(!text.includes(password), `the password shows in: ${text}`);
          assert.ok(!text.includes(verifierHint), `the verifier shows in: ${text}`);
        }
      }
    }
  });
});

describe("passwords really work (a throwaway server that requires scram-sha-256)", () => {
  let server: PasswordServer;
  let sadb: AsyncDatabase;
  let sdb: Database;

  before(async () => {
    server = await startPasswordServer();
    await server.flushLog(`tscopg-start-${suffix}`);
    sadb = new AsyncDatabase(Config.fromUrl(server.url));
    sdb = new Database(Config.fromUrl(server.url));
  });

  after(async () => {
    sdb?.close();
    await sadb?.close();
    await server?.stop();
  });

  const failsLogin = (user: string, password: string, pattern = /password authentication failed/) =>
    assert.rejects(server.login(user, password), pattern);

  test("the role logs in with its password and not with another; the server never saw the clear password", async () => {
    const ascii = "correct horse battery staple";
    const unicode = "\u2168-p\u00e4ss\u00a0w\u00f6rd"; // SASLprep maps and normalises it (Ⅸ → IX, no-break space → space)
    await sadb.admin.createRole("app_async", { password: ascii });
    sdb.admin.createRole("App_Sync", { password: unicode });
    assert.equal(await server.login("app_async", ascii), "app_async");
    assert.equal(await server.login("App_Sync", unicode), "App_Sync");
    await failsLogin("app_async", "correct horse battery stapl");
    await failsLogin("App_Sync", ascii);
    const stored = await sadb.fetchAll<{ p: string }>("SELECT rolpassword AS p FROM pg_authid WHERE rolname IN ('app_async', 'App_Sync')");
    assert.equal(stored.length, 2);
    for (const { p } of stored) assert.match(p, /^SCRAM-SHA-256\$4096:/);
    await server.flushLog(`tscopg-created-${suffix}`);
    const log = server.log();
    assert.match(log, /CREATE ROLE "app_async" WITH LOGIN INHERIT PASSWORD 'SCRAM-SHA-256\$4096:/, "the statement was logged");
    assert.match(log, /CREATE ROLE "App_Sync" WITH LOGIN INHERIT PASSWORD 'SCRAM-SHA-256\$4096:/);
    for (const secret of [ascii, unicode, "IX-päss wörd"]) assert.ok(!log.includes(secret), "the clear password is not in the server log");
  });

  test("alterRole: a new password replaces the old; validUntil in the past and NOLOGIN shut the door", async () => {
    await sadb.createRole("app_alter", { password: "old-password" });
    await sadb.admin.alterRole("app_alter", { password: "new-password" });
    assert.equal(await server.login("app_alter", "new-password"), "app_alter");
    await failsLogin("app_alter", "old-password");
    sdb.alterRole("app_alter", { validUntil: new Date(Date.UTC(2001, 0, 1)) });
    await failsLogin("app_alter", "new-password");
    sdb.alterRole("app_alter", { validUntil: "infinity", login: false });
    await failsLogin("app_alter", "new-password", /not permitted to log in/);
    await sadb.alterRole("app_alter", { login: true, renameTo: "app_renamed" });
    assert.equal(await server.login("app_renamed", "new-password"), "app_renamed", "a SCRAM verifier survives a rename");
    await server.flushLog(`tscopg-altered-${suffix}`);
    for (const secret of ["old-password", "new-password"]) assert.ok(!server.log().includes(secret));
  });
});
