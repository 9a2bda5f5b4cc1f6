/**
 * Schemas (`db.schema`): list, check, create, drop. They run where the caller is: inside `db.transaction(…)` they
 * join it and roll back with it.
 * @module
 */
import { checkOptions } from "../core/options.js";
import { ident, join, sql, type Sql } from "../sql/compose.js";
import { validateIdentifier } from "../sql/identifiers.js";
import type { Executor } from "./registry.js";

/** Options of {@link createSchema}. */
export interface CreateSchemaOptions {
  /** Do nothing when it exists (default `true`). */
  ifNotExists?: boolean | undefined;
  /** Owner role (`AUTHORIZATION`; default: the current role). */
  owner?: string | undefined;
}

/** Options of {@link dropSchema}. */
export interface DropSchemaOptions {
  /** Do nothing when it does not exist (default `true`). */
  ifExists?: boolean | undefined;
  /** Also drop everything in it (default `false`: a schema that is not empty is not dropped). */
  cascade?: boolean | undefined;
}

/** `CREATE SCHEMA [IF NOT EXISTS] "name" [AUTHORIZATION "owner"]`. @throws {@link InvalidIdentifier} */
export function createSchemaStatement(name: string, options: CreateSchemaOptions = {}): Sql {
  return join(
    [sql`CREATE SCHEMA`, options.ifNotExists !== false && sql`IF NOT EXISTS`, ident(name, "schema"), options.owner != null && sql`AUTHORIZATION ${ident(options.owner, "role")}`],
    " ",
  );
}

/** `DROP SCHEMA [IF EXISTS] "name" [CASCADE]`. @throws {@link InvalidIdentifier} */
export function dropSchemaStatement(name: string, options: DropSchemaOptions = {}): Sql {
  return join([sql`DROP SCHEMA`, options.ifExists !== false && sql`IF EXISTS`, ident(name, "schema"), options.cascade === true && sql`CASCADE`], " ");
}

/** Schemas of the database, without `pg_*` (catalog, toast, temporary) and `information_schema`, sorted. */
export async function listSchemas(db: Executor): Promise<string[]> {
  const rows = await db.execute<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace
      WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname`,
  );
  return rows.map((r) => r.name);
}

/**
 * Whether schema `name` exists.
 * @throws {@link InvalidIdentifier} for an invalid name (nothing is sent).
 */
export async function schemaExists(db: Executor, name: string): Promise<boolean> {
  validateIdentifier(name, "schema");
  return (await db.fetchVal<boolean>("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", [name])) === true;
}

/**
 * Creates schema `name`.
 * @param options - `ifNotExists` (default `true`), `owner` (a role; `AUTHORIZATION`).
 * @throws {@link InvalidIdentifier} for an invalid schema or owner name; `ParameterError` for a bad option (both
 * before anything is sent); `DuplicateSchema` when it exists and `ifNotExists` is `false`; `UndefinedObject` for
 * an unknown owner.
 */
export async function createSchema(db: Executor, name: string, options?: CreateSchemaOptions): Promise<void> {
  const { ifNotExists = true, owner } = checkOptions("createSchema", options, { ifNotExists: "boolean", owner: "string" });
  await db.execute(createSchemaStatement(name, { ifNotExists, owner }).text);
}

/**
 * Drops schema `name`.
 * @param options - `ifExists` (default `true`), `cascade` (default `false`).
 * @throws {@link InvalidIdentifier} for an invalid name; `ParameterError` for a bad option (both before anything
 * is sent); `InvalidSchemaName` when it does not exist and `ifExists` is `false`; `DependentObjectsStillExist`
 * when it is not empty and `cascade` is `false`.
 */
export async function dropSchema(db: Executor, name: string, options?: DropSchemaOptions): Promise<void> {
  const { ifExists = true, cascade = false } = checkOptions("dropSchema", options, { ifExists: "boolean", cascade: "boolean" });
  await db.execute(dropSchemaStatement(name, { ifExists, cascade }).text);
}

export const schemaFeatures = { listSchemas, schemaExists, createSchema, dropSchema };
