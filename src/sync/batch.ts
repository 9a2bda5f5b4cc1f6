/**
 * How many items one crossing of the worker boundary carries: up to the count asked for, but no more than
 * {@link BATCH_BYTES} of bytes and text (an iterator of 64 KB COPY chunks asked for 4,096 items would otherwise
 * gather 256 MB before the first one crosses). Used on both sides: the worker filling a batch of an iterator it
 * holds (`next`), the main thread filling a chunk of an iterable the worker pulls.
 * @module
 */

/** The most bytes (Buffers, typed arrays) and UTF-16 code units (strings) one batch gathers. */
export const BATCH_BYTES = 1 << 20;

/** The bytes or characters of a string or a typed array; 0 for anything else. */
function flatWeight(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  return 0;
}

/**
 * The weight of one item toward {@link BATCH_BYTES}: a string's or a typed array's size, or the sum of those an
 * object holds directly (a COPY chunk `{ data, rows }`, a row of text); nested values are not counted.
 */
function weight(v: unknown): number {
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v)) return flatWeight(v);
  let sum = 0;
  for (const key in v) sum += flatWeight((v as Record<string, unknown>)[key]);
  return sum;
}

/** A batch: the items taken, and whether the source ended. */
export interface Batch {
  values: unknown[];
  done: boolean;
}

/**
 * Up to `max` items of an async iterator, stopping early once {@link BATCH_BYTES} are gathered, or (a live source
 * that says how many items it holds: `available`) when it holds none and at least one item was taken.
 */
export async function takeAsync(it: AsyncIterator<unknown>, max: number, available?: () => number): Promise<Batch> {
  const values: unknown[] = [];
  let bytes = 0;
  while (values.length < max && bytes < BATCH_BYTES) {
    if (values.length > 0 && available?.() === 0) break;
    const r = await it.next();
    if (r.done) return { values, done: true };
    values.push(r.value);
    bytes += weight(r.value);
  }
  return { values, done: false };
}

/** Up to `max` items of a sync iterator, stopping early once {@link BATCH_BYTES} are gathered. */
export function takeSync(it: Iterator<unknown>, max: number): Batch {
  const values: unknown[] = [];
  let bytes = 0;
  while (values.length < max && bytes < BATCH_BYTES) {
    const r = it.next();
    if (r.done) return { values, done: true };
    values.push(r.value);
    bytes += weight(r.value);
  }
  return { values, done: false };
}
