/**
 * The bulk helpers' rows: checked (plain objects, no `undefined` value), their columns (the union of their keys, or
 * the `columns` option), split into runs that share one column list, and each column written as the text of one
 * PostgreSQL array literal whose elements are exactly the texts a single-row insert would send (`sql/encode`'s
 * `prepareValue`).
 * @module
 */
import { describeType } from "../core/options.js";
import { ParameterError } from "../errors.js";
import { encodeForWorker, needsNothing, prepareValue } from "../sql/encode.js";
import { validateIdentifiers } from "../sql/identifiers.js";

/** A row as the bulk helpers read it. */
export type BulkRow = Record<string, unknown>;

/** Rows that share one column list (one `INSERT` statement, or several when they are many). */
export interface Run {
  columns: string[];
  rows: BulkRow[];
  /** The index of the run's first row in the caller's rows (for messages). */
  offset: number;
}

/**
 * Checks that `row` (the caller's row number `index`) is a plain object without `undefined` values.
 * @throws {@link ParameterError} naming the method, the row and the key.
 */
export function checkRow(method: string, row: unknown, index: number): asserts row is BulkRow {
  const proto: unknown = typeof row === "object" && row !== null ? Object.getPrototypeOf(row) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new ParameterError(`${method}(): row ${index} must be a plain object of column → value, got ${describeType(row)}`);
  }
  for (const key in row as BulkRow) {
    if ((row as BulkRow)[key] === undefined) {
      throw new ParameterError(`${method}(): row ${index} has an undefined value at key ${JSON.stringify(key)} (use null for NULL, or leave the key out)`);
    }
  }
}

/**
 * The columns of `rows`: the `columns` option (validated, in its order; a row key outside it is refused) or the
 * union of the rows' keys in the order first seen, validated.
 * @throws {@link ParameterError} for no column at all or a row key outside `columns`; {@link InvalidIdentifier}.
 */
export function columnsOf(method: string, rows: readonly BulkRow[], columns: readonly string[] | undefined, offset = 0): string[] {
  if (columns !== undefined) {
    const list = validateIdentifiers(columns, "column");
    if (list.length === 0) throw new ParameterError(`${method}(): the columns option must name at least one column`);
    if (new Set(list).size !== list.length) throw new ParameterError(`${method}(): the columns option names a column twice`);
    const allowed = new Set(list);
    for (let i = 0; i < rows.length; i++) {
      for (const key in rows[i]) {
        if (!allowed.has(key)) throw new ParameterError(`${method}(): row ${offset + i} has key ${JSON.stringify(key)}, which the columns option does not list`);
      }
    }
    return list;
  }
  const seen = new Set<string>();
  for (const row of rows) for (const key in row) seen.add(key);
  if (seen.size === 0) throw new ParameterError(`${method}(): the rows have no column (every row is empty)`);
  return validateIdentifiers([...seen], "column");
}

/**
 * The rows as runs to insert. With `missing: "null"`, one run of every row and column (a missing key is NULL).
 * With `missing: "default"`, consecutive rows with the same keys form a run listing only those keys, so a missing
 * key takes the column's default (rows keep their order).
 */
export function runsOf(rows: readonly BulkRow[], columns: string[], missing: "null" | "default", offset = 0): Run[] {
  if (missing === "null") return [{ columns, rows: rows as BulkRow[], offset }];
  const runs: Run[] = [];
  let current: Run | undefined;
  let signature = "";
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const present = columns.filter((c) => c in row);
    const sig = present.join("\u0000");
    if (current === undefined || sig !== signature) {
      current = { columns: present, rows: [], offset: offset + i };
      signature = sig;
      runs.push(current);
    }
    current.rows.push(row);
  }
  return runs;
}

/** `s` as a double-quoted array element. */
function quoted(s: string): string {
  return /["\\]/.test(s) ? `"${s.replace(/["\\]/g, "\\$&")}"` : `"${s}"`;
}

/** One cell as an array-literal element: the text a single-row insert sends for it, quoted, or `NULL`. */
function element(v: unknown): string {
  switch (typeof v) {
    case "string":
      return quoted(v);
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "boolean":
      return v ? "true" : "false";
    default: {
      const text = prepareValue(v);
      if (text === null) return "NULL";
      return typeof text === "string" ? quoted(text) : quoted(`\\x${text.toString("hex")}`);
    }
  }
}

/** One cell as an array-literal element; a value without an encoding is refused naming the row and the column. */
function cell(method: string, v: unknown, index: number, column: string): string {
  try {
    return v === null || v === undefined ? "NULL" : element(v);
  } catch (err) {
    if (err instanceof ParameterError) throw new ParameterError(`${method}(): row ${index}, column ${JSON.stringify(column)}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * Column `column` of `rows` as the text of an array literal (`{"a",NULL,"b"}`): a missing key is NULL.
 * @throws {@link ParameterError} naming the row and the column for a value that has no PostgreSQL encoding.
 */
export function columnLiteral(method: string, rows: readonly BulkRow[], column: string, offset: number): string {
  const parts = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) parts[i] = cell(method, rows[i]![column], offset + i, column);
  return `{${parts.join(",")}}`;
}

/**
 * Refuses a value that has no PostgreSQL encoding (a function, a `Map`, a circular object, …) before any statement
 * is built, so that statements can be built while the server runs the ones before. Strings, numbers and booleans
 * always encode; only the other values are tried.
 * @throws {@link ParameterError} naming the row and the column.
 */
export function refuseUnencodable(method: string, rows: readonly BulkRow[], offset: number): void {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (const key in row) {
      const v = row[key];
      if (typeof v === "object" ? v !== null : typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") cell(method, v, offset + i, key);
    }
  }
}

/**
 * The conflict key of each row (the texts of its conflict columns), refusing two rows with the same one: PostgreSQL
 * would refuse the statement ("ON CONFLICT DO UPDATE command cannot affect row a second time") without saying
 * which rows. Rows with a NULL conflict value are skipped (NULLs do not conflict). Keys that differ as text but are
 * equal to the server (`1.0` and `1` in a numeric column, citext) are still refused by the server.
 * @throws {@link ParameterError} naming both rows and the key.
 */
export function refuseDuplicateKeys(method: string, rows: readonly BulkRow[], conflict: readonly string[], offset: number, seen = new Map<string, number>()): void {
  rows: for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let key = "";
    for (const c of conflict) {
      const v = row[c];
      if (v === null || v === undefined) continue rows;
      key += `${element(v)}\u0000`;
    }
    const first = seen.get(key);
    if (first !== undefined) {
      const shown = conflict.map((c) => `${c} = ${element(row[c])}`).join(", ");
      throw new ParameterError(
        `${method}(): rows ${first} and ${offset + i} have the same conflict key (${shown}); an upsert can update a row only once per statement`,
      );
    }
    seen.set(key, offset + i);
  }
}

/**
 * A row on its way from the synchronous facade to its worker: checked as the worker will check it (so a class
 * instance is refused with the async API's error, not turned into a plain object by structured cloning), each value
 * encoded with the async API's own encoder (`encodeForWorker`: a `toPostgres()` object keeps its meaning, a value
 * without an encoding is refused at the same row and column, with the same message).
 * @throws {@link ParameterError} as {@link checkRow}.
 */
export function rowForWorker(method: string, row: unknown, index: number): unknown {
  checkRow(method, row, index);
  let out: BulkRow | undefined;
  for (const key in row) {
    const v = row[key];
    if (needsNothing(v)) continue;
    const enc = encodeForWorker(v);
    if (enc !== v) (out ??= { ...row })[key] = enc;
  }
  return out ?? row;
}
