/**
 * The bulk helpers' statement: `INSERT INTO t (cols) SELECT … FROM unnest($1::T1[], $2::T2[], …) AS u(cols)
 * [ON CONFLICT …] [RETURNING …]`, one array parameter per column, typed from the catalog (one lookup per call).
 * @module
 */
import { ParameterError } from "../errors.js";
import { ident, idents, integer, join, pickKeyword, qualified, sql, type Sql } from "../sql/compose.js";
import { validateIdentifiers } from "../sql/identifiers.js";
import { columnLiteral, type BulkRow } from "./bulk-rows.js";
import type { Executor } from "./registry.js";
import { columnList, requireTable, type Target } from "./target.js";

/** How a column's values are sent. */
interface ColumnType {
  /**
   * The type's name, schema-qualified (`pg_catalog."bit"`, `pg_catalog._int4`): written without a type modifier,
   * so `bit` is not `bit(1)` nor `character` `char(1)`; the insert then applies the column's own modifier exactly
   * as it does to a single-row insert's parameter.
   */
  type: Sql;
  /**
   * Whether the parameter can be an array of the type itself. Not for array types (`unnest` would flatten an array
   * of arrays into their elements), types without an array type, nor `box` (whose array literal separates elements
   * with `;`): those go as `text[]`, each element cast.
   */
  direct: boolean;
}

/** The table's columns and how to send each (a name the table lacks is absent: the insert then names it in its error). */
export type ColumnTypes = ReadonlyMap<string, ColumnType>;

/**
 * Reads the types of table `t`'s columns.
 * @throws {@link TableNotFound} naming schema and table when it does not exist.
 */
export async function columnTypes(db: Executor, t: Target): Promise<ColumnTypes> {
  const rows = await db.execute<{ name: string; nsp: string; type: string; direct: boolean }>(
    `SELECT a.attname AS name, n.nspname AS nsp, y.typname AS type, (y.typarray <> 0 AND y.typcategory <> 'A' AND y.typdelim = ',') AS direct
       FROM pg_attribute a JOIN pg_type y ON y.oid = a.atttypid JOIN pg_namespace n ON n.oid = y.typnamespace
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [t.sql.text],
  );
  if (rows.length === 0) await requireTable(db, t);
  return new Map(rows.map((r) => [r.name, { type: qualified(r.nsp, r.type, "identifier"), direct: r.direct }]));
}

/** What happens on a conflict (`ON CONFLICT`). */
export interface ConflictSpec {
  /** The conflict target's columns; empty: any unique violation (only with `nothing`). */
  columns: string[];
  action: "nothing" | "update";
  /** The columns an update sets (from `EXCLUDED`); empty: nothing is updated (`DO NOTHING`). */
  update: string[];
}

/**
 * The `onConflict` option, checked: `{ columns, action, updateColumns }`.
 * @throws {@link ParameterError}, {@link InvalidIdentifier}.
 */
export function conflictSpec(method: string, option: unknown, inserted: readonly string[] | undefined): ConflictSpec | undefined {
  if (option === undefined || option === null) return undefined;
  if (typeof option !== "object" || Array.isArray(option)) throw new ParameterError(`${method}(): onConflict must be a plain object { columns, action, updateColumns }`);
  const { columns, action, updateColumns, ...rest } = option as Record<string, unknown>;
  const stray = Object.keys(rest)[0];
  if (stray !== undefined) throw new ParameterError(`${method}(): unknown onConflict key ${JSON.stringify(stray)} (known: columns, action, updateColumns)`);
  const act = pickKeyword(action ?? "nothing", ["nothing", "update"], `${method}(): onConflict.action`);
  const target = columns === undefined && act === "nothing" ? [] : columnList(method, "onConflict.columns", columns);
  if (act === "nothing" && updateColumns !== undefined) throw new ParameterError(`${method}(): onConflict.updateColumns needs action "update"`);
  if (updateColumns !== undefined && !Array.isArray(updateColumns)) throw new ParameterError(`${method}(): onConflict.updateColumns must be an array of column names`);
  const update = act === "nothing" ? [] : updateColumns !== undefined ? validateIdentifiers(updateColumns, "column") : (inserted ?? []).filter((c) => !target.includes(c));
  return { columns: target, action: act, update };
}

/** The `RETURNING` clause: `true` → `*`, a column list → those columns. */
export function returningSql(method: string, returning: unknown): Sql | undefined {
  if (returning === undefined || returning === false) return undefined;
  if (returning === true) return sql`RETURNING *`;
  if (!Array.isArray(returning)) throw new ParameterError(`${method}(): returning must be true or an array of column names`);
  return sql`RETURNING ${idents(columnList(method, "returning", returning), "column")}`;
}

/** One insert of a run's rows. */
export interface BulkInsert {
  text: string;
  values: string[];
}

/**
 * The insert of `rows` into `columns` of `t`, with `ON CONFLICT` and `RETURNING` when given. With an update whose
 * columns are not all inserted columns: refused (the rows carry no value for them).
 * @throws {@link ParameterError} naming the row and column of a value that has no encoding.
 */
export function insertStatement(
  method: string,
  t: Target,
  types: ColumnTypes,
  columns: readonly string[],
  rows: readonly BulkRow[],
  offset: number,
  conflict?: ConflictSpec,
  returning?: Sql,
): BulkInsert {
  const params: Sql[] = [];
  const picks: Sql[] = [];
  const values: string[] = [];
  for (const [i, c] of columns.entries()) {
    const ct = types.get(c);
    const n = i + 1;
    const col = sql`u.${ident(c, "column")}`;
    if (ct?.direct) {
      params.push(sql`$${integer(n, "parameter number", 1)}::${ct.type}[]`);
      picks.push(col);
    } else {
      params.push(sql`$${integer(n, "parameter number", 1)}::text[]`);
      picks.push(ct === undefined ? col : sql`${col}::${ct.type}`);
    }
    values.push(columnLiteral(method, rows, c, offset));
  }
  const names = idents(columns, "column");
  const parts: Sql[] = [sql`INSERT INTO ${t.sql} (${names}) SELECT ${picks} FROM unnest(${params}) AS u(${names})`];
  if (conflict !== undefined) {
    const target = conflict.columns.length === 0 ? sql`` : sql`(${idents(conflict.columns, "column")}) `;
    const sets = conflict.update.map((c) => sql`${ident(c, "column")} = EXCLUDED.${ident(c, "column")}`);
    parts.push(sets.length === 0 ? sql`ON CONFLICT ${target}DO NOTHING` : sql`ON CONFLICT ${target}DO UPDATE SET ${sets}`);
  }
  if (returning !== undefined) parts.push(returning);
  return { text: join(parts, " ").text, values };
}
