/**
 * The one encoder of rows for `COPY … FROM STDIN`, in PostgreSQL's text format: one line per row, fields
 * separated by tabs, `\N` for NULL, and backslash escapes for backslash, newline, carriage return and tab (so a
 * field can never end the data early with `\.`: its backslash is doubled).
 *
 * Every value is encoded exactly as a bind parameter is (`sql/encode`'s `prepareValue`, the same function): a
 * value copied in reads back as the same value sent as a parameter would. `null`/`undefined` → NULL, `bigint` →
 * exact text, `Date` → ISO-8601 in UTC, `Buffer`/`Uint8Array` → bytea (`\\x…` hex), arrays → array literals, other
 * objects → JSON, `true`/`false` → `true`/`false`. A NUL character, which PostgreSQL's text types cannot hold, is
 * refused with a {@link ParameterError} naming the row and column (a parameter would fail on the server).
 *
 * Text, not binary: measured on this machine (PG 15, 2 shared cores, 1M rows × (int4, text, float8, timestamptz,
 * bool)), this encoder costs about 0.8 s of CPU (≈ 1.25M rows/s per core; `String()` of floats and the dates'
 * ISO text are the largest parts); the server loads those rows from the text form in ≈ 0.77 s and from the binary
 * form (made by the server itself, `COPY … TO STDOUT (FORMAT binary)`, fed back with pg-copy-streams) in ≈ 0.37 s.
 * Binary would halve the server's share, but it needs every column's type before the first row (a catalog round
 * trip per call) and an encoder per type that agrees with the server's own input functions for every JS value a
 * parameter accepts (a string for an `int4`, a number for a `numeric`, `"infinity"` for a date…), where text takes
 * any value as its parameter text, exactly. Text is therefore the one encoding; a binary encoder for the common
 * types could be added behind the same {@link CopyEncoder} methods, chosen when every column's type has one.
 * @module
 */
import { describeType } from "../core/options.js";
import { ParameterError } from "../errors.js";
import { encodeDate, prepareValue } from "../sql/encode.js";

/** The size of the chunks `copyInsert` sends: a chunk is handed out once it holds this many bytes. */
export const CHUNK_CHARS = 64 * 1024;

const SPECIAL = /[\\\n\r\t\0]/;
const ESCAPED = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
const escapeChar = (ch: string): string => ESCAPES[ch]!;

/** A string as a COPY text field. @throws {@link ParameterError} for a NUL character. */
function escapeText(s: string): string {
  if (!SPECIAL.test(s)) return s;
  if (s.includes("\0")) throw new ParameterError("a NUL character (\\u0000) cannot be stored in PostgreSQL text");
  return s.replace(ESCAPED, escapeChar);
}

/**
 * One value as a COPY text field (`\N` for NULL), encoded as the same value sent as a parameter.
 * @throws {@link ParameterError} for a value without an encoding (the message does not name row or column).
 */
export function copyField(v: unknown): string {
  switch (typeof v) {
    case "string":
      return escapeText(v);
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return "\\N";
    case "bigint":
      return v.toString();
    default: {
      if (v === null) return "\\N";
      if (v instanceof Date) return encodeDate(v);
      const p = prepareValue(v);
      if (p === null) return "\\N";
      return typeof p === "string" ? escapeText(p) : `\\\\x${p.toString("hex")}`;
    }
  }
}

/** A refusal naming the row (0-based, as the caller counts in its array) and the column. */
function atField(method: string, row: number, column: string | number, err: unknown): unknown {
  if (!(err instanceof ParameterError)) return err;
  const where = typeof column === "number" ? `field ${column + 1}` : `column ${column}`;
  return new ParameterError(`${method}(): row ${row}, ${where}: ${err.message}`, { cause: err });
}

/** Bytes kept free at the end of the chunk buffer: a short field is written without a capacity check. */
const SLACK = 64;
const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/**
 * Encodes rows into COPY text, in chunks of about {@link CHUNK_CHARS} bytes: call {@link CopyEncoder.objectRow}
 * (row objects, by column name) or {@link CopyEncoder.valuesRow} (values in column order, e.g. a data frame's
 * columns read across) per row; each returns a full chunk when one is ready, and {@link CopyEncoder.flush} the
 * rest. Fields are written straight into the chunk's bytes (integers digit by digit, ASCII strings character by
 * character): building a string per row and converting it cost about twice as much, most of it in the garbage
 * collector. The text written is always {@link copyField}'s.
 */
export class CopyEncoder {
  #buf = Buffer.allocUnsafe(CHUNK_CHARS + SLACK);
  #pos = 0;
  /** Rows encoded so far. */
  rows = 0;
  /** Bytes handed out so far. */
  bytes = 0;

  /** `method` names the caller in messages; `columns` are the row objects' keys, in the order of the COPY's column list. */
  constructor(
    private readonly method: string,
    private readonly columns: readonly string[],
  ) {}

  /**
   * Encodes one row object: a missing key is NULL; a key that is not one of the columns is refused.
   * @throws {@link ParameterError} naming the row and column.
   */
  objectRow(row: unknown): Buffer | undefined {
    const index = this.rows;
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new ParameterError(`${this.method}(): row ${index} must be a plain object, got ${describeType(row)}`);
    }
    const cols = this.columns;
    const r = row as Record<string, unknown>;
    const start = this.#pos;
    let present = 0;
    let c = 0;
    try {
      for (; c < cols.length; c++) {
        const col = cols[c]!;
        const v = r[col];
        if (v !== undefined || col in r) present++;
        if (c > 0) this.#buf[this.#pos++] = TAB;
        this.#field(v);
      }
    } catch (err) {
      this.#pos = start;
      throw atField(this.method, index, cols[c]!, err);
    }
    let keys = 0;
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    for (const _ in r) keys++; // every enumerable key, as `in` above sees inherited ones too
    if (keys !== present) {
      this.#pos = start;
      this.#extraKey(r, index);
    }
    return this.#endRow();
  }

  /**
   * Encodes one row given as its values in column order.
   * @throws {@link ParameterError} naming the row and field.
   */
  valuesRow(values: readonly unknown[]): Buffer | undefined {
    const index = this.rows;
    if (values.length !== this.columns.length) {
      throw new ParameterError(`${this.method}(): row ${index} has ${values.length} values for ${this.columns.length} columns`);
    }
    const start = this.#pos;
    let c = 0;
    try {
      for (; c < values.length; c++) {
        if (c > 0) this.#buf[this.#pos++] = TAB;
        this.#field(values[c]);
      }
    } catch (err) {
      this.#pos = start;
      throw atField(this.method, index, c, err);
    }
    return this.#endRow();
  }

  /** The rest of the encoded rows (undefined when there are none). */
  flush(): Buffer | undefined {
    if (this.#pos === 0) return undefined;
    const out = this.#buf.subarray(0, this.#pos);
    this.bytes += this.#pos;
    this.#buf = Buffer.allocUnsafe(CHUNK_CHARS + SLACK);
    this.#pos = 0;
    return out;
  }

  #endRow(): Buffer | undefined {
    this.#room(1);
    this.#buf[this.#pos++] = NEWLINE;
    this.rows++;
    return this.#pos >= CHUNK_CHARS ? this.flush() : undefined;
  }

  /** Makes room for `n` more bytes (and the slack), growing the buffer for a large field. */
  #room(n: number): void {
    if (this.#pos + n + SLACK <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n + SLACK));
    this.#buf.copy(bigger, 0, 0, this.#pos);
    this.#buf = bigger;
  }

  /** Writes one field: {@link copyField}'s text, with fast paths for integers and ASCII strings. */
  #field(v: unknown): void {
    if (typeof v === "number" && Number.isSafeInteger(v) && !Object.is(v, -0)) {
      this.#integer(v);
      return;
    }
    if (typeof v === "string" && v.length <= SLACK - 2) {
      // ASCII without specials, byte by byte; anything else from the first such character on, the slow way.
      const buf = this.#buf;
      let pos = this.#pos;
      for (let i = 0; i < v.length; i++) {
        const ch = v.charCodeAt(i);
        if (ch >= 0x80 || ch === BACKSLASH || ch < 0x20) {
          this.#room(v.length * 3);
          this.#pos += this.#buf.write(copyField(v), this.#pos);
          return;
        }
        buf[pos++] = ch;
      }
      this.#pos = pos;
      return;
    }
    if (typeof v === "number" || typeof v === "boolean" || v instanceof Date) {
      this.#ascii(copyField(v)); // digits, NaN, Infinity, true, false, an ISO date: all ASCII, at most 40 bytes
      return;
    }
    const text = copyField(v);
    this.#room(text.length * 3);
    this.#pos += this.#buf.write(text, this.#pos);
  }

  /** ASCII text of at most {@link SLACK} bytes, character by character (a Buffer.write call costs more). */
  #ascii(text: string): void {
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
    this.#pos = pos;
  }

  /** A safe integer's digits (at most 17 bytes: within the slack). */
  #integer(v: number): void {
    const buf = this.#buf;
    let pos = this.#pos;
    if (v < 0) {
      buf[pos++] = 0x2d;
      v = -v;
    }
    let div = 1;
    while (div * 10 <= v) div *= 10;
    for (; div >= 1; div /= 10) {
      const d = Math.floor(v / div);
      buf[pos++] = 0x30 + d;
      v -= d * div;
    }
    this.#pos = pos;
  }

  #extraKey(r: Record<string, unknown>, index: number): never {
    let extra = "";
    for (const k in r) if (!this.columns.includes(k)) extra = k;
    throw new ParameterError(
      `${this.method}(): row ${index} has key ${JSON.stringify(extra)}, which is not one of the columns (${this.columns.join(", ")})`,
    );
  }
}
