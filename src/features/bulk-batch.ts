/**
 * `insertBatch`: rows read from an array, an iterable or an async iterable, `batchSize` at a time, each batch one
 * statement (or a few, for a wide table), all in one transaction. The next batch is read and encoded while the
 * server inserts the previous one.
 * @module
 */
import type { Row } from "../core/api.js";
import { inChunks } from "../core/chunks.js";
import { ParameterError } from "../errors.js";
import type { InsertBatchOptions } from "./bulk.js";
import { check, plan, send, statements, type Answer, type Starter } from "./bulk-plan.js";
import { checkRow, type BulkRow } from "./bulk-rows.js";
import { columnTypes } from "./bulk-sql.js";
import type { Executor } from "./registry.js";

const DEFAULT_BATCH = 1000;

/** Reads `source` in arrays of `size` checked rows. */
function batchesOf(source: Iterable<unknown> | AsyncIterable<unknown>, size: number): AsyncGenerator<BulkRow[], void, undefined> {
  return inChunks(source, size, (row, index) => {
    checkRow("insertBatch", row, index);
    return row;
  });
}

/** {@link BulkApi.insertBatch} (the registry types it from there). */
export async function insertBatch(db: Executor, table: string, rows: Iterable<Row> | AsyncIterable<Row>, options?: InsertBatchOptions): Promise<number> {
  const p = plan("insertBatch", table, options as Record<string, unknown> | undefined, { batchSize: "number", onProgress: "function" });
  const size = (p["batchSize"] as number | undefined) ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(size) || size < 1) throw new ParameterError(`insertBatch(): batchSize must be an integer ≥ 1, got ${size}`);
  const onProgress = p["onProgress"] as ((n: number) => unknown) | undefined;
  if (rows === null || typeof rows !== "object" || !(Symbol.iterator in rows || Symbol.asyncIterator in rows)) {
    throw new ParameterError(`insertBatch(): rows must be an iterable (an array, a generator, …) or an async iterable of plain objects`);
  }
  const batches = batchesOf(rows, size);
  try {
    const first = await batches.next();
    if (first.done) return 0;
    const firstChecked = check(p, first.value, 0, new Map());
    const types = await columnTypes(db, p.t);
    return await (db as unknown as Starter).transaction(async (tx) => {
      let total = 0;
      let offset = 0;
      let pending: Promise<Answer[]> | undefined;
      const settle = async () => {
        if (pending === undefined) return;
        const answers = await pending;
        pending = undefined;
        for (const a of answers) total += a.count;
        await onProgress?.(total);
      };
      try {
        for (let next: IteratorResult<BulkRow[]> = first; !next.done; next = await batches.next()) {
          const stmts = [...statements(p, types, next === first ? firstChecked : check(p, next.value, offset, new Map()))];
          offset += next.value.length;
          await settle();
          pending = runInOrder(tx, stmts);
          pending.catch(() => undefined); // awaited by settle(); meanwhile reading the source must not report it unhandled
        }
        await settle();
      } finally {
        await pending?.catch(() => undefined);
      }
      return total;
    });
  } finally {
    await batches.return(undefined);
  }
}

async function runInOrder(db: Executor, stmts: readonly { text: string; values: string[] }[]): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const s of stmts) out.push(await send(db, s));
  return out;
}

