/**
 * Tables (`db.schema`): list, check, describe columns, count rows, drop, truncate.
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

export const tableFeatures = { listTables, tableExists };
