/**
 * One pipelined batch: the same statement once per parameter list, written at once and read back together.
 * @module
 */
import type { StatementResult } from "./statement-result.js";
import type { TxStatus } from "./statement-result.js";

/**
 * Sends `text` once per parameter list through `send` (which writes synchronously, so nothing interleaves on a
 * shared connection) and resolves with the summed row counts; rejects with the first statement's error. With
 * `atomic` on a session outside a transaction (`txStatus` "I"), the batch is wrapped in BEGIN/COMMIT and is
 * all-or-nothing; inside a transaction it simply joins it.
 */
export async function runBatch(
  txStatus: TxStatus,
  text: string,
  valuesList: unknown[][],
  atomic: boolean,
  send: (text: string, values?: unknown[]) => Promise<StatementResult>,
): Promise<number> {
  const wrap = atomic && txStatus === "I";
  const promises: Promise<StatementResult>[] = [];
  if (wrap) promises.push(send("BEGIN"));
  for (const values of valuesList) promises.push(send(text, values));
  if (wrap) promises.push(send("COMMIT"));
  const settled = await Promise.allSettled(promises);
  let total = 0;
  let firstError: unknown;
  const from = wrap ? 1 : 0;
  const to = wrap ? settled.length - 1 : settled.length;
  for (let i = from; i < to; i++) {
    const s = settled[i]!;
    if (s.status === "rejected") firstError ??= s.reason;
    else total += s.value.rowCount ?? 0;
  }
  if (wrap) {
    const begin = settled[0]!;
    if (begin.status === "rejected") throw begin.reason;
    const commit = settled[settled.length - 1]!;
    if (commit.status === "rejected") firstError ??= commit.reason;
  }
  if (firstError) throw firstError;
  return total;
}
