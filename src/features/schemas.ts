/**
 * Schemas (`db.schema`): list, check, create, drop.
 * @module
 */
import { validateIdentifier } from "../sql/identifiers.js";
import type { Executor } from "./registry.js";

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

export const schemaFeatures = { listSchemas, schemaExists };
