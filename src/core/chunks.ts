/**
 * Reading an iterable or an async iterable in chunks: what `executeMany` (parameter sets) and `insertBatch` (rows)
 * both do with a source that may hold millions of items.
 * @module
 */

/**
 * Yields `source`'s items, each mapped by `map(item, index)` (which may throw to refuse one), in arrays of `size`
 * (the last one shorter, never empty). A plain iterable (an array of 100k items is the common case) is read without
 * a microtask per item.
 */
export async function* inChunks<T, U>(
  source: Iterable<T> | AsyncIterable<T>,
  size: number,
  map: (item: T, index: number) => U,
): AsyncGenerator<U[], void, undefined> {
  let chunk: U[] = [];
  let index = 0;
  if (Symbol.asyncIterator in source) {
    for await (const item of source) {
      chunk.push(map(item, index++));
      if (chunk.length === size) {
        yield chunk;
        chunk = [];
      }
    }
  } else {
    for (const item of source) {
      chunk.push(map(item, index++));
      if (chunk.length === size) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}
