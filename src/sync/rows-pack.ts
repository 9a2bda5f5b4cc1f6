/**
 * The worker side of the `rows` transport: runs a statement as the query methods do, but instead of parsing its
 * rows into objects (which would then be v8-serialized, copied and deserialized, row by row), packs the server's
 * text of every value into chunks as the rows arrive from the socket, and sends each full chunk to the main
 * thread, which decodes it (`rows-unpack.ts`) while the worker reads and packs the next one.
 *
 * A chunk ({@link RowsChunk}) is the text of all its non-NULL values concatenated into one string, plus an
 * `Int32Array` of value lengths (-1 for NULL). A one-byte string crosses as a single copy, and the lengths array
 * is moved (transferred), so a chunk costs the main thread one message, not thousands of objects.
 * @module
 */
import pg from "pg";
import type { ExecuteOptions, QueryResult } from "../core/api.js";
import type { MakeQuery } from "../core/pg-session.js";
import type { Queryable } from "../core/queryable.js";
import type { QueryParams } from "../sql/placeholders.js";
import type { WorkerCall } from "./transports.js";

/** A result column, as node-postgres describes it (plain data: it crosses to the main thread). */
export type FieldInfo = QueryResult["fields"][number];

/** Packed rows of one statement. */
export interface RowsChunk {
  /** The statement the rows belong to: 0, or its index in a multi-statement string. */
  stmt: number;
  /** Its columns (names and type OIDs), on the statement's first chunk only. */
  cols?: { names: string[]; types: number[] } | undefined;
  /** How many rows the chunk holds. */
  rows: number;
  /** The server's text of every non-NULL value, row by row, concatenated. */
  text: string;
  /**
   * Each value's length in `text` (UTF-16 code units), or -1 for NULL, row by row; only the first
   * `rows × columns` entries count (the array may be longer).
   */
  lens: Int32Array<ArrayBuffer>;
}

/** The final answer of a `rows` call: which statement's rows the method returns, and that statement's facts. */
export interface RowsAnswer {
  /** The statement whose result the query methods return (the last one with columns, else the last one). */
  stmt: number;
  rowCount: number | null;
  command: string;
  fields: FieldInfo[];
  /** The rows packed since the last chunk sent (a small result travels here only: one message in all). */
  tail?: RowsChunk | undefined;
}

/** A chunk is sent once its text reaches this many characters; the first chunks are smaller (see below). */
const MAX_CHUNK_CHARS = 1 << 20;
/** The first chunk's text limit: the main thread starts decoding early, then chunks double up to the maximum. */
const FIRST_CHUNK_CHARS = 1 << 15;
/** Most values per chunk (the lengths array: 256 KB). */
const MAX_CHUNK_VALUES = 1 << 16;

/** Packs rows into chunks, sending the full ones through `send`. */
export class RowPacker {
  private text = "";
  private lens: Int32Array<ArrayBuffer>;
  private used = 0;
  private rows = 0;
  private stmt = -1;
  private cols: RowsChunk["cols"];
  /** Rows taken from the current statement (at most `limit`). */
  private taken = 0;
  private budget = FIRST_CHUNK_CHARS;

  /**
   * @param send Sends a full chunk (it is the packer's no more: its arrays may be moved).
   * @param limit Most rows kept per statement (1 for `fetchOne`/`fetchVal`: the rest are skipped unread).
   */
  constructor(
    private readonly send: (chunk: RowsChunk) => void,
    private readonly limit: number,
  ) {
    this.lens = new Int32Array(16);
  }

  /** A statement's rows begin (its RowDescription arrived). */
  begin(stmt: number, fields: readonly FieldInfo[]): void {
    this.flush();
    this.stmt = stmt;
    this.cols = { names: fields.map((f) => f.name), types: fields.map((f) => f.dataTypeID) };
    this.taken = 0;
  }

  /** Adds one row: the server's text of each value, `null` for NULL. */
  add(values: readonly (string | null)[]): void {
    if (this.taken >= this.limit) return;
    this.taken++;
    const n = values.length;
    if (this.used + n > this.lens.length) this.grow(n);
    const lens = this.lens;
    let k = this.used;
    let text = this.text;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (v === null) lens[k++] = -1;
      else {
        text += v;
        lens[k++] = v.length;
      }
    }
    this.text = text;
    this.used = k;
    this.rows++;
    if (text.length >= this.budget || k >= MAX_CHUNK_VALUES) this.flush();
  }

  /** Room for `n` more values: a longer lengths array (the next chunks start with the same capacity). */
  private grow(n: number): void {
    const bigger = new Int32Array(Math.max(this.lens.length * 2, this.used + n));
    bigger.set(this.lens.subarray(0, this.used));
    this.lens = bigger;
  }

  /** The rows packed so far, as a chunk (then the packer starts a new one). */
  private take(): RowsChunk | undefined {
    if (this.rows === 0) return undefined;
    const chunk: RowsChunk = { stmt: this.stmt, cols: this.cols, rows: this.rows, text: this.text, lens: this.lens };
    this.cols = undefined;
    this.text = "";
    this.rows = 0;
    this.used = 0;
    this.lens = new Int32Array(this.lens.length);
    return chunk;
  }

  /** Sends the rows packed so far. */
  private flush(): void {
    const chunk = this.take();
    if (chunk === undefined) return;
    this.budget = Math.min(this.budget * 2, MAX_CHUNK_CHARS);
    this.send(chunk);
  }

  /** The final answer: the picked statement's facts and the rows not sent yet. */
  answer(stmt: number, r: QueryResult): RowsAnswer {
    const used = this.used;
    const tail = this.take();
    // The tail is v8-serialized with the answer, which copies a typed array's whole buffer: trim it first.
    if (tail !== undefined) tail.lens = tail.lens.slice(0, used);
    return { stmt, rowCount: r.rowCount, command: r.command, fields: r.fields.map((f) => ({ ...f })), tail };
  }
}

/** The parts of node-postgres' Query that the packing query builds on. */
interface DriverQuery {
  _results: unknown;
  _canceledDueToError: unknown;
  handleRowDescription(msg: { fields: FieldInfo[] }): void;
  handleDataRow(msg: { fields: (string | null)[] }): void;
}

const DriverQuery = pg.Query as unknown as new (config: pg.QueryConfig, values: undefined, callback: unknown) => DriverQuery;

/**
 * node-postgres' Query, with each row's values handed to a {@link RowPacker} (as the server's text, unparsed)
 * instead of being parsed and kept. Everything else (the protocol, errors, the command tag, the fields, multiple
 * statements) is the driver's own.
 */
class PackingQuery extends DriverQuery {
  constructor(
    config: { text: string; values: unknown[] | undefined },
    callback: unknown,
    private readonly packer: RowPacker,
  ) {
    super({ text: config.text, values: config.values }, undefined, callback);
  }

  /** The results of the statements so far (one, or one per statement of a multi-statement string). */
  results(): unknown[] {
    return Array.isArray(this._results) ? this._results : [this._results];
  }

  override handleRowDescription(msg: { fields: FieldInfo[] }): void {
    super.handleRowDescription(msg);
    this.packer.begin(this.results().length - 1, msg.fields);
  }

  override handleDataRow(msg: { fields: (string | null)[] }): void {
    if (this._canceledDueToError) return;
    try {
      this.packer.add(msg.fields);
    } catch (err) {
      this._canceledDueToError = err; // reported like a parse error: after the statement ends
    }
  }
}

/** Methods that return at most the first row. */
const FIRST_ROW_ONLY = new Set(["fetchOne", "fetchVal"]);

/**
 * The worker side of the `rows` transport: runs `method`'s statement on `obj` (a Queryable) through the query
 * methods' own path, sending full chunks of rows as parts, and resolves with the {@link RowsAnswer}.
 */
export async function packRows(call: WorkerCall, obj: object, method: string, args: unknown[]): Promise<RowsAnswer> {
  const [sql, params, options] = args as [string, QueryParams | null | undefined, ExecuteOptions | undefined];
  const packer = new RowPacker((chunk) => call.part(chunk, [chunk.lens.buffer as ArrayBuffer]), FIRST_ROW_ONLY.has(method) ? 1 : Infinity);
  let query: PackingQuery | undefined;
  const make: MakeQuery = (config, callback) => (query = new PackingQuery(config, callback, packer)) as unknown as pg.Submittable;
  const pick = (r: QueryResult): RowsAnswer => packer.answer(query!.results().indexOf(r), r);
  return (obj as Queryable)._runWith(sql, params, options, pick, make);
}
