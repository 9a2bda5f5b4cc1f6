/**
 * Sizes (`db.maint`): of the database, of a table, of the largest tables.
 * @module
 */
import { checkOptions } from "../core/options.js";
import type { Executor } from "./registry.js";

/** Size of the current database: pretty-printed (`"7561 kB"`, the default) or in bytes (`pretty: false`). */
async function size(db: Executor, options?: { pretty?: boolean | undefined }): Promise<string | bigint> {
  const { pretty = true } = checkOptions("size", options, { pretty: "boolean" });
  const sql = pretty
    ? "SELECT pg_size_pretty(pg_database_size(current_database()))"
    : "SELECT pg_database_size(current_database())";
  return (await db.fetchVal<string | bigint>(sql))!;
}

export const sizeFeatures = { size };
