/**
 * Roles (`db.admin`): create, alter, drop, check, list, and role membership. Passwords are hashed here, into the
 * SCRAM-SHA-256 verifier PostgreSQL stores (see `scram-verifier.ts`): the clear password is never sent.
 *
 * Roles are cluster-wide. Every statement runs on the executor it is called on, so inside
 * `db.transaction(async tx => …)` it joins the transaction (and rolls back with it).
 * @module
 */
import { checkOptions } from "../core/options.js";
import { ParameterError, TscopgError, UndefinedObject } from "../errors.js";
import { ident, idents, integer, join, literal, sql, type Sql } from "../sql/compose.js";
import { describeValue, validateIdentifier } from "../sql/identifiers.js";
import type { Executor } from "./registry.js";
import { checkPassword, scramSha256Verifier } from "./scram-verifier.js";

/** Role attributes both {@link createRole} and {@link alterRole} set. */
export interface RoleAttributes {
  /**
   * The role's password, sent only as its SCRAM-SHA-256 verifier (computed here; the clear password never
   * reaches the server, its logs, an error message or `error.query`). `null` removes the password (alterRole).
   */
  password?: string | null | undefined;
  /** `LOGIN` / `NOLOGIN`. */
  login?: boolean | undefined;
  /** `SUPERUSER` / `NOSUPERUSER`. */
  superuser?: boolean | undefined;
  /** `CREATEDB` / `NOCREATEDB`. */
  createdb?: boolean | undefined;
  /** `CREATEROLE` / `NOCREATEROLE`. */
  createrole?: boolean | undefined;
  /** `INHERIT` / `NOINHERIT`. */
  inherit?: boolean | undefined;
  /** `REPLICATION` / `NOREPLICATION`. */
  replication?: boolean | undefined;
  /** `CONNECTION LIMIT`: an integer ≥ -1 (-1: no limit). */
  connectionLimit?: number | undefined;
  /**
   * `VALID UNTIL`: when the password stops being valid. A `Date`, or a string: `infinity`, or an ISO date with
   * an optional time (`T` or a space), fraction (up to 6 digits) and zone (`Z`, `+02`, `+02:00`, `-0530`); a time
   * without a zone is read in the session's TimeZone. Checked strictly (a real calendar date) before sending.
   */
  validUntil?: Date | string | undefined;
}

/** Options of {@link createRole}. */
export interface CreateRoleOptions extends RoleAttributes {
  /** Roles the new role becomes a member of (`IN ROLE …`). */
  inRoles?: string | readonly string[] | undefined;
  /** Do nothing (and answer `false`) when the role exists. Default `false`: an existing role is a `DuplicateObject`. */
  ifNotExists?: boolean | undefined;
}

/** Options of {@link alterRole}. */
export interface AlterRoleOptions extends RoleAttributes {
  /** New name (`ALTER ROLE … RENAME TO`), applied after the other options, in the same implicit transaction. */
  renameTo?: string | undefined;
}

/** A role as {@link listRoles} gives it. */
export interface RoleInfo {
  name: string;
  superuser: boolean;
  createrole: boolean;
  createdb: boolean;
  login: boolean;
  replication: boolean;
  /** -1: no limit. */
  connectionLimit: number;
  /** When the password expires: a Date, `"infinity"`, `"-infinity"`, or `null` (never set). */
  validUntil: Date | "infinity" | "-infinity" | null;
}

const ATTRIBUTE_SHAPE = {
  password: "string?",
  login: "boolean",
  superuser: "boolean",
  createdb: "boolean",
  createrole: "boolean",
  inherit: "boolean",
  replication: "boolean",
  connectionLimit: "number",
  validUntil: "date|string",
} as const;

/** The boolean attributes, each with its keyword pair (constants). */
const FLAGS: readonly [keyof RoleAttributes, Sql, Sql][] = [
  ["login", sql`LOGIN`, sql`NOLOGIN`],
  ["superuser", sql`SUPERUSER`, sql`NOSUPERUSER`],
  ["createdb", sql`CREATEDB`, sql`NOCREATEDB`],
  ["createrole", sql`CREATEROLE`, sql`NOCREATEROLE`],
  ["inherit", sql`INHERIT`, sql`NOINHERIT`],
  ["replication", sql`REPLICATION`, sql`NOREPLICATION`],
];

const TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

/**
 * `validUntil` as a literal: `'infinity'`, `'-infinity'` or a checked ISO timestamp (a `Date` is sent in UTC).
 * @throws {@link ParameterError} for an invalid Date, a string of another form, or a date that does not exist.
 */
export function validUntilLiteral(method: string, value: unknown): Sql {
  const bad = (why: string): never => {
    throw new ParameterError(`${method}(): invalid validUntil ${describeValue(value)}: ${why}`);
  };
  let text: string;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) bad("an invalid Date");
    text = value.toISOString();
  } else if (typeof value === "string") {
    if (/^-?infinity$/i.test(value)) return literal(value.toLowerCase());
    text = value;
  } else {
    return bad("expected a Date or a string");
  }
  const m = TIMESTAMP_RE.exec(text);
  if (!m) return bad("expected infinity or an ISO date/time (YYYY-MM-DD[Thh:mm[:ss[.ffffff]]][Z|±hh[:mm]])");
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const daysInMonth = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (year < 1 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return bad("not a real date and time");
  if (m[7] !== undefined && (Number(m[8]) > 15 || Number(m[9] ?? 0) > 59)) return bad("not a real time zone offset");
  return literal(text);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** The role names of `inRoles`-like input (a name or a list), validated. */
function roleList(value: string | readonly string[]): Sql {
  return idents(typeof value === "string" ? [value] : value, "role");
}

/**
 * The attribute clauses, in a fixed order; `verifier` is the password's SCRAM verifier (`null`: `PASSWORD NULL`).
 * Checks every value (throws {@link ParameterError}) — it never sees the clear password.
 */
export function roleAttributeClauses(method: string, o: RoleAttributes, verifier: string | null | undefined): Sql[] {
  const out: Sql[] = [];
  for (const [key, yes, no] of FLAGS) if (o[key] !== undefined) out.push(o[key] ? yes : no);
  if (o.connectionLimit !== undefined) out.push(sql`CONNECTION LIMIT ${integer(o.connectionLimit, "connectionLimit", -1, 2 ** 31 - 1)}`);
  if (o.validUntil !== undefined) out.push(sql`VALID UNTIL ${validUntilLiteral(method, o.validUntil)}`);
  if (verifier === null) out.push(sql`PASSWORD NULL`);
  else if (verifier !== undefined) out.push(sql`PASSWORD ${literal(verifier)}`);
  return out;
}

/** `CREATE ROLE "name" WITH …` (login defaults to true, inherit to true). */
export function createRoleStatement(name: string, o: CreateRoleOptions, verifier?: string): Sql {
  const clauses = roleAttributeClauses("createRole", { ...o, login: o.login ?? true, inherit: o.inherit ?? true }, verifier);
  const inRoles = o.inRoles !== undefined && (typeof o.inRoles === "string" || o.inRoles.length > 0) ? sql`IN ROLE ${roleList(o.inRoles)}` : undefined;
  return sql`CREATE ROLE ${ident(name, "role")} WITH ${join([...clauses, inRoles], " ")}`;
}

/**
 * `ALTER ROLE "name" WITH …`, then `ALTER ROLE "name" RENAME TO "new"` when asked: one string of one or two
 * statements (two run as one implicit transaction: both apply or neither).
 * @throws {@link ParameterError} when there is nothing to change.
 */
export function alterRoleStatement(name: string, o: AlterRoleOptions, verifier?: string | null): Sql {
  const role = ident(name, "role");
  const clauses = roleAttributeClauses("alterRole", o, verifier);
  const rename = o.renameTo !== undefined ? sql`ALTER ROLE ${role} RENAME TO ${ident(o.renameTo, "role")}` : undefined;
  if (clauses.length === 0 && rename === undefined) throw new ParameterError("alterRole(): nothing to change (give at least one option)");
  const alter = clauses.length > 0 ? sql`ALTER ROLE ${role} WITH ${join(clauses, " ")}` : undefined;
  return alter && rename ? sql`${alter}; ${rename}` : (alter ?? rename)!;
}

/**
 * Runs a statement that may carry a password verifier: if it fails, the verifier is replaced with `***` in the
 * error's `query` and message (the server never echoes it, but a statement text is no place for it either).
 */
async function runWithSecret(db: Executor, stmt: Sql, verifier: string | null | undefined): Promise<void> {
  try {
    await db.execute(stmt.text);
  } catch (err) {
    if (typeof verifier === "string" && err instanceof TscopgError) {
      if (typeof err.query === "string") err.query = err.query.split(verifier).join("***");
      if (err.message.includes(verifier)) err.message = err.message.split(verifier).join("***");
    }
    throw err;
  }
}

/** The verifier for a given password option (`undefined`: none given, `null`: remove). */
function verifierOf(method: string, password: string | null | undefined): string | null | undefined {
  if (password === undefined || password === null) return password;
  checkPassword(method, password);
  return scramSha256Verifier(password);
}

/**
 * Creates role `name` (`CREATE ROLE`). Options (booleans emit their keyword or its `NO` form; left out, the
 * server's default applies): `password` (hashed here into a SCRAM-SHA-256 verifier; the clear password is never
 * sent), `login` (default **true**), `superuser`, `createdb`, `createrole`, `inherit` (default true),
 * `replication`, `connectionLimit` (integer ≥ -1), `validUntil` (Date or ISO string, see {@link RoleAttributes}),
 * `inRoles` (roles it joins, in the same statement), `ifNotExists` (default false).
 *
 * Joins the ambient transaction. With `ifNotExists`, the check and the creation are two statements: a role
 * created in between by another session makes this one fail with `DuplicateObject`.
 * @returns `true` if the role was created, `false` if it existed and `ifNotExists` was set.
 * @throws {@link InvalidIdentifier} for a bad role name (also in `inRoles`); {@link ParameterError} for a bad
 * option (nothing sent); `DuplicateObject` if the role exists (without `ifNotExists`); `UndefinedObject` for
 * an `inRoles` role that does not exist.
 */
export async function createRole(db: Executor, name: string, options?: CreateRoleOptions): Promise<boolean> {
  const o = checkOptions("createRole", options, { ...ATTRIBUTE_SHAPE, inRoles: "string|array", ifNotExists: "boolean" });
  // Build everything (validating every name and value) before any statement, and before hashing.
  createRoleStatement(name, { ...o, password: undefined }, undefined);
  if (o.password !== undefined && o.password !== null) checkPassword("createRole", o.password);
  if (o.ifNotExists === true && (await roleExists(db, name))) return false;
  const verifier = verifierOf("createRole", o.password);
  await runWithSecret(db, createRoleStatement(name, o, verifier ?? undefined), verifier);
  return true;
}

/**
 * Changes role `name` (`ALTER ROLE`): the attributes of {@link RoleAttributes} (`password: null` removes the
 * password) and `renameTo`. Attributes and rename may be combined: they are sent as one string of two
 * statements, which the server runs as one transaction (both apply or neither). Joins the ambient transaction.
 * @throws {@link InvalidIdentifier} for a bad name or `renameTo`; {@link ParameterError} for a bad option or
 * none at all (nothing sent); `UndefinedObject` if the role does not exist; `DuplicateObject` if `renameTo` is
 * taken.
 */
export async function alterRole(db: Executor, name: string, options?: AlterRoleOptions): Promise<void> {
  const o = checkOptions("alterRole", options, { ...ATTRIBUTE_SHAPE, renameTo: "string" });
  // Validate first (the placeholder verifier stands for a password, if one is given).
  alterRoleStatement(name, { ...o, password: undefined }, o.password === undefined ? undefined : null);
  const verifier = verifierOf("alterRole", o.password);
  await runWithSecret(db, alterRoleStatement(name, o, verifier), verifier);
}

/**
 * Drops role `name` (`DROP ROLE`); with `ifExists` (default true) a missing role is not an error. Joins the
 * ambient transaction.
 * @throws `DependentObjectsStillExist` while the role owns objects or holds privileges.
 */
export async function dropRole(db: Executor, name: string, options?: { ifExists?: boolean | undefined }): Promise<void> {
  const { ifExists = true } = checkOptions("dropRole", options, { ifExists: "boolean" });
  await db.execute(sql`DROP ROLE ${ifExists && sql`IF EXISTS`} ${ident(name, "role")}`.text);
}

/** Whether role `name` exists. */
export async function roleExists(db: Executor, name: string): Promise<boolean> {
  validateIdentifier(name, "role");
  return (await db.fetchVal<boolean>("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", [name])) === true;
}

/**
 * The roles of the cluster, sorted by name; without `includeSystem` (default false), the predefined `pg_*` roles
 * are left out.
 */
export async function listRoles(db: Executor, options?: { includeSystem?: boolean | undefined }): Promise<RoleInfo[]> {
  const { includeSystem = false } = checkOptions("listRoles", options, { includeSystem: "boolean" });
  return db.execute<RoleInfo>(
    `SELECT rolname::text AS name, rolsuper AS superuser, rolcreaterole AS createrole, rolcreatedb AS createdb,
      rolcanlogin AS login, rolreplication AS replication, rolconnlimit AS "connectionLimit",
      rolvaliduntil AS "validUntil"
      FROM pg_roles WHERE $1 OR rolname !~ '^pg_' ORDER BY rolname`,
    [includeSystem],
  );
}

/**
 * Makes `member` a member of `role` (`GRANT role TO member`), with `withAdmin` (default false) `WITH ADMIN
 * OPTION`. Joins the ambient transaction.
 * @throws `UndefinedObject` if either role does not exist.
 */
export async function grantRole(db: Executor, role: string, member: string, options?: { withAdmin?: boolean | undefined }): Promise<void> {
  const { withAdmin = false } = checkOptions("grantRole", options, { withAdmin: "boolean" });
  await db.execute(sql`GRANT ${ident(role, "role")} TO ${ident(member, "role")} ${withAdmin && sql`WITH ADMIN OPTION`}`.text);
}

/**
 * Removes `member` from `role` (`REVOKE role FROM member`). Joins the ambient transaction. (PostgreSQL only warns
 * when `member` was not a member.)
 * @throws `UndefinedObject` if either role does not exist.
 */
export async function revokeRole(db: Executor, role: string, member: string): Promise<void> {
  await db.execute(sql`REVOKE ${ident(role, "role")} FROM ${ident(member, "role")}`.text);
}

/** The error for a role that does not exist (SQLSTATE 42704, as the server says it). */
export function roleNotFound(name: string): UndefinedObject {
  return new UndefinedObject(`role ${ident(name, "role").text} does not exist`, { code: "42704" });
}

/**
 * The direct members of `role` (roles granted it), sorted.
 * @throws `UndefinedObject` if the role does not exist (pycopg answers `[]`).
 */
export async function listRoleMembers(db: Executor, role: string): Promise<string[]> {
  validateIdentifier(role, "role");
  const row = await db.fetchOne<{ found: boolean; members: string[] }>(
    `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS found,
      ARRAY(SELECT m.rolname::text FROM pg_auth_members am
        JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
        WHERE r.rolname = $1 ORDER BY m.rolname) AS members`,
    [role],
  );
  if (row?.found !== true) throw roleNotFound(role);
  return row.members;
}

export const roleFeatures = { createRole, dropRole, roleExists, listRoles, alterRole, grantRole, revokeRole, listRoleMembers };
