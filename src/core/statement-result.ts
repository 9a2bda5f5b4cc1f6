/**
 * What a statement produced, as a session hands it on.
 * @module
 */
import type { QueryResult, Submittable as PgSubmittable } from "pg";

/** What a statement produced: rows plus the command tag's facts. */
export interface StatementResult {
  rows: Record<string, unknown>[];
  /** Rows affected (INSERT/UPDATE/DELETE/…) or returned; `null` when the command reports none. */
  rowCount: number | null;
  command: string;
  /** Result columns (node-postgres field descriptions: name, dataTypeID, tableID, columnID, …). */
  fields: { name: string; dataTypeID: number }[];
}

/** What the driver answers: one result, or one per statement of a multi-statement string. */
export type RawResult = QueryResult | QueryResult[];

/**
 * The result of the statement that matters: the only one, or for a multi-statement string the last one that
 * returned rows (else the last one). The driver's own result object, viewed through {@link StatementResult}.
 */
export function lastResult(r: RawResult): StatementResult {
  if (!Array.isArray(r)) return r as unknown as StatementResult;
  for (let i = r.length - 1; i >= 0; i--) if (r[i]!.fields.length > 0) return r[i] as unknown as StatementResult;
  return r[r.length - 1] as unknown as StatementResult;
}

/** Transaction status as reported by the server: idle, in transaction, in a failed transaction. */
export type TxStatus = "I" | "T" | "E";

/**
 * Builds the driver's query object for one statement, given its text, its encoded parameters and the callback
 * that must receive its outcome (default: node-postgres' own query from `{ text, values }`). The synchronous
 * facade's worker passes one that hands rows over as they arrive instead of parsing them.
 * @internal
 */
export type MakeQuery = (
  config: { text: string; values: unknown[] | undefined },
  callback: (err: Error | null, res: QueryResult | QueryResult[]) => void,
) => PgSubmittable;
