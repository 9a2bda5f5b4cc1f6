/**
 * Batches of rows of a server-side cursor (a `stream()`, a cursor's iteration) crossing the worker: the worker
 * packs each batch the cursor read as the server's text with the `rows` transport's packer (`rows-pack.ts`), and
 * the main thread decodes it with the `rows` transport's decoder (`rows-unpack.ts`): the same values as the async
 * side's, one message per batch, no row objects serialized one by one.
 *
 * Iterators that can do so have a `_nextBatch()` method (see `core/server-cursor.ts`, {@link RawBatch}); the
 * worker's `next` op uses it ({@link nextBatch}), and the main side's iterator turns what crossed into rows
 * ({@link unpackBatch}).
 * @module
 */
import type { Row } from "../core/api.js";
import type { RawBatch } from "../core/server-cursor.js";
import { RowPacker, type RowsChunk } from "./rows-pack.js";
import { unpackChunk } from "./rows-unpack.js";

/** What crosses for one batch: rows as objects, or packed chunks (each carrying its columns). */
export interface BatchAnswer {
  values: unknown[];
  chunks?: RowsChunk[];
  done: boolean;
}

/** An iterator that reads batches of a server cursor (see {@link RawBatch}). */
interface BatchSource {
  _nextBatch(max: number): Promise<RawBatch>;
}

/** Whether `it` can hand over packed batches. */
export function hasBatches(it: unknown): it is BatchSource {
  return typeof (it as Partial<BatchSource> | null)?._nextBatch === "function";
}

/** The worker side: the next batch of `it`, packed. */
export async function nextBatch(it: BatchSource, max: number): Promise<BatchAnswer> {
  const batch = await it._nextBatch(max);
  if (batch.raw === undefined || batch.raw.length === 0) return { values: batch.values ?? [], done: batch.done };
  const chunks: RowsChunk[] = [];
  const fields = batch.fields ?? [];
  const names = fields.map((f) => f.name);
  const types = fields.map((f) => f.dataTypeID);
  // Every chunk carries the columns (a few strings), so each decodes on its own.
  const packer = new RowPacker((chunk) => chunks.push([chunk[0], chunk[1], chunk[2], chunk[3], names, types]), Infinity);
  packer.begin(0, fields as never);
  for (const row of batch.raw) packer.add(row);
  const tail = packer.answer(0, { rows: [], rowCount: null, command: "", fields: [] }, false)[4];
  if (tail !== null) chunks.push([tail[0], tail[1], tail[2], tail[3], names, types]);
  return { values: [], chunks, done: batch.done };
}

/** The main side: the rows of a batch that crossed (as they are, or decoded from its chunks). */
export function unpackBatch(answer: BatchAnswer): { values: unknown[]; done: boolean } {
  if (answer.chunks === undefined) return answer;
  const values: Row[] = [];
  for (const chunk of answer.chunks) for (const row of unpackChunk(chunk)) values.push(row);
  return { values, done: answer.done };
}
