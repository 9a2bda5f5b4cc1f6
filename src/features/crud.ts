/**
 * CRUD helpers (pycopg 0.10), flat on every executor: upsert, updateWhere, deleteWhere, exists, count, paginate.
 * Table and column names are validated and quoted; every value is a bind parameter. Each helper is one statement
 * (upsert's do-nothing form at most two), run through the executor, so inside a transaction it joins it.
 * @module
 */
import type { Mode, Out, Row } from "../core/api.js";
import { checkOptions } from "../core/options.js";
import { DatabaseError, ParameterError } from "../errors.js";
import { ident, idents, join, sql, type Sql } from "../sql/compose.js";
import type { Executor } from "./registry.js";
import { IN_SCHEMA, columnList, tableNotFound, target, type Target } from "./target.js";
import { Binds, checkCount, entriesOf, whereClause } from "./where.js";

/** The column names of row type `R` (any string for the default {@link Row}). */
export type ColumnOf<R> = Extract<keyof R, string>;

/**
 * A where-object: column → value. The conditions are ANDed: a value is compared with `=`, `null` is `IS NULL`,
 * an array is `= ANY(…)` (any of its elements; so an array column cannot be compared whole here).
 */
export type Where<R> = { [K in ColumnOf<R>]?: R[K] | null | readonly R[K][] };

/** The `schema` option of the CRUD helpers: the table's schema (default `public`, or the one in `"schema.table"`). */
export interface CrudOptions {
  schema?: string | undefined;
}

/** Options of {@link CrudApi.upsert}. */
export interface UpsertOptions<R = Row> extends CrudOptions {
  /**
   * The columns a conflict updates (each a key of the row). Default: every key of the row that is not a conflict
   * column. Empty (given so, or a row of conflict columns only): the existing row is kept and returned.
   */
  updateColumns?: readonly ColumnOf<R>[] | undefined;
}

/** Options of {@link CrudApi.paginate}. */
export interface PaginateOptions<R = Row> extends CrudOptions {
  /** Rows per page: an integer ≥ 0 (required). */
  limit: number;
  /** Rows skipped: an integer ≥ 0 (default 0). */
  offset?: number | undefined;
  /** Column(s) to order by; without it, the order (and so the pages) is not defined. */
  orderBy?: ColumnOf<R> | readonly ColumnOf<R>[] | undefined;
  /** Order descending (every `orderBy` column); default false. Needs `orderBy`. */
  descending?: boolean | undefined;
  /** Only rows matching this where-object. */
  where?: Where<R> | null | undefined;
}

/**
 * The CRUD helpers' method types in mode `M`, written out so that their row type parameters stay generic
 * (`db.paginate<User>(…)`); the registry uses these instead of the types it derives from the functions.
 *
 * Row types may be interfaces (`interface User { id: number; name: string }`): they type the row, the values,
 * the where-object's keys and values, the column lists, and the rows returned.
 *
 * Every helper: the table is `"table"` or `"schema.table"` (plus the `schema` option); names are validated
 * ({@link InvalidIdentifier}) and values checked ({@link ParameterError}: not a plain object, an `undefined`
 * value, an empty where-object where one is required) before any statement is sent. A missing table raises
 * {@link TableNotFound} naming schema and table (not pycopg's 0): it is the statement's own error, so no extra round
 * trip is made, and inside a transaction it aborts the transaction like any failed statement.
 */
export interface CrudApi<M extends Mode> {
  /**
   * Inserts `row`, or on a conflict over `conflictColumns` (which must match a unique index or constraint, and
   * be keys of `row`) updates the existing row's `updateColumns` from it:
   * `INSERT … ON CONFLICT (…) DO UPDATE SET c = EXCLUDED.c … RETURNING *`.
   *
   * With no update columns (`updateColumns: []`, or a row holding only conflict columns) a conflict changes
   * nothing (`DO NOTHING`, so no update triggers fire and no row version is written) and the existing row is
   * returned: an insert-or-get.
   * @returns the row as stored (inserted, updated or, with no update columns, existing); `null` only when no row
   * came back: a `BEFORE` trigger suppressed the write, or (with no update columns) the conflicting row was
   * deleted meanwhile.
   */
  upsert<R extends object = Row>(
    table: string,
    row: NoInfer<Partial<R>>,
    conflictColumns: NoInfer<ColumnOf<R> | readonly ColumnOf<R>[]>,
    options?: NoInfer<UpsertOptions<R>>,
  ): Out<M, NoInfer<R> | null>;
  /**
   * `UPDATE table SET … WHERE …`: sets `values` (column → value) on the rows matching `where`, which must not be
   * empty (to update every row, use `execute`).
   * @returns the number of rows updated.
   */
  updateWhere<R extends object = Row>(table: string, values: NoInfer<Partial<R>>, where: NoInfer<Where<R>>, options?: CrudOptions): Out<M, number>;
  /**
   * `DELETE FROM table WHERE …`: deletes the rows matching `where`, which must not be empty (to delete every row,
   * use `execute` or `truncateTable`).
   * @returns the number of rows deleted.
   */
  deleteWhere<R extends object = Row>(table: string, where: NoInfer<Where<R>>, options?: CrudOptions): Out<M, number>;
  /** Whether a row matches `where` (not empty): `SELECT EXISTS (…)`. */
  exists<R extends object = Row>(table: string, where: NoInfer<Where<R>>, options?: CrudOptions): Out<M, boolean>;
  /** The exact number of rows (`count(*)`), of those matching `where` when given. */
  count<R extends object = Row>(table: string, where?: NoInfer<Where<R>> | null, options?: CrudOptions): Out<M, number>;
  /**
   * One page of rows: `SELECT * … [WHERE …] [ORDER BY … [DESC]] LIMIT $n OFFSET $m` (limit and offset are bind
   * parameters).
   */
  paginate<R extends object = Row>(table: string, options: NoInfer<PaginateOptions<R>>): Out<M, NoInfer<R>[]>;
}

/** A statement with its bind parameters. */
export interface Built {
  stmt: Sql;
  values: unknown[];
}

/**
 * The upsert statement. With update columns: `INSERT … ON CONFLICT (…) DO UPDATE SET … RETURNING *`. Without:
 * `DO NOTHING`, and the same statement returns the existing row when the insert did nothing.
 * @throws {@link ParameterError} for an empty row, conflict or update columns that are not keys of the row;
 * {@link InvalidIdentifier} for an invalid name.
 */
export function upsertStatement(t: Target, row: unknown, conflictColumns: unknown, updateColumns?: unknown): Built & { fallback?: Built } {
  const entries = entriesOf("upsert", "row", row);
  const keys = entries.map(([k]) => k);
  const conflict = columnList("upsert", "conflictColumns", conflictColumns);
  const update = updateColumns === undefined ? keys.filter((k) => !conflict.includes(k)) : (updateColumns as string[]);
  // Names first (an invalid one is an InvalidIdentifier whatever else is wrong), then how they fit the row.
  const columns = entries.length === 0 ? undefined : idents(keys, "column");
  const conflictSql = idents(conflict, "column");
  const sets = update.map((c) => sql`${ident(c, "column")} = EXCLUDED.${ident(c, "column")}`);
  if (columns === undefined) throw new ParameterError("upsert(): the row must have at least one column");
  for (const [what, list] of [["conflictColumns", conflict], ["updateColumns", update]] as const) {
    const stray = list.find((c) => !keys.includes(c));
    if (stray !== undefined) throw new ParameterError(`upsert(): ${what} names ${JSON.stringify(stray)}, which is not a key of the row`);
  }
  const binds = new Binds();
  const placeholders = new Map(entries.map(([k, v]) => [k, binds.add(v)]));
  const insert = sql`INSERT INTO ${t.sql} (${columns}) VALUES (${[...placeholders.values()]}) ON CONFLICT (${conflictSql})`;
  if (sets.length > 0) return { stmt: sql`${insert} DO UPDATE SET ${sets} RETURNING *`, values: binds.values };
  const values = new Map(entries);
  const match = conflict.map((c) =>
    values.get(c) === null ? sql`${ident(c, "column")} IS NULL` : sql`${ident(c, "column")} = ${placeholders.get(c)!}`,
  );
  const stmt = sql`WITH ins AS (${insert} DO NOTHING RETURNING *)
    SELECT * FROM ins
    UNION ALL (SELECT * FROM ${t.sql} WHERE ${join(match, " AND ")} AND NOT EXISTS (SELECT FROM ins) LIMIT 1)`;
  return { stmt, values: binds.values, fallback: conflictingRowStatement(t, values, conflict) };
}

/**
 * The existing row an insert-or-get conflicted with, read in a statement of its own (a fresh snapshot: it sees a
 * row committed after the upsert statement began).
 */
export function conflictingRowStatement(t: Target, row: ReadonlyMap<string, unknown>, conflictColumns: readonly string[]): Built {
  const binds = new Binds();
  const match = conflictColumns.map((c) =>
    row.get(c) === null ? sql`${ident(c, "column")} IS NULL` : sql`${ident(c, "column")} = ${binds.add(row.get(c))}`,
  );
  return { stmt: sql`SELECT * FROM ${t.sql} WHERE ${join(match, " AND ")} LIMIT 1`, values: binds.values };
}

/** `UPDATE t SET … WHERE …`. @throws {@link ParameterError} for empty values or an empty where-object. */
export function updateWhereStatement(t: Target, values: unknown, where: unknown): Built {
  const entries = entriesOf("updateWhere", "values", values);
  if (entries.length === 0) throw new ParameterError("updateWhere(): values must set at least one column");
  const binds = new Binds();
  const sets = entries.map(([c, v]) => sql`${ident(c, "column")} = ${binds.add(v)}`);
  const cond = whereClause("updateWhere", where, binds, true);
  return { stmt: sql`UPDATE ${t.sql} SET ${sets} ${cond}`, values: binds.values };
}

/** `DELETE FROM t WHERE …`. @throws {@link ParameterError} for an empty where-object. */
export function deleteWhereStatement(t: Target, where: unknown): Built {
  const binds = new Binds();
  const cond = whereClause("deleteWhere", where, binds, true);
  return { stmt: sql`DELETE FROM ${t.sql} ${cond}`, values: binds.values };
}

/** `SELECT EXISTS (SELECT FROM t WHERE …)`. @throws {@link ParameterError} for an empty where-object. */
export function existsStatement(t: Target, where: unknown): Built {
  const binds = new Binds();
  const cond = whereClause("exists", where, binds, true);
  return { stmt: sql`SELECT EXISTS (SELECT FROM ${t.sql} ${cond})`, values: binds.values };
}

/** `SELECT count(*) FROM t [WHERE …]`. */
export function countStatement(t: Target, where: unknown): Built {
  const binds = new Binds();
  const cond = whereClause("count", where, binds, false);
  return { stmt: sql`SELECT count(*) FROM ${t.sql} ${cond}`, values: binds.values };
}

/** `SELECT * FROM t [WHERE …] [ORDER BY … [DESC]] LIMIT $n OFFSET $m`. */
export function paginateStatement(t: Target, options: Omit<PaginateOptions, "schema">): Built {
  const { limit, offset = 0, orderBy, descending = false, where } = options;
  checkCount("paginate", "limit", limit);
  checkCount("paginate", "offset", offset);
  if (descending && orderBy === undefined) throw new ParameterError("paginate(): descending needs orderBy");
  const binds = new Binds();
  const cond = whereClause("paginate", where, binds, false);
  const order = orderBy === undefined ? undefined : columnList("paginate", "orderBy", orderBy).map((c) => join([ident(c, "column"), descending && sql`DESC`], " "));
  const page = sql`LIMIT ${binds.add(limit)} OFFSET ${binds.add(offset)}`;
  const stmt = sql`SELECT * FROM ${join([t.sql, cond, order && sql`ORDER BY ${order}`, page], " ")}`;
  return { stmt, values: binds.values };
}

/**
 * Runs a built statement; a server error saying the target table does not exist (42P01 at the position of its
 * name in the text) becomes {@link TableNotFound} naming schema and table.
 */
async function run<T>(t: Target, built: Built, go: (text: string, values: unknown[]) => Promise<T>): Promise<T> {
  try {
    return await go(built.stmt.text, built.values);
  } catch (err) {
    if (err instanceof DatabaseError && err.code === "42P01" && pointsAt(built.stmt.text, err.position, t.sql.text)) {
      const e = tableNotFound(t);
      e.query = err.query;
      throw e;
    }
    throw err;
  }
}

/** Whether the server's 1-based character `position` in `text` is where `name` is written. */
export function pointsAt(text: string, position: number | undefined, name: string): boolean {
  if (position === undefined || position < 1) return false;
  let chars = 1;
  for (let i = 0; i < text.length; i++) {
    if (chars === position) return text.startsWith(name, i);
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) chars++; // a high surrogate and its low one are one character
  }
  return false;
}


/** {@link CrudApi.upsert} (the registry types it from there). */
async function upsert(db: Executor, table: string, row: Row, conflictColumns: string | readonly string[], options?: UpsertOptions): Promise<Row | null> {
  const { schema, updateColumns } = checkOptions("upsert", options, { ...IN_SCHEMA, updateColumns: "array" });
  const t = target("upsert", table, schema);
  const built = upsertStatement(t, row, conflictColumns, updateColumns);
  const found = await run(t, built, (text, values) => db.fetchOne(text, values));
  if (found !== null || built.fallback === undefined) return found;
  return run(t, built.fallback, (text, values) => db.fetchOne(text, values));
}

/** {@link CrudApi.updateWhere} (the registry types it from there). */
async function updateWhere(db: Executor, table: string, values: Row, where: Row, options?: CrudOptions): Promise<number> {
  const { schema } = checkOptions("updateWhere", options, IN_SCHEMA);
  const t = target("updateWhere", table, schema);
  const built = updateWhereStatement(t, values, where);
  return run(t, built, async (text, v) => (await db.query(text, v)).rowCount ?? 0);
}

/** {@link CrudApi.deleteWhere} (the registry types it from there). */
async function deleteWhere(db: Executor, table: string, where: Row, options?: CrudOptions): Promise<number> {
  const { schema } = checkOptions("deleteWhere", options, IN_SCHEMA);
  const t = target("deleteWhere", table, schema);
  const built = deleteWhereStatement(t, where);
  return run(t, built, async (text, v) => (await db.query(text, v)).rowCount ?? 0);
}

/** {@link CrudApi.exists} (the registry types it from there). */
async function exists(db: Executor, table: string, where: Row, options?: CrudOptions): Promise<boolean> {
  const { schema } = checkOptions("exists", options, IN_SCHEMA);
  const t = target("exists", table, schema);
  const built = existsStatement(t, where);
  return run(t, built, async (text, v) => (await db.fetchVal<boolean>(text, v)) === true);
}

/** {@link CrudApi.count} (the registry types it from there). */
async function count(db: Executor, table: string, where?: Row | null, options?: CrudOptions): Promise<number> {
  const { schema } = checkOptions("count", options, IN_SCHEMA);
  const t = target("count", table, schema);
  const built = countStatement(t, where);
  return run(t, built, async (text, v) => Number(await db.fetchVal<bigint>(text, v)));
}

/** {@link CrudApi.paginate} (the registry types it from there). */
async function paginate(db: Executor, table: string, options: PaginateOptions): Promise<Row[]> {
  const { schema, ...rest } = checkOptions("paginate", options, {
    ...IN_SCHEMA,
    limit: "number",
    offset: "number",
    orderBy: "string|array",
    descending: "boolean",
    where: "object?",
  }) as PaginateOptions;
  const t = target("paginate", table, schema);
  const built = paginateStatement(t, rest);
  return run(t, built, (text, v) => db.execute(text, v));
}

export { upsert, updateWhere, deleteWhere, exists, count, paginate };

export const crudFeatures = { upsert, updateWhere, deleteWhere, exists, count, paginate } satisfies Record<
  string,
  (db: Executor, ...args: never[]) => Promise<unknown>
>;
