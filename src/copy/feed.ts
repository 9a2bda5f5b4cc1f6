/**
 * copyInsert's rows on their way to COPY chunks: the first row read ahead (its keys are the default columns), then
 * every row encoded by the one encoder. Rows may be encoded where `copyInsert` runs, or already on the synchronous
 * facade's main thread ({@link EncodedRows}: the worker then receives bytes, not a million cloned objects); both
 * run the code below, so both sides give the same chunks, counts and errors.
 * @module
 */
import { describeType } from "../core/options.js";
import { CopyEncoder } from "./encode.js";

/** What is known of the first row before the columns are chosen. */
export type FirstRow = { keys: string[] } | { empty: true } | { invalid: string };

/** A chunk of encoded rows and the number of rows encoded so far. */
export interface EncodedChunk {
  data: Uint8Array;
  rows: number;
}

/**
 * Rows encoded on the synchronous facade's main thread: the first row's facts and the chunks (pulled by the
 * worker as the COPY needs them).
 * @internal
 */
export interface EncodedRows {
  __tscopgCopyRows: 1;
  first: FirstRow;
  chunks: Iterable<EncodedChunk> | AsyncIterable<EncodedChunk>;
}

export function isEncodedRows(v: unknown): v is EncodedRows {
  return typeof v === "object" && v !== null && (v as Partial<EncodedRows>).__tscopgCopyRows === 1;
}

/** The facts of the first row (`r`: the rows iterator's first result). */
export function firstRowOf(r: IteratorResult<unknown>): FirstRow {
  if (r.done) return { empty: true };
  const row = r.value;
  if (typeof row !== "object" || row === null || Array.isArray(row)) return { invalid: describeType(row) };
  return { keys: Object.keys(row) };
}

/** Encodes the rows of a synchronous iterator, `first` being its first result (already read). */
export function* encodeRows(method: string, columns: readonly string[], first: IteratorResult<unknown>, it: Iterator<unknown>): Generator<EncodedChunk> {
  const enc = new CopyEncoder(method, columns);
  for (let r = first; !r.done; r = it.next()) {
    const data = enc.objectRow(r.value);
    if (data !== undefined) yield { data, rows: enc.rows };
  }
  const rest = enc.flush();
  if (rest !== undefined) yield { data: rest, rows: enc.rows };
}

/** Encodes the rows of an async iterator (or an object-mode Readable's), `first` being its first result. */
export async function* encodeRowsAsync(method: string, columns: readonly string[], first: IteratorResult<unknown>, it: AsyncIterator<unknown>): AsyncGenerator<EncodedChunk> {
  const enc = new CopyEncoder(method, columns);
  for (let r = first; !r.done; r = await it.next()) {
    const data = enc.objectRow(r.value);
    if (data !== undefined) yield { data, rows: enc.rows };
  }
  const rest = enc.flush();
  if (rest !== undefined) yield { data: rest, rows: enc.rows };
}
