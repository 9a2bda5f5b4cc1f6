/**
 * `db.schema`: schemas and tables (the rest of pycopg's SchemaAccessor comes with the schema/admin issue).
 * @module
 */
import { validateIdentifier } from "../sql/identifiers.js";
import { checkOptions } from "../core/options.js";
import type { Executor } from "./registry.js";

/** Options naming the schema a table lives in (default `public`). */
export interface InSchema {
  schema?: string | undefined;
}

const IN_SCHEMA = { schema: "string" } as const;

/** Schemas of the database, without `pg_*` and `information_schema`, sorted. */
async function listSchemas(db: Executor): Promise<string[]> {
  const rows = await db.execute<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace
      WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname`,
  );
  return rows.map((r) => r.name);
}

/** Whether schema `name` exists. */
async function schemaExists(db: Executor, name: string): Promise<boolean> {
  validateIdentifier(name, "schema");
  return (await db.fetchVal<boolean>("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", [name])) === true;
}

/** Base tables of a schema (default `public`), sorted. */
async function listTables(db: Executor, options?: InSchema): Promise<string[]> {
  const { schema = "public" } = checkOptions("listTables", options, IN_SCHEMA);
  validateIdentifier(schema, "schema");
  const rows = await db.execute<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [schema],
  );
  return rows.map((r) => r.name);
}

/** Whether table (or view) `name` exists in a schema (default `public`). */
async function tableExists(db: Executor, name: string, options?: InSchema): Promise<boolean> {
  const { schema = "public" } = checkOptions("tableExists", options, IN_SCHEMA);
  validateIdentifier(name, "table");
  validateIdentifier(schema, "schema");
  const sql = "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2)";
  return (await db.fetchVal<boolean>(sql, [schema, name])) === true;
}

export const schemaFeatures = { listSchemas, schemaExists, listTables, tableExists };
