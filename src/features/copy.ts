/**
 * COPY: copyInsert, copyFrom, copyTo, on the one COPY engine (`src/copy/`). Each runs on a plain session
 * (`_withPlainSession`): inside a `transaction()` callback, the transaction's own connection (the COPY joins it
 * and rolls back with it); outside, a dedicated connection, given back when the COPY ends, however it ends.
 * @module
 */
import type { Readable } from "node:stream";
import type { Mode, Out, Row } from "../core/api.js";
import { CANCEL_OPTIONS, cancelSignal, cancellable } from "../core/cancel.js";
import { checkOptions, describeType, type OptionKind } from "../core/options.js";
import { ParameterError } from "../errors.js";
import { encodeRows, encodeRowsAsync, firstRowOf, isEncodedRows, type EncodedChunk, type FirstRow } from "../copy/feed.js";
import { copyInCancellable, copyOut, isCopy } from "../copy/exchange.js";
import { ConsumerGone, Handoff } from "../copy/handoff.js";
import { outputProgress, progressReporter, type CopyProgress } from "../copy/progress.js";
import { idents, sql } from "../sql/compose.js";
import { validateIdentifiers } from "../sql/identifiers.js";
import { defineFeature } from "./feature-meta.js";
import type { Executor, Feature } from "./registry.js";
import { IN_SCHEMA, columnList, target } from "./target.js";

export type { CopyProgress } from "../copy/progress.js";

/** Options of every COPY method. */
export interface CopyOptions {
  /** Called as data moves (about every 64 KB), then once at the end with the server's row count. Awaited. */
  onProgress?: ((progress: CopyProgress) => unknown) | undefined;
  /** Aborts the COPY (see the cancellation section); a signal already aborted refuses before anything is sent. */
  signal?: AbortSignal | undefined;
  /**
   * A deadline in ms, counted from the call, over the whole COPY: when it runs out the COPY is cancelled as by
   * `signal` (the synchronous facade's way to cancel: a live signal cannot cross to its worker).
   */
  timeout?: number | undefined;
}

/** Options of {@link CopyApi.copyInsert}. */
export interface CopyInsertOptions<R = Row> extends CopyOptions {
  /** The table's schema (default `public`, or the one in `"schema.table"`). */
  schema?: string | undefined;
  /** The columns copied, in order (default: the first row's keys). */
  columns?: readonly Extract<keyof R, string>[] | undefined;
}

/** Rows for copyInsert: an array, an iterable (generator), or (async API) an async iterable or object-mode Readable. */
export type CopyRows<R, M extends Mode> = M extends "async" ? Iterable<R> | AsyncIterable<R> : Iterable<R>;

/** A chunk of COPY data: bytes, or text (sent as UTF-8). */
export type CopyChunk = Buffer | Uint8Array | string;

/** Data for copyFrom: one chunk, or an iterable of chunks, or (async API) an async iterable or a Readable of them. */
export type CopySource<M extends Mode> = CopyChunk | Iterable<CopyChunk> | (M extends "async" ? AsyncIterable<CopyChunk> | Readable : never);

/** The COPY methods' types in mode `M`. */
export interface CopyApi<M extends Mode> {
  /**
   * Inserts `rows` (plain objects) into `table` with `COPY … FROM STDIN`, streaming: the rows are encoded (as bind
   * parameters are, see `src/copy/encode.ts`) and sent in chunks of about 64 KB as the server takes them, so a
   * generator of 10M rows never sits in memory. The columns are the `columns` option, else the first row's keys;
   * a missing key is NULL; a key that is not a column is refused ({@link ParameterError}). A failing row (a value
   * the column refuses, a row the encoder refuses) or a source that throws fails the whole COPY: nothing is
   * inserted, the error raised is the server's or the source's own, and the connection is given back usable.
   * @returns the number of rows the server inserted (its command tag).
   */
  copyInsert<R extends object = Row>(table: string, rows: CopyRows<R, M>, options?: CopyInsertOptions<R>): Out<M, number>;
  /**
   * Runs `copySql`, a `COPY … FROM STDIN` the caller writes (CSV, binary, any option), sending `source`'s bytes.
   * @returns the server's row count.
   */
  copyFrom(copySql: string, source: CopySource<M>, options?: CopyOptions): Out<M, number>;
  /**
   * Runs `copySql`, a `COPY … TO STDOUT`, and gives its output as chunks of bytes, lazily: the COPY starts at the
   * first `next()`. Ending early (`break`, `return()`) closes the connection the COPY ran on (PostgreSQL offers no
   * way to stop a COPY TO half-way; the database opens another one when needed; inside a transaction, the
   * transaction is lost).
   */
  copyTo(copySql: string, options?: CopyOptions): M extends "async" ? AsyncIterableIterator<Buffer> & AsyncDisposable : IterableIterator<Buffer>;
}

const COPY_OPTIONS = { onProgress: "function" } as const;
const INSERT_OPTIONS = { ...COPY_OPTIONS, ...IN_SCHEMA, columns: "array" } as const;

/** The options, checked, and the one signal their `signal` and `timeout` make (see `cancelSignal`). */
function splitOptions<T extends CopyOptions>(method: string, options: T | undefined, shape: Record<string, OptionKind>): [Partial<T>, AbortSignal | undefined] {
  const checked = checkOptions(method, options, { ...shape, ...CANCEL_OPTIONS });
  return [checked, cancelSignal(method, checked)];
}

type AnyIterator<T> = { sync: Iterator<T> } | { async: AsyncIterator<T> };

function iteratorOf<T>(method: string, what: string, source: unknown): AnyIterator<T> {
  if (source !== null && typeof source === "object") {
    if (Symbol.asyncIterator in source) return { async: (source as AsyncIterable<T>)[Symbol.asyncIterator]() };
    if (Symbol.iterator in source) return { sync: (source as Iterable<T>)[Symbol.iterator]() };
  }
  throw new ParameterError(`${method}(): ${what} must be an array, an iterable or an async iterable, got ${describeType(source)}`);
}

const nextOf = <T>(it: AnyIterator<T>): IteratorResult<T> | Promise<IteratorResult<T>> => ("sync" in it ? it.sync.next() : it.async.next());
const closeOf = async (it: AnyIterator<unknown>): Promise<void> => void ("sync" in it ? it.sync.return?.() : await it.async.return?.());

/** The columns: the option's, else the first row's keys (undefined: no rows and no columns, nothing to send). */
function columnsFor(given: string[] | undefined, first: FirstRow): string[] | undefined {
  if (given !== undefined) return given;
  if ("empty" in first) return undefined;
  if ("invalid" in first) throw new ParameterError(`copyInsert(): row 0 must be a plain object, got ${first.invalid}`);
  const cols = validateIdentifiers(first.keys, "column");
  if (cols.length === 0) throw new ParameterError("copyInsert(): the first row has no keys and no columns option was given");
  return cols;
}

/** The rows' first-row facts and encoded chunks (rows encoded here, or already by the sync facade's main thread). */
async function feedOf(rows: unknown): Promise<{ first: FirstRow; chunks: (cols: string[]) => Iterable<EncodedChunk> | AsyncIterable<EncodedChunk>; close(): Promise<void> }> {
  if (isEncodedRows(rows)) return { first: rows.first, chunks: () => rows.chunks, close: async () => undefined };
  const it = iteratorOf<unknown>("copyInsert", "rows", rows);
  let first: IteratorResult<unknown>;
  try {
    first = await nextOf(it);
  } catch (err) {
    await closeOf(it).catch(() => undefined);
    throw err;
  }
  return {
    first: firstRowOf(first),
    chunks: (cols) => ("sync" in it ? encodeRows("copyInsert", cols, first, it.sync) : encodeRowsAsync("copyInsert", cols, first, it.async)),
    close: () => closeOf(it),
  };
}

async function copyInsert(db: Executor, table: string, rows: unknown, options?: CopyInsertOptions): Promise<number> {
  const [{ schema, columns, onProgress }, signal] = splitOptions("copyInsert", options, INSERT_OPTIONS);
  const t = target("copyInsert", table, schema);
  const given = columns === undefined ? undefined : columnList("copyInsert", "columns", columns);
  const feed = await feedOf(rows);
  let cols: string[] | undefined;
  try {
    cols = columnsFor(given, feed.first);
  } catch (err) {
    await feed.close();
    throw err;
  }
  if (cols === undefined) return 0; // no rows and no columns: nothing to send
  const text = sql`COPY ${t.sql} (${idents(cols, "column")}) FROM STDIN`.text;
  const report = progressReporter(onProgress);
  let bytes = 0;
  const colList = cols;
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const c of feed.chunks(colList)) {
        const b = bytesOf("copyInsert", c.data);
        bytes += b.length;
        yield b;
        await report(c.rows, bytes);
      }
    } finally {
      await feed.close();
    }
  }
  const n = await db._withPlainSession((s) => copyInCancellable(s, text, chunks(), signal));
  await report(n, bytes, true);
  return n;
}

/** A chunk of COPY data as bytes. */
function bytesOf(method: string, chunk: unknown): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk);
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new ParameterError(`${method}(): the data must be Buffers, Uint8Arrays or strings, got ${describeType(chunk)}`);
}

async function copyFrom(db: Executor, copySql: string, source: unknown, options?: CopyOptions): Promise<number> {
  const [{ onProgress }, signal] = splitOptions("copyFrom", options, COPY_OPTIONS);
  if (typeof copySql !== "string" || !isCopy(copySql, "FROM STDIN")) {
    throw new ParameterError("copyFrom(): the statement must be a COPY … FROM STDIN");
  }
  const single = typeof source === "string" || source instanceof Uint8Array;
  const it = iteratorOf<unknown>("copyFrom", "the data", single ? [source] : source);
  const report = progressReporter(onProgress);
  let bytes = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (let r = await nextOf(it); !r.done; r = await nextOf(it)) {
        const b = bytesOf("copyFrom", r.value);
        bytes += b.length;
        yield b;
        await report(0, bytes);
      }
    } finally {
      await closeOf(it);
    }
  }
  const n = await db._withPlainSession((s) => copyInCancellable(s, copySql, chunks(), signal));
  await report(n, bytes, true);
  return n;
}

function copyTo(db: Executor, copySql: string, options?: CopyOptions): AsyncIterableIterator<Buffer> & AsyncDisposable {
  const [{ onProgress }, signal] = splitOptions("copyTo", options, COPY_OPTIONS);
  if (typeof copySql !== "string" || !isCopy(copySql, "TO STDOUT")) throw new ParameterError("copyTo(): the statement must be a COPY … TO STDOUT");
  const progress = outputProgress(onProgress);
  const handoff = new Handoff<Buffer>();
  let run: Promise<void> | undefined;
  const start = (): Promise<void> =>
    db
      ._withPlainSession((s) => cancellable(s, signal, () => copyOut(s, copySql, (chunk) => handoff.put(chunk))))
      .then(
        () => handoff.close(),
        (err: unknown) => handoff.close(err instanceof ConsumerGone ? undefined : err),
      );
  const it = {
    async next(): Promise<IteratorResult<Buffer>> {
      run ??= start();
      const r = await handoff.next();
      await (r.done ? progress.end() : progress.chunk(r.value));
      return r;
    },
    async return(): Promise<IteratorResult<Buffer>> {
      if (run === undefined) run = Promise.resolve(); // never started: nothing to end
      handoff.stop();
      await run;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
    async [Symbol.asyncDispose]() {
      await it.return();
    },
  };
  return it;
}

export const copyFeatures = {
  copyInsert,
  copyFrom,
  // (An iterator, made at once; the sync facade counts its progress on the main thread.)
  copyTo: defineFeature(copyTo, { transport: "copyTo" }),
} satisfies Record<string, Feature>;
