/**
 * Sizes (`db.maint`): of the database, of a table, of the largest tables. Everything runs through the executor,
 * so inside a transaction it joins it (and sees the tables it created).
 * @module
 */
import { checkOptions } from "../core/options.js";
import { validateIdentifier } from "../sql/identifiers.js";
import { sql, type Sql } from "../sql/compose.js";
import type { Executor } from "./registry.js";
import { requireSchema, tableNotFound, target, type Target } from "./target.js";
import { checkCount } from "./where.js";

/** One table's sizes, as {@link tableSizes} lists them. */
export interface TableSize {
  /** The table's name (in the schema asked for). */
  table: string;
  /** Everything: data plus indexes (`pg_total_relation_size`), in bytes. */
  totalBytes: bigint;
  /** The table's data: main fork, TOAST, free space and visibility maps (`pg_table_size`), in bytes. */
  dataBytes: bigint;
  /** Its indexes (`pg_indexes_size`), in bytes. */
  indexBytes: bigint;
  /** {@link totalBytes} pretty-printed (`pg_size_pretty`: `"16 kB"`). */
  totalSize: string;
  /** {@link dataBytes} pretty-printed. */
  dataSize: string;
  /** {@link indexBytes} pretty-printed. */
  indexSize: string;
}

/**
 * A lateral subquery `s(total, data, index)` giving the sizes of relation `c` (a `pg_class` row): a partitioned
 * table's are the sums over its partition tree (its own storage is empty); other relations' are their own.
 */
const SIZES_OF_C: Sql = sql`CROSS JOIN LATERAL (
  SELECT sum(pg_total_relation_size(r))::bigint AS total, sum(pg_table_size(r))::bigint AS data,
         sum(pg_indexes_size(r))::bigint AS index
    FROM (SELECT c.oid::regclass AS r WHERE c.relkind <> 'p'
          UNION ALL SELECT relid FROM pg_partition_tree(c.oid) WHERE c.relkind = 'p') AS rels) AS s`;

/** The statement of {@link tableSize}: `$1` schema, `$2` table; one row `(bytes, pretty)`, none when it is missing. */
export function tableSizeStatement(): Sql {
  return sql`SELECT coalesce(s.total, 0) AS bytes, pg_size_pretty(coalesce(s.total, 0)) AS pretty
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ${SIZES_OF_C}
    WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','p','v','m','f')`;
}

/**
 * The statement of {@link tableSizes}: `$1` schema, `$2` limit (`null`: all). Tables (a partitioned one with its
 * partitions summed, its partitions not listed again) and materialized views, largest first, ties by name.
 */
export function tableSizesStatement(): Sql {
  return sql`SELECT c.relname AS "table", s.total AS "totalBytes", s.data AS "dataBytes", s.index AS "indexBytes",
      pg_size_pretty(s.total) AS "totalSize", pg_size_pretty(s.data) AS "dataSize", pg_size_pretty(s.index) AS "indexSize"
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ${SIZES_OF_C}
    WHERE n.nspname = $1 AND c.relkind IN ('r','p','m') AND NOT c.relispartition
    ORDER BY s.total DESC, c.relname LIMIT $2`;
}

/**
 * Size of the current database (`pg_database_size`).
 * @param options.pretty - `true` (default): pretty-printed (`"7561 kB"`); `false`: exact bytes, as a bigint.
 * @throws {@link ParameterError} for an unknown option or one of the wrong type.
 */
export async function size(db: Executor, options?: { pretty?: boolean | undefined }): Promise<string | bigint> {
  const { pretty = true } = checkOptions("size", options, { pretty: "boolean" });
  const sql = pretty
    ? "SELECT pg_size_pretty(pg_database_size(current_database()))"
    : "SELECT pg_database_size(current_database())";
  return (await db.fetchVal<string | bigint>(sql))!;
}

/** Options of {@link tableSize}. */
export interface TableSizeOptions {
  /** The table's schema (default `public`, or the one in `"schema.table"`). */
  schema?: string | undefined;
  /** `true` (default): pretty-printed (`"16 kB"`); `false`: exact bytes, as a bigint. */
  pretty?: boolean | undefined;
}

/**
 * Total size of table `table` (`"table"` or `"schema.table"`): data, TOAST and indexes
 * (`pg_total_relation_size`). A partitioned table's is the sum over its partitions; a view's is 0.
 * @returns a pretty string (`"16 kB"`, the default) or exact bytes as a bigint (`pretty: false`).
 * @throws {@link TableNotFound} naming schema and table when there is no such table, view, materialized view or
 * foreign table; {@link InvalidIdentifier} for an invalid name; {@link ParameterError} for a bad option.
 */
export async function tableSize(db: Executor, table: string, options?: TableSizeOptions): Promise<string | bigint> {
  const { schema, pretty = true } = checkOptions("tableSize", options, { schema: "string", pretty: "boolean" });
  const size = await sizeOf(db, target("tableSize", table, schema));
  return pretty ? size.pretty : size.bytes;
}

/** The total size of relation `t`, in bytes and pretty-printed, in one statement. @throws {@link TableNotFound} */
export async function sizeOf(db: Executor, t: Target): Promise<{ bytes: bigint; pretty: string }> {
  const row = await db.fetchOne<{ bytes: bigint; pretty: string }>(tableSizeStatement().text, [t.schema, t.name]);
  if (row === null) throw tableNotFound(t);
  return { bytes: row.bytes, pretty: row.pretty };
}

/** Options of {@link tableSizes}. */
export interface TableSizesOptions {
  /** The schema whose tables are listed (default `public`). */
  schema?: string | undefined;
  /** At most this many (default 20); `null` for all. An integer ≥ 0. */
  limit?: number | null | undefined;
}

/**
 * The largest tables of a schema, largest first (ties by name), each with its total, data and index size in
 * bytes (bigints) and pretty-printed (see {@link TableSize}). Tables and materialized views are listed; a
 * partitioned table counts its partitions, which are not listed on their own.
 * @throws `InvalidSchemaName` (3F000) when the schema does not exist; {@link InvalidIdentifier} for an invalid
 * schema name; {@link ParameterError} for a bad option (`limit` not an integer ≥ 0).
 */
export async function tableSizes(db: Executor, options?: TableSizesOptions): Promise<TableSize[]> {
  const { schema = "public", limit = 20 } = checkOptions("tableSizes", options, { schema: "string", limit: "number?" });
  validateIdentifier(schema, "schema");
  if (limit !== null) checkCount("tableSizes", "limit", limit);
  const rows = await db.execute<TableSize>(tableSizesStatement().text, [schema, limit]);
  if (rows.length === 0 && limit !== 0) await requireSchema(db, schema);
  return rows;
}

export const sizeFeatures = { size, tableSize, tableSizes };
