/**
 * Bulk insert and upsert (pycopg's `insert_many`, `upsert_many`, `insert_batch`), flat on every executor.
 *
 * Each statement sends whole columns as arrays: `INSERT INTO t (a, b, c) SELECT … FROM unnest($1::int4[],
 * $2::float8[], $3::text[]) AS u(a, b, c)`, so the parameter count is the column count whatever the row count
 * (never PostgreSQL's 65,535-parameter limit), and the server parses one array per column instead of planning a
 * statement with one placeholder per value. Each array element is the text a single-row insert would send for the
 * value (`sql/encode`), so a value reads back exactly as a single-row insert stores it. The parameter types come
 * from the catalog (one lookup per call): an array column goes as `text[]` with a cast per element, since `unnest`
 * would flatten an array of arrays.
 *
 * Measured on 100k rows × (int, float8, text), same server, best of 3 (raw node-postgres, statement text and
 * values built in JS): one multi-row `VALUES` statement per 21,845 rows 284k rows/s (per 1,000: 278k);
 * `jsonb_populate_recordset` 416k, `json_populate_recordset` 520k (but JSON cannot say what a single-row insert
 * says: a string sent to a `jsonb` column is parsed there, a JSON string stays a string); `unnest` of `text[]` with
 * casts 334k in one statement, 548k per 2,000 rows; `unnest` of typed arrays 379k in one statement, 446k / 529k /
 * 598k / 563k / 473k per 500 / 1,000 / 2,000 / 5,000 / 20,000 rows. Hence typed arrays, in statements of about
 * 12,000 values (`CHUNK_CELLS` in `bulk-plan.ts`), each statement built while the server runs the one before.
 * Through this API (`npm run bench`, same run): `insertMany` 584k rows/s, `insertBatch` (batches of 1,000 from a
 * generator) 477k, raw node-postgres `VALUES` chunks 248k; on 20k rows × 12 typed columns (int8, numeric,
 * timestamptz, jsonb, bytea, uuid, int[], …) `insertMany` 82k rows/s, `jsonb_populate_recordset` 65k, `VALUES`
 * chunks of 65,535 parameters 60k. The synchronous `Database.insertMany` gives 382k: structured cloning of the rows
 * to the worker (73 ms per 100k rows) is most of the difference.
 * @module
 */
import type { Mode, Out, Row } from "../core/api.js";
import { checkOptions } from "../core/options.js";
import { ParameterError } from "../errors.js";
import { insertBatch } from "./bulk-batch.js";
import { check, plan, runAll, statements, type Answer, type Plan } from "./bulk-plan.js";
import { checkRow, type BulkRow } from "./bulk-rows.js";
import { columnTypes } from "./bulk-sql.js";
import type { ColumnOf } from "./crud.js";
import type { Executor } from "./registry.js";
import { IN_SCHEMA, columnList } from "./target.js";

/** What a conflict does (`ON CONFLICT`). */
export interface OnConflict<R = Row> {
  /**
   * The conflict target: the columns of a unique index or constraint (required for `"update"`). Without it,
   * `"nothing"` skips a row that violates any unique index or constraint.
   */
  columns?: ColumnOf<R> | readonly ColumnOf<R>[] | undefined;
  /** `"nothing"` (default): the conflicting row is skipped; `"update"`: the existing row is updated from it. */
  action?: "nothing" | "update" | undefined;
  /**
   * With `"update"`, the columns set from the new row (each one of the inserted columns). Default: every inserted
   * column that is not a conflict column. Empty: a conflicting row is skipped (`DO NOTHING`).
   */
  updateColumns?: readonly ColumnOf<R>[] | undefined;
}

/** Options of {@link BulkApi.insertMany}. */
export interface InsertManyOptions<R = Row> {
  /** The table's schema (default `public`, or the one in `"schema.table"`). */
  schema?: string | undefined;
  /**
   * The columns inserted, in this order. Default: the union of the rows' keys, in the order first seen. A row key
   * not listed is refused ({@link ParameterError}).
   */
  columns?: readonly ColumnOf<R>[] | undefined;
  /**
   * What a row's missing key becomes: `"null"` (default) NULL, `"default"` the column's default. (A column no row
   * has is not inserted: it takes its default either way.) With `"default"` and an update on conflict, a row's
   * missing key is not updated.
   */
  missing?: "null" | "default" | undefined;
  /** What a conflict does (default: the unique violation is raised). */
  onConflict?: OnConflict<R> | undefined;
  /** Return the inserted (or updated) rows: `true` for every column, or a list of columns. */
  returning?: true | readonly ColumnOf<R>[] | undefined;
}

/** Options of {@link BulkApi.upsertMany}. */
export interface UpsertManyOptions<R = Row> {
  schema?: string | undefined;
  /** The columns a conflict updates. Default: every column of the rows that is not a conflict column; `[]`: `DO NOTHING`. */
  updateColumns?: readonly ColumnOf<R>[] | undefined;
}

/** Options of {@link BulkApi.insertBatch}. */
export interface InsertBatchOptions<R = Row> extends Omit<InsertManyOptions<R>, "returning"> {
  /** Rows read from the source and inserted per statement (default 1000). */
  batchSize?: number | undefined;
  /** Called after each batch with the rows inserted so far (the server's count); may return a Promise. */
  onProgress?: ((rows: number) => unknown) | undefined;
}

/**
 * The bulk helpers' method types in mode `M`. Every helper: the table is `"table"` or `"schema.table"` (plus the
 * `schema` option); table, column and option names are validated ({@link InvalidIdentifier}), rows checked
 * ({@link ParameterError}: not a plain object, an `undefined` value, a key outside `columns`) before any statement
 * is sent; a missing table is {@link TableNotFound} naming it. The whole call is atomic: it is one statement, or
 * its statements run in one transaction (a savepoint inside a `transaction()` callback, on a transaction or on a
 * connection in a transaction: the call joins it and rolls back with it).
 *
 * Upserts (`onConflict: { action: "update" }`, `upsertMany`): two rows with the same conflict key in one call are
 * refused before sending, with a {@link ParameterError} naming both rows and the key (PostgreSQL would refuse the
 * statement, "ON CONFLICT DO UPDATE command cannot affect row a second time", without saying which rows). Keys that
 * differ as text but are equal to the server (`1` and `1.0` in a numeric column, citext) still get the server's
 * error ({@link CardinalityViolation}, 21000).
 */
export interface BulkApi<M extends Mode> {
  /**
   * Inserts `rows` (plain objects: column → value; values encoded as for parameters) into `table`.
   * @returns the number of rows inserted (or updated, with an update on conflict); with `returning`, the rows.
   */
  insertMany<R extends object = Row>(
    table: string,
    rows: NoInfer<readonly Partial<R>[]>,
    options: NoInfer<InsertManyOptions<R>> & { returning: true | readonly ColumnOf<R>[] },
  ): Out<M, NoInfer<R>[]>;
  insertMany<R extends object = Row>(table: string, rows: NoInfer<readonly Partial<R>[]>, options?: NoInfer<InsertManyOptions<R>>): Out<M, number>;
  /**
   * Inserts `rows`, updating on a conflict over `conflictColumns` (a unique index or constraint's columns): `insertMany`
   * with `onConflict: { columns: conflictColumns, action: "update", updateColumns }`.
   * @returns the number of rows inserted or updated.
   */
  upsertMany<R extends object = Row>(
    table: string,
    rows: NoInfer<readonly Partial<R>[]>,
    conflictColumns: NoInfer<ColumnOf<R> | readonly ColumnOf<R>[]>,
    options?: NoInfer<UpsertManyOptions<R>>,
  ): Out<M, number>;
  /**
   * Inserts the rows of `rows` (an array, an iterable or an async iterable: a generator of millions never sits in
   * memory), `batchSize` rows per statement, every batch in one transaction. The next batch is read and encoded while
   * the server inserts the previous one. A conflict key repeated within a batch is refused; across batches, the
   * later row updates the earlier one.
   * @returns the number of rows the server inserted (or updated): the sum of the statements' counts.
   */
  insertBatch<R extends object = Row>(
    table: string,
    rows: NoInfer<Iterable<Partial<R>> | AsyncIterable<Partial<R>>>,
    options?: NoInfer<InsertBatchOptions<R>>,
  ): Out<M, number>;
}

/** Checks the rows argument of `insertMany` / `upsertMany`. */
function rowArray(method: string, rows: unknown): BulkRow[] {
  if (!Array.isArray(rows)) {
    throw new ParameterError(`${method}(): rows must be an array of plain objects${rows !== null && typeof rows === "object" && Symbol.iterator in rows ? " (for an iterable, use insertBatch)" : ""}`);
  }
  for (let i = 0; i < rows.length; i++) checkRow(method, rows[i], i);
  return rows as BulkRow[];
}

async function many(db: Executor, p: Plan, rows: BulkRow[]): Promise<Answer | undefined> {
  if (rows.length === 0) return undefined;
  const checked = check(p, rows, 0);
  const types = await columnTypes(db, p.t);
  return runAll(db, statements(p, types, checked));
}

/** {@link BulkApi.insertMany} (the registry types it from there). */
async function insertMany(db: Executor, table: string, rows: readonly Row[], options?: InsertManyOptions): Promise<number | Row[]> {
  const p = plan("insertMany", table, options as Record<string, unknown> | undefined, {});
  const answer = await many(db, p, rowArray("insertMany", rows));
  if (p.returning !== undefined) return answer?.rows ?? [];
  return answer?.count ?? 0;
}

/** {@link BulkApi.upsertMany} (the registry types it from there). */
async function upsertMany(db: Executor, table: string, rows: readonly Row[], conflictColumns: string | readonly string[], options?: UpsertManyOptions): Promise<number> {
  const { schema, updateColumns } = checkOptions("upsertMany", options, { ...IN_SCHEMA, updateColumns: "array" });
  columnList("upsertMany", "conflictColumns", conflictColumns); // named as the caller knows it
  const onConflict = { columns: conflictColumns, action: "update", ...(updateColumns === undefined ? {} : { updateColumns }) };
  const p = plan("upsertMany", table, { schema, onConflict }, {});
  const answer = await many(db, p, rowArray("upsertMany", rows));
  return answer?.count ?? 0;
}

export { insertMany, upsertMany, insertBatch };

export const bulkFeatures = { insertMany, upsertMany, insertBatch } satisfies Record<string, (db: Executor, ...args: never[]) => Promise<unknown>>;
