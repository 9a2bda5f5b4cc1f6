/**
 * The iterator `stream()` returns: rows of a {@link ServerCursor} read `batchSize` at a time, lazily (nothing is
 * sent before the first `next()`).
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Row } from "./api.js";
import { fieldsOf, ServerCursor, type PlainSessionHost, type RawBatch, type RawRow } from "./server-cursor.js";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Rows over a server-side cursor. `break` (or `return()`, or `await using`) closes the cursor and gives its
 * connection back; an error of the statement rejects the next `next()` and releases everything; after that (or the
 * last row) the iterator is done.
 */
export class RowStream<R extends object = Row> implements AsyncIterableIterator<R>, AsyncDisposable {
  readonly #cursor: ServerCursor;
  /**
   * The caller's async context when the stream was made: the cursor opens in it, so a stream made inside a
   * `transaction()` callback runs on the transaction's connection wherever it is iterated.
   */
  readonly #context = AsyncLocalStorage.snapshot();
  #rows: R[] = [];
  #pos = 0;
  #done = false;

  /** @internal Use `stream()`. */
  constructor(
    host: PlainSessionHost,
    text: string,
    values: unknown[] | undefined,
    private readonly batchSize: number,
    signal?: AbortSignal,
  ) {
    this.#cursor = new ServerCursor(host, text, values, signal);
  }

  next(): Promise<IteratorResult<R>> {
    // A row of the batch in memory: no async function's machinery per row (the hot path of `for await`).
    if (this.#pos < this.#rows.length) return Promise.resolve({ done: false, value: this.#rows[this.#pos++]! });
    return this.#nextBatch();
  }

  async #nextBatch(): Promise<IteratorResult<R>> {
    if (this.#done) return DONE;
    const batch = await this.#read(false);
    this.#rows = batch.rows as R[];
    this.#pos = 0;
    if (this.#rows.length === 0) return DONE;
    return { done: false, value: this.#rows[this.#pos++]! };
  }

  /** Closes the cursor and gives its connection back (nothing more is read). */
  async return(): Promise<IteratorResult<R>> {
    this.#done = true;
    this.#rows = [];
    await this.#cursor.close();
    return DONE;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next batch for the synchronous facade's worker: rows left from an earlier `next()`, else a batch read as
   * the server's text (packed by the worker, decoded on the main thread).
   * @internal
   */
  async _nextBatch(): Promise<RawBatch> {
    if (this.#pos < this.#rows.length) {
      const values = this.#rows.slice(this.#pos) as Row[];
      this.#rows = [];
      return { values, done: this.#done };
    }
    if (this.#done) return { done: true };
    const batch = await this.#read(true);
    return { raw: batch.rows as RawRow[], fields: fieldsOf(this.#cursor), done: batch.done };
  }

  async #read(raw: boolean): Promise<{ rows: unknown[]; done: boolean }> {
    try {
      const batch = await this.#context(() => (raw ? this.#cursor.read(this.batchSize, true) : this.#cursor.read(this.batchSize)));
      if (batch.done) this.#done = true;
      return batch;
    } catch (err) {
      this.#done = true;
      throw err;
    }
  }

  toString(): string {
    return `RowStream(batchSize=${this.batchSize}${this.#done ? ", done" : ""})`;
  }
}
