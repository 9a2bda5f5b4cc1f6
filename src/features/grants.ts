/**
 * Grants (`db.admin`): privileges on tables, sequences, functions, schemas, databases…, granted, revoked and
 * listed. Privileges and object types come from explicit lists (per object type, the privileges PostgreSQL
 * defines for it); names are validated and quoted; `PUBLIC` is accepted as a grantee.
 *
 * Every statement runs on the executor it is called on, so inside `db.transaction(async tx => …)` it joins the
 * transaction (and rolls back with it).
 * @module
 */
import { checkOptions } from "../core/options.js";
import { InvalidIdentifier, ParameterError } from "../errors.js";
import { ident, join, keyword, pickKeyword, sql, type Sql } from "../sql/compose.js";
import { validateIdentifier, type IdentifierKind } from "../sql/identifiers.js";
import type { Executor } from "./registry.js";
import { roleNotFound } from "./roles.js";
import { requireTable, target } from "./target.js";

/** The object types {@link grant} and {@link revoke} take (`objectType`, any case). */
export const OBJECT_TYPES = [
  "TABLE",
  "SEQUENCE",
  "FUNCTION",
  "PROCEDURE",
  "ROUTINE",
  "SCHEMA",
  "DATABASE",
  "TABLESPACE",
  "TYPE",
  "DOMAIN",
  "LANGUAGE",
  "FOREIGN DATA WRAPPER",
  "FOREIGN SERVER",
  "PARAMETER",
] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

/** The privileges each object type has (PostgreSQL's GRANT); `ALL` and `ALL PRIVILEGES` are valid for all. */
export const PRIVILEGES: Readonly<Record<ObjectType, readonly string[]>> = {
  TABLE: ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"],
  SEQUENCE: ["USAGE", "SELECT", "UPDATE"],
  FUNCTION: ["EXECUTE"],
  PROCEDURE: ["EXECUTE"],
  ROUTINE: ["EXECUTE"],
  SCHEMA: ["USAGE", "CREATE"],
  DATABASE: ["CREATE", "CONNECT", "TEMPORARY", "TEMP"],
  TABLESPACE: ["CREATE"],
  TYPE: ["USAGE"],
  DOMAIN: ["USAGE"],
  LANGUAGE: ["USAGE"],
  "FOREIGN DATA WRAPPER": ["USAGE"],
  "FOREIGN SERVER": ["USAGE"],
  PARAMETER: ["SET", "ALTER SYSTEM"],
};

/** `on` values naming every object of a kind in a schema, and the object type each implies. */
const BULK: readonly (readonly [string, ObjectType])[] = [
  ["ALL TABLES", "TABLE"],
  ["ALL SEQUENCES", "SEQUENCE"],
  ["ALL FUNCTIONS", "FUNCTION"],
  ["ALL PROCEDURES", "PROCEDURE"],
  ["ALL ROUTINES", "ROUTINE"],
];

/** Object types that live in a schema (named `"schema"."name"`, schema option default `public`), with the kind of name. */
const IN_SCHEMA: Partial<Record<ObjectType, IdentifierKind>> = {
  TABLE: "table",
  SEQUENCE: "sequence",
  FUNCTION: "function",
  PROCEDURE: "function",
  ROUTINE: "function",
  TYPE: "identifier",
  DOMAIN: "identifier",
};
/** The kind of name of the other object types. */
const GLOBAL_KIND: Partial<Record<ObjectType, IdentifierKind>> = { SCHEMA: "schema", DATABASE: "database" };

/** Options of {@link grant}. */
export interface GrantOptions {
  /** What `on` names (any case; default `TABLE`, or what `ALL TABLES`/`ALL SEQUENCES`/… implies). See {@link OBJECT_TYPES}. */
  objectType?: string | undefined;
  /** Schema of the objects, for the types that live in one (default `public`); `on` may also say `"schema.name"`. */
  schema?: string | undefined;
  /** `WITH GRANT OPTION` (not for `PUBLIC`). Default false. */
  withGrantOption?: boolean | undefined;
}

/** Options of {@link revoke}. */
export interface RevokeOptions {
  objectType?: string | undefined;
  schema?: string | undefined;
  /** `CASCADE`: also revoke what the grantee granted on from this privilege's grant option. Default false. */
  cascade?: boolean | undefined;
  /** `REVOKE GRANT OPTION FOR`: keep the privilege, remove only the right to grant it. Default false. */
  grantOptionOnly?: boolean | undefined;
}

/** Privileges as a string (comma-separated) or a list. */
export type Privileges = string | readonly string[];
/** One or more names; for grantees, `PUBLIC` (any case) is the pseudo-role every role is a member of. */
export type Names = string | readonly string[];

/** A privilege a role holds, as {@link listRoleGrants} gives it. */
export interface RoleGrant {
  /** `TABLE` (tables, views, materialized views, foreign tables), `SEQUENCE`, `FUNCTION`, `PROCEDURE`, `SCHEMA` or `DATABASE`. */
  objectType: "TABLE" | "SEQUENCE" | "FUNCTION" | "PROCEDURE" | "SCHEMA" | "DATABASE";
  /** The object's schema; `null` for schemas and databases. */
  schema: string | null;
  name: string;
  /** For functions and procedures, the argument types (`integer, text`); else `null`. */
  arguments: string | null;
  /** `SELECT`, `INSERT`, …, `USAGE`, `CREATE`, `CONNECT`, `TEMPORARY`, `EXECUTE`. */
  privilege: string;
  /** Whether the role may grant it on (WITH GRANT OPTION). */
  grantable: boolean;
}

/** The privileges, checked against the object type's list; `ALL` alone. */
export function privilegeList(privileges: unknown, type: ObjectType): Sql {
  let items: unknown[];
  if (typeof privileges === "string") items = privileges.split(",");
  else if (Array.isArray(privileges)) items = privileges;
  else throw new ParameterError(`privileges must be a string or an array, got ${privileges === null ? "null" : typeof privileges}`);
  if (items.length === 0) throw new ParameterError("privileges must name at least one privilege");
  const allowed = [...PRIVILEGES[type], "ALL", "ALL PRIVILEGES"];
  const picked = [...new Set(items.map((p) => pickKeyword(typeof p === "string" ? p.trim() : p, allowed, `${type} privilege`)))];
  if (picked.length > 1 && picked.some((p) => p.startsWith("ALL"))) {
    throw new InvalidIdentifier(`ALL cannot be combined with other privileges (got ${picked.join(", ")})`, privileges);
  }
  return join(picked.map((p) => keyword(p, allowed, `${type} privilege`)));
}

/** The object type and the `ON …` clause: `TABLE "s"."t", …`, `ALL TABLES IN SCHEMA "s"`, `SCHEMA "s"`, … */
export function objectClause(method: string, on: unknown, objectType: unknown, schema: string | undefined): { type: ObjectType; sql: Sql; tables: { schema: string; name: string }[] } {
  const bulk = typeof on === "string" ? BULK.find(([k]) => on.trim().replace(/\s+/g, " ").toUpperCase() === k) : undefined;
  const type = objectType === undefined ? (bulk?.[1] ?? "TABLE") : pickKeyword(objectType, OBJECT_TYPES, "object type");
  if (bulk) {
    if (bulk[1] !== type) throw new ParameterError(`${method}(): on ${JSON.stringify(bulk[0])} is for object type ${bulk[1]}, not ${type}`);
    const allOf = { TABLE: sql`ALL TABLES`, SEQUENCE: sql`ALL SEQUENCES`, FUNCTION: sql`ALL FUNCTIONS`, PROCEDURE: sql`ALL PROCEDURES`, ROUTINE: sql`ALL ROUTINES` }[type as "TABLE"];
    return { type, sql: sql`${allOf} IN SCHEMA ${ident(schema ?? "public", "schema")}`, tables: [] };
  }
  const names = typeof on === "string" ? [on] : Array.isArray(on) ? (on as unknown[]) : undefined;
  if (names === undefined) throw new InvalidIdentifier(`${method}(): on must be a name or a list of names`, on);
  if (names.length === 0) throw new ParameterError(`${method}(): on must name at least one object`);
  const kind = IN_SCHEMA[type];
  if (kind === undefined && schema !== undefined) throw new ParameterError(`${method}(): the schema option does not apply to object type ${type}`);
  const targets = kind === undefined ? [] : names.map((n) => target(method, n, schema, kind));
  const objects = kind === undefined ? names.map((n) => ident(n, GLOBAL_KIND[type] ?? "identifier")) : targets.map((t) => t.sql);
  return { type, sql: sql`${keyword(type, OBJECT_TYPES, "object type")} ${objects}`, tables: type === "TABLE" ? targets.map((t) => ({ schema: t.schema, name: t.name })) : [] };
}

/** Grantees: role names, or `PUBLIC` (any case) for everyone. */
export function granteeList(method: string, to: unknown): { sql: Sql; hasPublic: boolean } {
  const names = typeof to === "string" ? [to] : Array.isArray(to) ? (to as unknown[]) : undefined;
  if (names === undefined) throw new InvalidIdentifier(`${method}(): the grantee must be a role name or a list of them`, to);
  if (names.length === 0) throw new ParameterError(`${method}(): name at least one grantee`);
  const isPublic = (n: unknown) => typeof n === "string" && n.toUpperCase() === "PUBLIC";
  return { sql: join(names.map((n) => (isPublic(n) ? sql`PUBLIC` : ident(n, "role")))), hasPublic: names.some(isPublic) };
}

/** `GRANT privileges ON object TO grantees [WITH GRANT OPTION]` and the tables it names. */
export function grantStatement(privileges: Privileges, on: Names, to: Names, o: GrantOptions = {}): { sql: Sql; tables: { schema: string; name: string }[] } {
  const object = objectClause("grant", on, o.objectType, o.schema);
  const privs = privilegeList(privileges, object.type);
  const grantees = granteeList("grant", to);
  if (o.withGrantOption === true && grantees.hasPublic) throw new ParameterError("grant(): withGrantOption cannot be given to PUBLIC (grant options go to roles only)");
  return { sql: sql`GRANT ${privs} ON ${object.sql} TO ${grantees.sql} ${o.withGrantOption === true && sql`WITH GRANT OPTION`}`, tables: object.tables };
}

/** `REVOKE [GRANT OPTION FOR] privileges ON object FROM grantees [CASCADE]` and the tables it names. */
export function revokeStatement(privileges: Privileges, on: Names, fromRole: Names, o: RevokeOptions = {}): { sql: Sql; tables: { schema: string; name: string }[] } {
  const object = objectClause("revoke", on, o.objectType, o.schema);
  const privs = privilegeList(privileges, object.type);
  const grantees = granteeList("revoke", fromRole);
  const stmt = sql`REVOKE ${o.grantOptionOnly === true && sql`GRANT OPTION FOR`} ${privs} ON ${object.sql} FROM ${grantees.sql} ${o.cascade === true && sql`CASCADE`}`;
  return { sql: stmt, tables: object.tables };
}

/** Checks named tables exist (a {@link TableNotFound} naming schema and table, rather than the server's bare 42P01). */
async function requireTables(db: Executor, tables: { schema: string; name: string }[]): Promise<void> {
  for (const t of tables) await requireTable(db, target("grant", t.name, t.schema));
}

/**
 * Grants `privileges` (a string, comma-separated allowed, or a list; from the object type's list in
 * {@link PRIVILEGES}, or `ALL`) on `on` to `to` (`GRANT`).
 *
 * `on` is one name or a list (for types that live in a schema, `"name"` in the `schema` option, default `public`,
 * or `"schema.name"`), or `"ALL TABLES"` / `"ALL SEQUENCES"` / `"ALL FUNCTIONS"` / `"ALL PROCEDURES"` /
 * `"ALL ROUTINES"` for every such object of the schema (`… IN SCHEMA s`; the object type follows). Functions are
 * named without argument types, so the name must be unique in its schema. `objectType` (any case, default
 * `TABLE`): one of {@link OBJECT_TYPES}. `to`: a role, a list of roles, or `PUBLIC`. `withGrantOption`: default
 * false. Joins the ambient transaction.
 * @throws {@link InvalidIdentifier} for a bad name, privilege or object type; {@link ParameterError} for a bad
 * option or combination (nothing sent); {@link TableNotFound} for a missing table; `UndefinedObject` for a
 * missing role (or other object); `UndefinedFunction` for a missing function.
 */
export async function grant(db: Executor, privileges: Privileges, on: Names, to: Names, options?: GrantOptions): Promise<void> {
  const o = checkOptions("grant", options, { objectType: "string", schema: "string", withGrantOption: "boolean" });
  const stmt = grantStatement(privileges, on, to, o);
  await requireTables(db, stmt.tables);
  await db.execute(stmt.sql.text);
}

/**
 * Revokes `privileges` on `on` from `fromRole` (`REVOKE`); the arguments are as {@link grant}'s. `cascade`
 * (default false) also revokes what depends on it; `grantOptionOnly` (default false) removes only the grant
 * option. Revoking a privilege that was not granted is not an error (the server warns). Joins the ambient
 * transaction.
 * @throws as {@link grant}; `DependentPrivilegeDescriptorsStillExist` when others hold the privilege through
 * the grant option and `cascade` is not set.
 */
export async function revoke(db: Executor, privileges: Privileges, on: Names, fromRole: Names, options?: RevokeOptions): Promise<void> {
  const o = checkOptions("revoke", options, { objectType: "string", schema: "string", cascade: "boolean", grantOptionOnly: "boolean" });
  const stmt = revokeStatement(privileges, on, fromRole, o);
  await requireTables(db, stmt.tables);
  await db.execute(stmt.sql.text);
}

/** The privileges held by the role `$1` on relations, functions, schemas and databases (`$2`: include system ones). */
const ROLE_GRANTS_SQL = `
WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1),
g AS (
  SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS "objectType", n.nspname::text AS schema,
    c.relname::text AS name, NULL::text AS arguments, a.privilege_type AS privilege, a.is_grantable AS grantable
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
      aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND a.grantee = (SELECT oid FROM r)
      AND ($2 OR (n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'))
  UNION ALL
  SELECT CASE WHEN p.prokind = 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, n.nspname::text, p.proname::text,
    pg_get_function_identity_arguments(p.oid), a.privilege_type, a.is_grantable
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    WHERE a.grantee = (SELECT oid FROM r) AND ($2 OR (n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'))
  UNION ALL
  SELECT 'SCHEMA', NULL, n.nspname::text, NULL, a.privilege_type, a.is_grantable
    FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
    WHERE a.grantee = (SELECT oid FROM r) AND ($2 OR (n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'))
  UNION ALL
  SELECT 'DATABASE', NULL, d.datname::text, NULL, a.privilege_type, a.is_grantable
    FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
    WHERE a.grantee = (SELECT oid FROM r) AND ($2 OR NOT d.datistemplate)
)
SELECT EXISTS (SELECT 1 FROM r) AS found,
  coalesce((SELECT json_agg(g ORDER BY "objectType", schema, name, arguments, privilege) FROM g), '[]') AS grants`;

/**
 * Every privilege role `role` holds directly, one entry per privilege: on tables (also views, materialized and
 * foreign tables), sequences, functions and procedures, schemas and databases (pycopg: tables only). An owner's
 * implicit privileges are included; privileges held through `PUBLIC` or through membership of another role
 * are not. Without `includeSystem` (default false), objects of `pg_*` schemas and `information_schema`, those
 * schemas, and template databases are left out. Sorted by object type, schema, name, privilege.
 * @throws `UndefinedObject` if the role does not exist (pycopg answers `[]`).
 */
export async function listRoleGrants(db: Executor, role: string, options?: { includeSystem?: boolean | undefined }): Promise<RoleGrant[]> {
  const { includeSystem = false } = checkOptions("listRoleGrants", options, { includeSystem: "boolean" });
  validateIdentifier(role, "role");
  const row = await db.fetchOne<{ found: boolean; grants: RoleGrant[] }>(ROLE_GRANTS_SQL, [role, includeSystem]);
  if (row?.found !== true) throw roleNotFound(role);
  return row.grants;
}

export const grantFeatures = { grant, revoke, listRoleGrants };
