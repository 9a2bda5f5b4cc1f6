/**
 * Iterators living in the worker, seen from the main thread: items come over in batches (one round trip per
 * batch, growing from a few items to thousands), and are yielded locally.
 * @module
 */

/** Fetches up to `max` items of the worker's iterator. */
export type FetchBatch = (max: number) => { values: unknown[]; done: boolean };

const FIRST_BATCH = 16;
const MAX_BATCH = 4096;

/**
 * A sync iterator over a worker iterator. `end` tells the worker to close it (`return()`) and how many items of the
 * last batch were not reached (a source that can, e.g. a cursor, gives them back); `owner` keeps its
 * handle alive while the iterator is reachable.
 */
export function batchedIterator(fetch: FetchBatch, end: (unread: number) => void, owner: object): IterableIterator<unknown> & Disposable {
  let buffer: unknown[] = [];
  let pos = 0;
  let done = false;
  let size = FIRST_BATCH;
  const it = {
    owner,
    next(): IteratorResult<unknown> {
      if (pos < buffer.length) return { done: false, value: buffer[pos++] };
      if (done) return { done: true, value: undefined };
      const batch = fetch(size);
      size = Math.min(size * 4, MAX_BATCH);
      buffer = batch.values;
      pos = 0;
      done = batch.done;
      if (buffer.length === 0) return { done: true, value: undefined };
      return { done: false, value: buffer[pos++] };
    },
    return(value?: unknown): IteratorResult<unknown> {
      const unread = buffer.length - pos;
      buffer = [];
      pos = 0;
      if (!done || unread > 0) {
        done = true;
        end(unread);
      }
      return { done: true, value };
    },
    [Symbol.iterator]() {
      return it;
    },
    [Symbol.dispose]() {
      it.return();
    },
  };
  return it;
}
