/**
 * The worker side of the `rows` transport: runs a statement as the query methods do, but instead of parsing its
 * rows into objects (which would then be v8-serialized, copied and deserialized, row by row), packs the server's
 * text of every value into chunks as the rows arrive from the socket, and sends each full chunk to the main
 * thread, which decodes it (`rows-unpack.ts`) while the worker reads and packs the next one.
 *
 * A chunk ({@link RowsChunk}) is the text of all its non-NULL values concatenated into one string, plus an
 * `Int32Array` of value lengths (-1 for NULL). A one-byte string crosses as a single copy, and the lengths array
 * is moved (transferred), so a chunk costs the main thread one message, not thousands of objects. Text rather than
 * UTF-8 bytes: the driver has already decoded each value into a string, and appending strings (flattened once, when
 * the chunk is posted) is cheaper than writing each into a buffer, while the main thread takes each value as a
 * substring, with no native call per value (per-value UTF-8 decoding measured 2× slower).
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

/**
 * Packed rows of one statement, as a tuple (it crosses threads: v8 reads and writes arrays faster than objects):
 * - `stmt`: the statement the rows belong to (0, or its index in a multi-statement string);
 * - `rows`: how many rows the chunk holds;
 * - `text`: the server's text of every non-NULL value, row by row, concatenated;
 * - `lens`: each value's length in `text` (UTF-16 code units), or -1 for NULL, row by row (a typed array in a part,
 *   moved to the main thread; a plain array in an answer's tail, which v8 serializes natively);
 * - `names`, `types`: the statement's column names and type OIDs, on its first chunk only.
 */
export type RowsChunk = [stmt: number, rows: number, text: string, lens: Int32Array<ArrayBuffer> | number[], names?: string[], types?: number[]];

/** A chunk sent as a part: its lengths array is moved to the main thread. */
type PartChunk = [stmt: number, rows: number, text: string, lens: Int32Array<ArrayBuffer>, names?: string[], types?: number[]];

/**
 * The final answer of a `rows` call, as a tuple: the statement whose result the query methods return (the last
 * one with columns, else the last one), its row count and command, its fields (for `query` only: the other
 * methods do not return them), and the rows packed since the last part (a small result travels here only: one
 * message in all).
 */
export type RowsAnswer = [stmt: number, rowCount: number | null, command: string, fields: FieldInfo[] | null, tail: RowsChunk | null];

/**
 * A chunk is sent once its text reaches this many characters (or its values {@link MAX_CHUNK_VALUES}). Small
 * chunks measured best (64K characters: 1.1–1.3× async on the bench's 1M-row read; 1M: 1.0–1.1×; 4M: 0.9×): the main
 * thread decodes one while the worker packs the next, each fits in cache, and a decoded string that is a slice of
 * a chunk's text keeps at most one small chunk alive.
 */
const MAX_CHUNK_CHARS = 1 << 16;
/** The first chunk's text limit: the main thread starts decoding early, then chunks double up to the maximum. */
const FIRST_CHUNK_CHARS = 1 << 14;
/** Most values per chunk (the lengths array: 64 KB). */
const MAX_CHUNK_VALUES = 1 << 14;

/** The chunk limits (for tests of chunk boundaries). @internal */
export const chunkLimits = { firstChars: FIRST_CHUNK_CHARS, maxChars: MAX_CHUNK_CHARS, maxValues: MAX_CHUNK_VALUES } as const;

/** Packs rows into chunks, sending the full ones through `send`. */
export class RowPacker {
  private text = "";
  /** The lengths of the values packed so far (a plain array: a part gets a typed copy, an answer's tail this). */
  private lens: number[] = [];
  private rows = 0;
  private stmt = -1;
  /** The current statement's column names and type OIDs, until its first chunk carries them. */
  private cols: [names: string[], types: number[]] | undefined;
  /** Rows taken from the current statement (at most `limit`). */
  private taken = 0;
  private budget = FIRST_CHUNK_CHARS;

  /**
   * @param send Sends a full chunk (it is the packer's no more: its lengths array may be moved).
   * @param limit Most rows kept per statement (1 for `fetchOne`/`fetchVal`: the rest are skipped unread).
   */
  constructor(
    private readonly send: (chunk: PartChunk) => void,
    private readonly limit: number,
  ) {}

  /** A statement's rows begin (its RowDescription arrived). */
  begin(stmt: number, fields: readonly FieldInfo[]): void {
    this.flush();
    this.stmt = stmt;
    this.cols = [fields.map((f) => f.name), fields.map((f) => f.dataTypeID)];
    this.taken = 0;
  }

  /** Adds one row: the server's text of each value, `null` for NULL. */
  add(values: readonly (string | null)[]): void {
    if (this.taken >= this.limit) return;
    this.taken++;
    const lens = this.lens;
    let text = this.text;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v === null) lens.push(-1);
      else {
        text += v;
        lens.push(v.length);
      }
    }
    this.text = text;
    this.rows++;
    if (text.length >= this.budget || lens.length >= MAX_CHUNK_VALUES) this.flush();
  }

  /** Sends the rows packed so far as a chunk (then packs into a new one). */
  private flush(): void {
    if (this.rows === 0) return;
    const lens = new Int32Array(this.lens);
    const chunk: PartChunk = this.cols ? [this.stmt, this.rows, this.text, lens, ...this.cols] : [this.stmt, this.rows, this.text, lens];
    this.cols = undefined;
    this.text = "";
    this.rows = 0;
    this.lens = [];
    this.budget = Math.min(this.budget * 2, MAX_CHUNK_CHARS);
    this.send(chunk);
  }

  /** The final answer: the picked statement's facts (its fields if `withFields`) and the rows not sent yet. */
  answer(stmt: number, r: QueryResult, withFields: boolean): RowsAnswer {
    let tail: RowsChunk | null = null;
    if (this.rows > 0) tail = this.cols ? [this.stmt, this.rows, this.text, this.lens, ...this.cols] : [this.stmt, this.rows, this.text, this.lens];
    this.rows = 0;
    return [stmt, r.rowCount, r.command, withFields ? r.fields.map((f) => ({ ...f })) : null, tail];
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
  const packer = new RowPacker((chunk) => call.part(chunk, [chunk[3].buffer]), FIRST_ROW_ONLY.has(method) ? 1 : Infinity);
  let query: PackingQuery | undefined;
  const make: MakeQuery = (config, callback) => (query = new PackingQuery(config, callback, packer)) as unknown as pg.Submittable;
  const pick = (r: QueryResult): RowsAnswer => packer.answer(query!.results().indexOf(r), r, method === "query");
  return (obj as Queryable)._runWith(sql, params, options, pick, make);
}
