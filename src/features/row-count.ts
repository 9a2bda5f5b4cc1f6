/**
 * Counting the rows of a table (`db.schema.rowCount`, listed with the table features): exact by default, or an
 * estimate that is never pycopg's -1.
 * @module
 */
import { checkOptions } from "../core/options.js";
import { sql } from "../sql/compose.js";
import type { Executor } from "./registry.js";
import { IN_SCHEMA, requireTable, target, tableNotFound, type Target } from "./target.js";

/** Options of {@link rowCount}. */
export interface RowCountOptions {
  /** Schema of the table (default `public`; `"schema.table"` also works). */
  schema?: string | undefined;
  /** An estimate from the statistics instead of an exact `count(*)` (default `false`). */
  estimate?: boolean | undefined;
}

/** How many pages, about, an estimate of a table never vacuumed or analyzed reads (a smaller table is counted). */
const SAMPLE_PAGES = 100;

/**
 * The number of rows of table `table` (`"table"` or `"schema.table"`; views, materialized views, foreign and
 * partitioned tables too).
 *
 * By default an exact `count(*)` (which reads the whole table). With `estimate: true`, a figure from the
 * statistics, never -1 (pycopg returns -1 for a table never analyzed):
 * - a table or materialized view that has been vacuumed or analyzed: `pg_class.reltuples`, rounded;
 * - one never vacuumed or analyzed (`reltuples` is -1): an exact `count(*)` when it has at most 100 pages (800 kB
 *   by default), else the rows per page of a sample of about 100 of its pages (`TABLESAMPLE SYSTEM … REPEATABLE`,
 *   so the same data gives the same figure) times its pages. (The planner's own guess there assumes 10 pages for
 *   a small table and a row width from the column types: several times off.)
 * - a partitioned table not analyzed as a whole, a view or a foreign table: the planner's row estimate for
 *   `SELECT * FROM` it.
 * @throws {@link InvalidIdentifier} for an invalid name; `ParameterError` for a bad option (both before anything
 * is sent); {@link TableNotFound} when it does not exist.
 */
export async function rowCount(db: Executor, table: string, options?: RowCountOptions): Promise<number> {
  const { schema, estimate = false } = checkOptions("rowCount", options, { ...IN_SCHEMA, estimate: "boolean" });
  const t = target("rowCount", table, schema);
  if (!estimate) {
    await requireTable(db, t);
    return exactCount(db, t);
  }
  return estimatedCount(db, t);
}

async function exactCount(db: Executor, t: Target): Promise<number> {
  return Number(await db.fetchVal<bigint>(sql`SELECT count(*) FROM ${t.sql}`.text));
}

async function estimatedCount(db: Executor, t: Target): Promise<number> {
  const stats = await db.fetchOne<{ kind: string; tuples: number; pages: number; bytes: number | null; block: number }>(
    `SELECT c.relkind AS kind, c.reltuples::float8 AS tuples, c.relpages AS pages,
            CASE WHEN c.relkind IN ('r', 'm') THEN pg_relation_size(c.oid)::float8 END AS bytes,
            current_setting('block_size')::int AS block
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [t.schema, t.name],
  );
  if (stats === null) throw tableNotFound(t);
  const stored = stats.kind === "r" || stats.kind === "m";
  // reltuples 0 with relpages 0 is also how PostgreSQL < 14 marks "never vacuumed or analyzed": treated as unknown.
  const known = stats.kind !== "v" && stats.tuples >= 0 && !(stored && stats.tuples === 0 && stats.pages === 0);
  if (known) return Math.round(stats.tuples);
  if (stored && stats.bytes !== null) return sampledCount(db, t, Math.ceil(stats.bytes / stats.block));
  return plannerRows(db, t);
}

/**
 * The rows per page on a sample of about {@link SAMPLE_PAGES} of `t`'s `pages` (the pages the sampled rows lie on),
 * times `pages`; all of them: an exact count.
 */
async function sampledCount(db: Executor, t: Target, pages: number): Promise<number> {
  if (pages <= SAMPLE_PAGES) return exactCount(db, t);
  const seen = await db.fetchOne<{ rows: number; pages: number }>(
    sql`SELECT count(*)::float8 AS rows, count(DISTINCT (ctid::text::point)[0])::float8 AS pages
          FROM ${t.sql} TABLESAMPLE SYSTEM ($1) REPEATABLE (0)`.text,
    [(100 * SAMPLE_PAGES) / pages],
  );
  if (seen === null || seen.pages === 0) return plannerRows(db, t);
  return Math.round((seen.rows / seen.pages) * pages);
}

/** The planner's row estimate for `SELECT * FROM t`. */
async function plannerRows(db: Executor, t: Target): Promise<number> {
  const plan = await db.fetchVal<[{ Plan: { "Plan Rows": number } }]>(sql`EXPLAIN (FORMAT JSON) SELECT * FROM ${t.sql}`.text);
  return Math.max(0, Math.round(plan?.[0]?.Plan?.["Plan Rows"] ?? 0));
}
