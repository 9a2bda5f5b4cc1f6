/**
 * Tables (`db.schema`): list, check, describe columns (`table-columns.ts`), count rows (`row-count.ts`), drop,
 * truncate. A table argument is `"table"` or `"schema.table"`, plus a `schema` option (default `public`). They
 * run where the caller is: inside `db.transaction(…)` they join it and roll back with it.
 * @module
 */
import { checkOptions } from "../core/options.js";
import { join, sql, type Sql } from "../sql/compose.js";
import { validateIdentifier } from "../sql/identifiers.js";
import type { Executor } from "./registry.js";
import { rowCount } from "./row-count.js";
import { columnsWithTypes, listColumns, tableInfo } from "./table-columns.js";
import { IN_SCHEMA, relationExists, requireSchema, requireTable, target, type InSchema, type Target } from "./target.js";

export type { InSchema } from "./target.js";
export type { ColumnInfo } from "./table-columns.js";
export type { RowCountOptions } from "./row-count.js";
export { columnsWithTypes, listColumns, rowCount, tableInfo };

/** Options of {@link dropTable}. */
export interface DropTableOptions {
  /** Schema of the table (default `public`; `"schema.table"` also works). */
  schema?: string | undefined;
  /** Do nothing when it does not exist (default `true`). */
  ifExists?: boolean | undefined;
  /** Also drop what depends on it (views, foreign keys of other tables; default `false`). */
  cascade?: boolean | undefined;
}

/** Options of {@link truncateTable}. */
export interface TruncateTableOptions {
  /** Schema of the table (default `public`; `"schema.table"` also works). */
  schema?: string | undefined;
  /** Also truncate the tables that reference it by foreign key (default `false`: the server refuses). */
  cascade?: boolean | undefined;
  /** Restart the sequences its columns own (identity and serial; default `false`). */
  restartIdentity?: boolean | undefined;
}

/** `DROP TABLE [IF EXISTS] "schema"."table" [CASCADE]`. */
export function dropTableStatement(t: Target, options: { ifExists?: boolean | undefined; cascade?: boolean | undefined } = {}): Sql {
  return join([sql`DROP TABLE`, options.ifExists !== false && sql`IF EXISTS`, t.sql, options.cascade === true && sql`CASCADE`], " ");
}

/** `TRUNCATE TABLE "schema"."table" [RESTART IDENTITY] [CASCADE]`. */
export function truncateTableStatement(t: Target, options: { restartIdentity?: boolean | undefined; cascade?: boolean | undefined } = {}): Sql {
  return join([sql`TRUNCATE TABLE ${t.sql}`, options.restartIdentity === true && sql`RESTART IDENTITY`, options.cascade === true && sql`CASCADE`], " ");
}

/**
 * The tables of a schema (default `public`), sorted: ordinary tables and partitioned tables (and partitions,
 * which are tables too), as `information_schema` lists `BASE TABLE`s; not views, materialized views or foreign
 * tables. Unlike `information_schema`, tables the current role has no privilege on are listed too.
 * @throws {@link InvalidIdentifier} for an invalid schema name; `ParameterError` for a bad option;
 * `InvalidSchemaName` (3F000) when the schema does not exist (a misspelt schema is not an empty one).
 */
export async function listTables(db: Executor, options?: InSchema): Promise<string[]> {
  const { schema = "public" } = checkOptions("listTables", options, IN_SCHEMA);
  return relationsOfKind(db, validateIdentifier(schema, "schema"), ["r", "p"]);
}

/**
 * The relations of kinds `kinds` (`pg_class.relkind`) in `schema`, sorted by name.
 * @throws `InvalidSchemaName` when there are none because the schema does not exist.
 */
export async function relationsOfKind(db: Executor, schema: string, kinds: string[]): Promise<string[]> {
  const rows = await db.execute<{ name: string }>(
    `SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = ANY ($2::"char"[]) ORDER BY c.relname`,
    [schema, kinds],
  );
  if (rows.length === 0) await requireSchema(db, schema);
  return rows.map((r) => r.name);
}

/**
 * Whether `name` (`"table"` or `"schema.table"`) exists in a schema (default `public`) as something the table
 * methods work on: an ordinary or partitioned table, a view, a materialized view or a foreign table (not an index,
 * sequence or composite type of that name).
 * @throws {@link InvalidIdentifier} for an invalid name; `ParameterError` for a bad option (nothing is sent).
 */
export async function tableExists(db: Executor, name: string, options?: InSchema): Promise<boolean> {
  const { schema } = checkOptions("tableExists", options, IN_SCHEMA);
  return relationExists(db, target("tableExists", name, schema));
}

/**
 * Drops table `name` (`"table"` or `"schema.table"`).
 * @param options - `schema`, `ifExists` (default `true`), `cascade` (default `false`).
 * @throws {@link InvalidIdentifier} for an invalid name; `ParameterError` for a bad option (both before anything
 * is sent); {@link TableNotFound} when it does not exist and `ifExists` is `false`; `WrongObjectType` for a view
 * and `DependentObjectsStillExist` when something depends on it and `cascade` is `false` (the server's).
 */
export async function dropTable(db: Executor, name: string, options?: DropTableOptions): Promise<void> {
  const { schema, ifExists = true, cascade = false } = checkOptions("dropTable", options, { ...IN_SCHEMA, ifExists: "boolean", cascade: "boolean" });
  const t = target("dropTable", name, schema);
  if (!ifExists) await requireTable(db, t);
  await db.execute(dropTableStatement(t, { ifExists, cascade }).text);
}

/**
 * Empties table `name` (`"table"` or `"schema.table"`) with `TRUNCATE` (transactional: it rolls back with the
 * transaction it runs in).
 * @param options - `schema`, `cascade` (default `false`), `restartIdentity` (default `false`).
 * @throws {@link InvalidIdentifier} for an invalid name; `ParameterError` for a bad option (both before anything
 * is sent); {@link TableNotFound} when it does not exist; `FeatureNotSupported` when other tables reference it by
 * foreign key and `cascade` is `false`; `WrongObjectType` for a view (the server's).
 */
export async function truncateTable(db: Executor, name: string, options?: TruncateTableOptions): Promise<void> {
  const { schema, cascade = false, restartIdentity = false } = checkOptions("truncateTable", options, {
    ...IN_SCHEMA,
    cascade: "boolean",
    restartIdentity: "boolean",
  });
  const t = target("truncateTable", name, schema);
  await requireTable(db, t);
  await db.execute(truncateTableStatement(t, { restartIdentity, cascade }).text);
}

export const tableFeatures = { listTables, tableExists, tableInfo, listColumns, columnsWithTypes, rowCount, dropTable, truncateTable };
