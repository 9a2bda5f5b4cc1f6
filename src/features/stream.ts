/**
 * `stream()`: a statement's rows over a server-side cursor, read `batchSize` at a time, so memory stays bounded
 * whatever the result's size. An async iterable (a lazy sync iterable on the synchronous facade).
 * @module
 */
import type { Mode, Row } from "../core/api.js";
import { CANCEL_OPTIONS, cancelSignal } from "../core/cancel.js";
import { checkOptions } from "../core/options.js";
import { RowStream } from "../core/row-stream.js";
import { boundStatement } from "../sql/encode.js";
import type { QueryParams } from "../sql/placeholders.js";
import { ParameterError } from "../errors.js";
import type { Executor, Feature } from "./registry.js";

/** Options of {@link StreamApi.stream}. */
export interface StreamOptions {
  /** Rows fetched from the server per round trip (default 1000): the memory bound. */
  batchSize?: number;
  /** Aborting it cancels the statement on the server; the iteration then fails with a `QueryCanceled`-family error. */
  signal?: AbortSignal;
  /**
   * A deadline in ms, counted from the call, over the whole iteration: when it runs out the statement is cancelled
   * as by `signal` (the synchronous facade's way to cancel: a live signal cannot cross to its worker).
   */
  timeout?: number;
}

/** The rows of `stream()`: an async iterator (async) or a lazy iterator (sync); closing it closes the cursor. */
export type RowIterator<M extends Mode, R> = M extends "async" ? AsyncIterableIterator<R> & AsyncDisposable : IterableIterator<R> & Disposable;

/** The streaming methods' types in mode `M`. */
export interface StreamApi<M extends Mode> {
  /**
   * Iterates over a statement's rows through a server-side cursor: `batchSize` rows per round trip, nothing sent
   * until the iteration starts. `break` (or `return()`) closes the cursor and gives the connection back; an error
   * of the statement (even at row 5,000) rejects the next step and releases everything. Inside a `transaction()`
   * callback, or on a connection or a transaction, it runs on that connection (and sees its uncommitted rows);
   * while it is open, another statement on the same connection is refused (read it to its end or `break` first).
   * Rows equal `execute()`'s.
   * @example for await (const row of db.stream("SELECT * FROM big")) total += row.n;
   */
  stream<R extends object = Row>(sql: string, params?: QueryParams | null, options?: StreamOptions): RowIterator<M, R>;
}

const DEFAULT_BATCH = 1000;

function stream(db: Executor, sql: string, params?: QueryParams | null, options?: StreamOptions): RowStream {
  const { batchSize = DEFAULT_BATCH, signal, timeout } = checkOptions("stream", options, { batchSize: "number", ...CANCEL_OPTIONS });
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ParameterError(`stream(): batchSize must be an integer ≥ 1, got ${batchSize}`);
  const { text, values } = boundStatement(sql, params);
  return new RowStream(db, text, values, batchSize, cancelSignal("stream", { signal, timeout }));
}

export const streamFeatures = { stream } satisfies Record<string, Feature>;
