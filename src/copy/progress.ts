/**
 * Progress of a COPY, reported through `onProgress` at most once per 64 KB moved and once at the end. The same
 * counter runs on the async side and, for `copyTo`, on the synchronous facade's main thread (the iterator is pulled
 * there, long after the call that made it returned), so both sides report the same calls.
 * @module
 */

/** What `onProgress` receives. */
export interface CopyProgress {
  /**
   * Rows so far: encoded and sent (`copyInsert`), or output lines received (`copyTo`: exact in the text format
   * and in CSV without line breaks inside values). `copyFrom` cannot count rows in the bytes it is given: 0 until
   * its last call, which gives the server's count (as `copyInsert`'s does).
   */
  rows: number;
  /** Bytes sent or received so far. */
  bytes: number;
}

export type OnProgress = (progress: CopyProgress) => unknown;

const PROGRESS_BYTES = 64 * 1024;

/** Calls `onProgress` when at least 64 KB moved since its last call, or when `last`. */
export function progressReporter(onProgress: OnProgress | undefined): (rows: number, bytes: number, last?: boolean) => unknown {
  let next = PROGRESS_BYTES;
  return (rows, bytes, last = false) => {
    if (onProgress === undefined || (!last && bytes < next)) return undefined;
    next = bytes + PROGRESS_BYTES;
    return onProgress({ rows, bytes });
  };
}

function countLines(chunk: Uint8Array): number {
  let n = 0;
  for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** A counter of output chunks (`copyTo`): `chunk` per chunk received, `end` when the output ended. */
export function outputProgress(onProgress: OnProgress | undefined): { chunk(c: Uint8Array): unknown; end(): unknown } {
  const report = progressReporter(onProgress);
  let rows = 0;
  let bytes = 0;
  return {
    chunk(c) {
      rows += countLines(c);
      bytes += c.byteLength;
      return report(rows, bytes);
    },
    end: () => report(rows, bytes, true),
  };
}

/** Wraps a synchronous iterator of output chunks to report progress as they are pulled (the sync `copyTo`). */
export function withSyncProgress<T extends Uint8Array>(it: IterableIterator<T> & Disposable, onProgress: OnProgress): IterableIterator<T> & Disposable {
  const counter = outputProgress(onProgress);
  const wrapped = {
    next(): IteratorResult<T> {
      const r = it.next();
      if (r.done) counter.end();
      else counter.chunk(r.value);
      return r;
    },
    return(value?: unknown): IteratorResult<T> {
      return it.return!(value) as IteratorResult<T>;
    },
    [Symbol.iterator]() {
      return wrapped;
    },
    [Symbol.dispose]() {
      it[Symbol.dispose]();
    },
  };
  return wrapped;
}
