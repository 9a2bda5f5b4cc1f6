/**
 * The bulk helpers' plan: their options checked, the rows turned into statements of about {@link CHUNK_CELLS}
 * values, and the statements run, in one transaction when there are several.
 * @module
 */
import { checkOptions } from "../core/options.js";
import type { Row } from "../core/api.js";
import { ParameterError } from "../errors.js";
import { pickKeyword, type Sql } from "../sql/compose.js";
import { columnsOf, refuseDuplicateKeys, refuseUnencodable, runsOf, type BulkRow } from "./bulk-rows.js";
import { conflictSpec, insertStatement, returningSql, type BulkInsert, type ColumnTypes, type ConflictSpec } from "./bulk-sql.js";
import type { Executor } from "./registry.js";
import { IN_SCHEMA, target, type Target } from "./target.js";

/** Values per statement (rows × columns): about 4,000 rows of three columns, 800 of fifteen. */
export const CHUNK_CELLS = 12_000;

const MANY_SHAPE = { ...IN_SCHEMA, columns: "array", missing: "string", onConflict: "object?" } as const;

/** A checked call: where the rows go and how. */
export interface Plan {
  method: string;
  t: Target;
  columns: string[] | undefined;
  missing: "null" | "default";
  onConflict: unknown;
  returning?: Sql | undefined;
}

/** Checks the options common to the three helpers (names validated here, before any statement). */
export function plan(method: string, table: unknown, options: Record<string, unknown> | undefined, extra: Record<string, "number" | "function">): Plan & Record<string, unknown> {
  let returning: unknown;
  let checked: Record<string, unknown> | undefined = options;
  if (method === "insertMany" && options !== null && typeof options === "object" && !Array.isArray(options)) ({ returning, ...checked } = options);
  const o = checkOptions(method, checked, { ...MANY_SHAPE, ...extra }) as Record<string, unknown>;
  const t = target(method, table, o["schema"] as string | undefined);
  const columns = o["columns"] === undefined ? undefined : columnsOf(method, [], o["columns"] as string[]);
  const missing = pickKeyword(o["missing"] ?? "null", ["null", "default"], `${method}(): missing`);
  conflictSpec(method, o["onConflict"], columns); // checked now; built again once the columns are known
  return { ...o, method, t, columns, missing, onConflict: o["onConflict"], returning: returningSql(method, returning) };
}

/** Rows checked against a plan: their columns and what a conflict does. */
export interface Checked {
  rows: readonly BulkRow[];
  offset: number;
  columns: string[];
  spec: ConflictSpec | undefined;
}

/**
 * Checks `rows` (rows `offset`… of the call) against the plan, before anything is sent: their keys, the update
 * columns, and (for an update) their conflict keys, which must not repeat within `seen`.
 */
export function check(p: Plan, rows: readonly BulkRow[], offset: number, seen?: Map<string, number>): Checked {
  const columns = columnsOf(p.method, rows, p.columns, offset);
  const spec = conflictSpec(p.method, p.onConflict, columns);
  if (spec !== undefined && spec.action === "update") {
    const stray = spec.update.find((c) => !columns.includes(c));
    if (stray !== undefined) throw new ParameterError(`${p.method}(): updateColumns names ${JSON.stringify(stray)}, which is not a column of the rows`);
    if (spec.update.length > 0) refuseDuplicateKeys(p.method, rows, spec.columns, offset, seen);
  }
  refuseUnencodable(p.method, rows, offset);
  return { rows, offset, columns, spec };
}

/** The statements inserting checked rows, in chunks of about {@link CHUNK_CELLS} values, built as they are taken. */
export function* statements(p: Plan, types: ColumnTypes, { rows, offset, columns, spec }: Checked): Generator<BulkInsert, void, undefined> {
  for (const run of runsOf(rows, columns, p.missing, offset)) {
    const own = spec && p.missing === "default" ? { ...spec, update: spec.update.filter((c) => run.columns.includes(c)) } : spec;
    const size = Math.max(1, Math.floor(CHUNK_CELLS / run.columns.length));
    for (let i = 0; i < run.rows.length; i += size) {
      yield insertStatement(p.method, p.t, types, run.columns, run.rows.slice(i, i + size), run.offset + i, own, p.returning);
    }
  }
}

/** A statement's answer: its row count, or its rows. */
export type Answer = { count: number; rows: Row[] };

export async function send(db: Executor, s: BulkInsert): Promise<Answer> {
  const r = await db.query(s.text, s.values);
  return { count: r.rowCount ?? 0, rows: r.rows };
}

/** Something that can start a transaction (every executor can: a savepoint when one is open). */
export type Starter = { transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> };

/** Adds a statement's answer to the running total. */
function add(total: Answer, a: Answer): void {
  total.count += a.count;
  for (const r of a.rows) total.rows.push(r);
}

const ignore = (): undefined => undefined;

/**
 * Runs `stmts` in order, each built while the server runs the one before, in one transaction when there are
 * several; returns the summed count and the rows.
 */
export async function runAll(db: Executor, stmts: Iterator<BulkInsert, void>): Promise<Answer> {
  const total: Answer = { count: 0, rows: [] };
  const first = stmts.next();
  if (first.done) return total;
  const second = stmts.next();
  if (second.done) return send(db, first.value);
  return (db as unknown as Starter).transaction(async (tx) => {
    let pending = send(tx, first.value);
    try {
      for (let next: IteratorResult<BulkInsert, void> = second; !next.done; next = stmts.next()) {
        add(total, await pending);
        pending = send(tx, next.value);
        pending.catch(ignore); // awaited next round; meanwhile the next statement is built
      }
      add(total, await pending);
    } finally {
      await pending.catch(ignore);
    }
    return total;
  });
}
