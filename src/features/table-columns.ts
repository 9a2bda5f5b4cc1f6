/**
 * The columns of a table (`db.schema`, listed with the table features): `tableInfo`, `listColumns`,
 * `columnsWithTypes`. Read from `pg_attribute` (not `information_schema.columns`, which hides the columns of
 * tables the current role has no privilege on), with types as `format_type` shows them.
 * @module
 */
import { checkOptions } from "../core/options.js";
import type { Executor } from "./registry.js";
import { IN_SCHEMA, target, tableNotFound, type InSchema, type Target } from "./target.js";

/** One column of a table, as {@link tableInfo} describes it. */
export interface ColumnInfo {
  name: string;
  /** The type as `format_type` shows it: `"integer"`, `"character varying(20)"`, `"numeric(10,2)"`, `"text[]"`. */
  dataType: string;
  /** `false` for a `NOT NULL` column (or one of a `NOT NULL` domain). */
  nullable: boolean;
  /** The default expression (`"nextval('t_id_seq'::regclass)"`, `"0"`), or `null` (also for generated columns). */
  default: string | null;
  /** The column's number (`attnum`, from 1; a dropped column leaves a gap, as in `information_schema`). */
  position: number;
  /** Declared maximum length of a character or bit string type (`varchar(20)` → 20), else `null`. */
  maxLength: number | null;
  /**
   * Precision of a numeric type, as `information_schema` reports it: decimal digits for `numeric(p,s)`, bits for
   * integer and floating-point types (`integer` → 32, `double precision` → 53); `null` for other types.
   */
  precision: number | null;
  /** Scale of an exact numeric type (`numeric(10,2)` → 2, integers → 0), else `null`. */
  scale: number | null;
}

/**
 * The columns of one relation, in `attnum` order; no row at all when the relation does not exist, one row of
 * nulls when it has no column. The `information_schema._pg_*` helpers compute length, precision and scale exactly
 * as `information_schema.columns` does (domains resolved to their base type).
 */
const COLUMNS = `
  SELECT a.attname AS name,
         format_type(a.atttypid, a.atttypmod) AS "dataType",
         NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)) AS nullable,
         CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS "default",
         a.attnum::int AS position,
         information_schema._pg_char_max_length(information_schema._pg_truetypid(a.*, t.*),
           information_schema._pg_truetypmod(a.*, t.*))::int AS "maxLength",
         information_schema._pg_numeric_precision(information_schema._pg_truetypid(a.*, t.*),
           information_schema._pg_truetypmod(a.*, t.*))::int AS precision,
         information_schema._pg_numeric_scale(information_schema._pg_truetypid(a.*, t.*),
           information_schema._pg_truetypmod(a.*, t.*))::int AS scale
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   ORDER BY a.attnum`;

/** The columns of `t` (one query). @throws {@link TableNotFound} */
export async function columnsOf(db: Executor, t: Target): Promise<ColumnInfo[]> {
  const rows = await db.execute<ColumnInfo>(COLUMNS, [t.schema, t.name]);
  if (rows.length === 0) throw tableNotFound(t);
  return rows.filter((r) => r.name !== null);
}

/**
 * The columns of table `table` (`"table"` or `"schema.table"`; also a view, materialized view, foreign or
 * partitioned table), in order: name, type as `format_type` shows it, nullability, default, position, maximum
 * length, precision and scale (see {@link ColumnInfo}).
 * @throws {@link InvalidIdentifier} for an invalid name; `ParameterError` for a bad option (both before anything
 * is sent); {@link TableNotFound} when it does not exist.
 */
export async function tableInfo(db: Executor, table: string, options?: InSchema): Promise<ColumnInfo[]> {
  const { schema } = checkOptions("tableInfo", options, IN_SCHEMA);
  return columnsOf(db, target("tableInfo", table, schema));
}

/**
 * The column names of table `table` (as {@link tableInfo}), in order.
 * @throws as {@link tableInfo}.
 */
export async function listColumns(db: Executor, table: string, options?: InSchema): Promise<string[]> {
  const { schema } = checkOptions("listColumns", options, IN_SCHEMA);
  return (await columnsOf(db, target("listColumns", table, schema))).map((c) => c.name);
}

/**
 * `[name, type]` for each column of table `table` (as {@link tableInfo}), in order: `[["id", "integer"],
 * ["code", "character varying(20)"]]`.
 * @throws as {@link tableInfo}.
 */
export async function columnsWithTypes(db: Executor, table: string, options?: InSchema): Promise<[string, string][]> {
  const { schema } = checkOptions("columnsWithTypes", options, IN_SCHEMA);
  return (await columnsOf(db, target("columnsWithTypes", table, schema))).map((c) => [c.name, c.dataType]);
}
