/**
 * Building the parts of the CRUD helpers' statements that come from objects: bind parameters numbered as they are
 * added, the column/value entries of a row, and the `WHERE` clause of a where-object (keys are validated column
 * names, values bind parameters; `null` → `IS NULL`, an array → `= ANY($n)`).
 * @module
 */
import { describeType } from "../core/options.js";
import { ParameterError } from "../errors.js";
import { ident, integer, join, sql, type Sql } from "../sql/compose.js";

/** The bind parameters of a statement being built: each value added becomes the next `$n`. */
export class Binds {
  readonly values: unknown[] = [];

  /** Adds `value` and returns its placeholder (`$1`, `$2`, …). */
  add(value: unknown): Sql {
    this.values.push(value);
    return sql`$${integer(this.values.length, "parameter number", 1)}`;
  }
}

/**
 * Throws {@link ParameterError} unless `value` is an integer ≥ 0 (a row count: `limit`, `offset`).
 */
export function checkCount(method: string, what: string, value: unknown): asserts value is number {
  integer(value, `${method}(): ${what}`, 0);
}

/**
 * The entries of a row, a set of values or a where-object: it must be a plain object, and no value may be
 * `undefined` (the driver would send NULL; in a where-object a dropped condition would widen an update or a
 * delete). Names are not validated here: building the statement does that.
 * @param what - how the message names the object (`"row"`, `"values"`, `"where"`).
 * @throws {@link ParameterError} naming the method and the key.
 */
export function entriesOf(method: string, what: string, obj: unknown): [string, unknown][] {
  const proto: unknown = typeof obj === "object" && obj !== null ? Object.getPrototypeOf(obj) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new ParameterError(`${method}(): ${what} must be a plain object of column → value, got ${describeType(obj)}`);
  }
  const entries = Object.entries(obj as Record<string, unknown>);
  for (const [key, value] of entries) {
    if (value === undefined) {
      throw new ParameterError(`${method}(): ${what}.${key} is undefined; use null for NULL, or leave the key out`);
    }
  }
  return entries;
}

/**
 * `WHERE a = $1 AND b IS NULL AND c = ANY($2)` for a where-object (`undefined` when it is absent or empty and
 * `required` is false).
 * @param required - refuse an absent or empty where-object (for update, delete, exists).
 * @throws {@link ParameterError} for a where-object that is not a plain object, holds an `undefined`, or is
 * empty while required; {@link InvalidIdentifier} for an invalid column name.
 */
export function whereClause(method: string, where: unknown, binds: Binds, required: boolean): Sql | undefined {
  const entries = where === undefined || where === null ? [] : entriesOf(method, "where", where);
  if (entries.length === 0) {
    if (required) {
      throw new ParameterError(`${method}(): where must name at least one column: refusing to act on every row`);
    }
    return undefined;
  }
  const conditions = entries.map(([column, value]) => {
    const col = ident(column, "column");
    if (value === null) return sql`${col} IS NULL`;
    if (Array.isArray(value)) return sql`${col} = ANY(${binds.add(value)})`;
    return sql`${col} = ${binds.add(value)}`;
  });
  return sql`WHERE ${join(conditions, " AND ")}`;
}
