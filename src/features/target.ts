/**
 * What the feature modules share: naming the table a method works on (`"table"` or `"schema.table"`, plus a
 * `schema` option), checking that it exists (a clear {@link TableNotFound} instead of pycopg's 0, -1 or `[]`),
 * and running a statement that PostgreSQL refuses inside a transaction block on a session of its own.
 * @module
 */
import { InvalidSchemaName, ParameterError, TableNotFound } from "../errors.js";
import { splitQualifiedName, validateIdentifiers, type IdentifierKind } from "../sql/identifiers.js";
import { qualified, type Sql } from "../sql/compose.js";
import type { StatementResult } from "../core/statement-result.js";
import type { Executor } from "./registry.js";
import { schemaExists } from "./schemas.js";

/**
 * The column names of a column-list argument or option (a name, or a non-empty array of names), validated.
 * @throws {@link ParameterError} for anything else or an empty array; {@link InvalidIdentifier} for an invalid name.
 */
export function columnList(method: string, what: string, columns: unknown): string[] {
  if (typeof columns === "string") return validateIdentifiers([columns], "column");
  if (!Array.isArray(columns)) throw new ParameterError(`${method}(): ${what} must be a column name or an array of column names`);
  const list = validateIdentifiers(columns, "column");
  if (list.length === 0) throw new ParameterError(`${method}(): ${what} must name at least one column`);
  return list;
}

/** Options naming the schema a table lives in (default `public`; `"schema.table"` also works). */
export interface InSchema {
  schema?: string | undefined;
}

/** The options shape of {@link InSchema} (for `checkOptions`). */
export const IN_SCHEMA = { schema: "string" } as const;

/** A table (or other relation) a method works on. */
export interface Target {
  schema: string;
  name: string;
  /** `"schema"."name"`. */
  sql: Sql;
}

/**
 * Names the relation `name` (`"table"` or `"schema.table"`) in `schema` (default `public`).
 * @throws {@link InvalidIdentifier} for an invalid name; {@link ParameterError} when `name` carries a schema that
 * differs from the `schema` option.
 */
export function target(method: string, name: unknown, schema?: string | null, kind: IdentifierKind = "table"): Target {
  const parts = splitQualifiedName(name, schema ?? "public", kind);
  if (typeof name === "string" && name.includes(".") && schema != null && parts.schema !== schema) {
    throw new ParameterError(`${method}(): ${JSON.stringify(name)} names schema ${parts.schema}, but the schema option says ${schema}`);
  }
  const s = parts.schema ?? "public";
  return { schema: s, name: parts.name, sql: qualified(s, parts.name, kind) };
}

/** Relation kinds that count as a table for the table methods: tables, partitioned tables, views, materialized views, foreign tables. */
const TABLE_KINDS = "('r','p','v','m','f')";

/** Whether relation `t` exists as a table, partitioned table, view, materialized view or foreign table. */
export async function relationExists(db: Executor, t: Target): Promise<boolean> {
  const found = await db.fetchVal<boolean>(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ${TABLE_KINDS})`,
    [t.schema, t.name],
  );
  return found === true;
}

/**
 * Throws {@link TableNotFound} naming schema and table unless `t` exists (see {@link relationExists}).
 */
export async function requireTable(db: Executor, t: Target): Promise<void> {
  if (!(await relationExists(db, t))) throw tableNotFound(t);
}

/** The error for a missing table: SQLSTATE 42P01, with `schema` and `table` set. */
export function tableNotFound(t: Target): TableNotFound {
  return new TableNotFound(`table ${t.sql.text} does not exist`, { code: "42P01", schema: t.schema, table: t.name });
}

/**
 * Throws {@link InvalidSchemaName} (SQLSTATE 3F000, `schema` set) unless schema `name` exists. The methods that
 * list what a schema holds call it when the list is empty, so that a misspelt schema is an error, not `[]`.
 */
export async function requireSchema(db: Executor, name: string): Promise<void> {
  if (!(await schemaExists(db, name))) throw new InvalidSchemaName(`schema "${name}" does not exist`, { code: "3F000", schema: name });
}

/**
 * Runs `stmt` on a session of the database's own (never the shared connection or a transaction), where it
 * commits on its own: for `VACUUM`, `CREATE/DROP DATABASE`, `CREATE/DROP INDEX CONCURRENTLY`.
 */
export function runAlone(db: Executor, stmt: Sql, values?: unknown[]): Promise<StatementResult> {
  return db._withOwnSession((session) => session.query(stmt.text, values)).catch((err: unknown) => {
    if (err instanceof Error && (err as { query?: string }).query === undefined) (err as { query?: string }).query = stmt.text;
    throw err;
  });
}
