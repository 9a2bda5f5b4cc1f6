/**
 * Maintenance (`db.maint`): VACUUM (on a session of its own), ANALYZE, EXPLAIN.
 * @module
 */
import { checkOptions } from "../core/options.js";
import { ParameterError } from "../errors.js";
import type { QueryParams } from "../sql/placeholders.js";
import { join, keyword, pickKeyword, sql, type Sql } from "../sql/compose.js";
import { checkOneStatement, planLines, type ExplainFormat, type ExplainResult } from "./explain-plan.js";
import type { Executor } from "./registry.js";
import { requireTable, runAlone, target, type Target } from "./target.js";

export type { ExplainFormat, ExplainNode, ExplainPlan, ExplainResult } from "./explain-plan.js";

/** Options of {@link vacuum}. */
export interface VacuumOptions {
  /** The table (`"table"` or `"schema.table"`); without it, every table of the database the user may vacuum. */
  table?: string | undefined;
  /** The table's schema (default `public`); only with `table`. */
  schema?: string | undefined;
  /** Also update the planner statistics (`ANALYZE`); default true. */
  analyze?: boolean | undefined;
  /** `VACUUM FULL`: rewrite the table, giving space back to the operating system (an exclusive lock); default false. */
  full?: boolean | undefined;
}

/** Options of {@link analyze}. */
export interface AnalyzeOptions {
  /** The table (`"table"` or `"schema.table"`); without it, every table of the database the user may analyze. */
  table?: string | undefined;
  /** The table's schema (default `public`); only with `table`. */
  schema?: string | undefined;
}

/** Options of {@link explain}. */
export interface ExplainOptions {
  /** `EXPLAIN ANALYZE`: run the statement and report actual times and row counts; default false. */
  analyze?: boolean | undefined;
  /** Output format: `text` (default), `json`, `xml` or `yaml` (any case). */
  format?: string | undefined;
  /** `VERBOSE`: output columns, schema-qualified names, …; default false. */
  verbose?: boolean | undefined;
  /** `BUFFERS`: buffer usage (of planning; of execution too with `analyze`); default false. */
  buffers?: boolean | undefined;
}

/** The EXPLAIN formats, as PostgreSQL spells them. */
export const EXPLAIN_FORMATS = ["TEXT", "JSON", "XML", "YAML"] as const;

/** `VACUUM [(FULL, ANALYZE)] [table]`. */
export function vacuumStatement(t: Target | undefined, options: { analyze: boolean; full: boolean }): Sql {
  const flags = [options.full && sql`FULL`, options.analyze && sql`ANALYZE`];
  return sql`VACUUM ${join([flags.some(Boolean) && sql`(${join(flags)})`, t?.sql], " ")}`;
}

/** `ANALYZE [table]`. */
export function analyzeStatement(t: Target | undefined): Sql {
  return sql`ANALYZE ${t?.sql}`;
}

/** `EXPLAIN (FORMAT …[, ANALYZE][, VERBOSE][, BUFFERS])`: what {@link explain} puts before the caller's statement. */
export function explainPrefix(options: { format: ExplainFormat; analyze: boolean; verbose: boolean; buffers: boolean }): Sql {
  const format = keyword(options.format, EXPLAIN_FORMATS, "EXPLAIN format");
  return sql`EXPLAIN (${join([sql`FORMAT ${format}`, options.analyze && sql`ANALYZE`, options.verbose && sql`VERBOSE`, options.buffers && sql`BUFFERS`])})`;
}

/** The table an option object names, if any; `schema` alone is refused. */
function optionalTarget(method: string, table: string | undefined, schema: string | undefined): Target | undefined {
  if (table === undefined || table === null) {
    if (schema !== undefined && schema !== null) throw new ParameterError(`${method}(): the schema option needs the table option`);
    return undefined;
  }
  return target(method, table, schema);
}

/** Lock modes a plain VACUUM waits for (ShareUpdateExclusiveLock and stronger). */
const VACUUM_BLOCKERS = ["ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"];

/**
 * Inside a transaction VACUUM runs on a session of its own, which waits for the locks the caller's transaction
 * holds: refuse, before sending it, what would wait for a transaction that waits for it. `full` needs the table
 * (for a whole database, every table, catalogs included) free of any lock, which a transaction that has run
 * anything may hold: refused there. A plain VACUUM is refused when this transaction holds a lock it waits for
 * (after DDL on the table), read from `pg_locks` for this transaction's own backend.
 */
async function refuseSelfWait(db: Executor, t: Target | undefined, full: boolean): Promise<void> {
  if (!db._inTransaction()) return;
  if (full) {
    throw new ParameterError(
      "vacuum(): full cannot be used inside a transaction: VACUUM runs on a session of its own and would wait for the " +
        "locks this transaction holds, while the transaction waits for it; call it outside the transaction",
    );
  }
  const held = await db.fetchVal<string>(
    `SELECT string_agg(DISTINCT mode, ', ') FROM pg_locks
      WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted AND mode = ANY($1)
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ($2::text IS NULL OR relation = $2::regclass)`,
    [VACUUM_BLOCKERS, t === undefined ? null : t.sql.text],
  );
  if (held !== null) {
    throw new ParameterError(
      `vacuum(): this transaction holds ${held} on ${t === undefined ? "a table of the database" : `table ${t.sql.text}`} ` +
        "(after DDL), which VACUUM, running on a session of its own, would wait for forever; call it after the transaction",
    );
  }
}

/**
 * `VACUUM` a table, or the whole database: reclaims the space of dead rows and, with `analyze` (default),
 * updates the planner statistics (`last_vacuum`, `vacuum_count`, … in `pg_stat_user_tables`).
 *
 * PostgreSQL refuses VACUUM inside a transaction block, so it **runs on a session of its own, outside any
 * transaction**, and takes effect at once even when called inside `db.transaction(…)` (which it does not join:
 * it does not see tables that transaction created, and a rollback does not undo it). There it would wait forever
 * for locks the caller's transaction holds, so it is refused ({@link ParameterError}, before it is sent) inside a
 * transaction with `full`, and without `full` when the transaction holds a lock VACUUM waits for (after DDL on
 * the table). Locks held by other sessions are waited for, as by VACUUM itself. On a view it does nothing.
 * @throws {@link TableNotFound} naming schema and table when `table` does not exist; {@link InvalidIdentifier} for
 * an invalid name; {@link ParameterError} for a bad option, `schema` without `table`, or the waits above.
 */
export async function vacuum(db: Executor, options?: VacuumOptions): Promise<void> {
  const o = checkOptions("vacuum", options, { table: "string", schema: "string", analyze: "boolean", full: "boolean" });
  const t = optionalTarget("vacuum", o.table, o.schema);
  const full = o.full ?? false;
  const stmt = vacuumStatement(t, { analyze: o.analyze ?? true, full });
  if (t !== undefined) await requireTable(db, t);
  await refuseSelfWait(db, t, full);
  await runAlone(db, stmt);
}

/**
 * `ANALYZE` a table, or the whole database: updates the planner statistics (`pg_statistic`, `reltuples`,
 * `last_analyze`). It runs through the executor: inside a transaction it joins it (the statistics it gathers are
 * rolled back with it; `reltuples` and `last_analyze` are not transactional).
 * @throws {@link TableNotFound} naming schema and table when `table` does not exist; {@link InvalidIdentifier} for
 * an invalid name; {@link ParameterError} for a bad option, or `schema` without `table`.
 */
export async function analyze(db: Executor, options?: AnalyzeOptions): Promise<void> {
  const o = checkOptions("analyze", options, { table: "string", schema: "string" });
  const t = optionalTarget("analyze", o.table, o.schema);
  const stmt = analyzeStatement(t);
  if (t !== undefined) await requireTable(db, t);
  await db.execute(stmt.text);
}

/**
 * The plan of statement `sql` (the caller's SQL, trusted as `execute` trusts it; one statement) with `params` as
 * `execute` takes them (`$1` placeholders with an array, `:name` ones with an object). Only the `EXPLAIN (…)`
 * options are built here.
 *
 * With `analyze: true` the statement **is executed** (an `INSERT`, `UPDATE` or `DELETE` takes effect): it runs
 * through the executor, so inside a transaction it joins it and is undone by a rollback; outside one it commits.
 * @returns `{ lines, plan }` (see {@link ExplainResult}): the plan's text lines in the format asked for, and for
 * `json` the parsed plan (`null` for the other formats).
 * @throws {@link InvalidIdentifier} for an unknown format; {@link ParameterError} for a bad option, SQL text that
 * is not a string or holds more than one statement, or params that do not fit it; the server's error (e.g.
 * {@link SyntaxError}) for SQL it cannot explain.
 */
export async function explain(db: Executor, sqlText: string, params?: QueryParams | null, options?: ExplainOptions): Promise<ExplainResult> {
  const o = checkOptions("explain", options, { analyze: "boolean", format: "string", verbose: "boolean", buffers: "boolean" });
  const format = pickKeyword(o.format ?? "TEXT", EXPLAIN_FORMATS, "EXPLAIN format");
  const prefix = explainPrefix({ format, analyze: o.analyze ?? false, verbose: o.verbose ?? false, buffers: o.buffers ?? false });
  checkOneStatement("explain", sqlText);
  const rows = await db.execute<{ "QUERY PLAN": unknown }>(`${prefix.text} ${sqlText}`, params);
  return planLines(format, rows.map((r) => r["QUERY PLAN"]));
}

export const maintenanceFeatures = { vacuum, analyze, explain };
