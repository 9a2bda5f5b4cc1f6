/**
 * `db.maint`: sizes and maintenance (the rest of pycopg's MaintAccessor comes with the schema/admin issue).
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

export const maintFeatures = { size };
