/**
 * The main-thread side of the `rows` transport: decodes the chunks the worker packs (`rows-pack.ts`) into row
 * objects while the call blocks, with the very parsers the async path uses ({@link typeParsers}, by type OID, text
 * format), and builds the method's answer the way `Queryable` picks it: the rows, the whole result, the first row,
 * or the first value.
 * @module
 */
import pg from "pg";
import type { Row } from "../core/api.js";
import { locateError, toTscopgError } from "../errors.js";
import { typeParsers } from "../sql/values.js";
import type { RowsAnswer, RowsChunk } from "./rows-pack.js";
import type { MainReceiver } from "./transports.js";

type TextParser = (text: string) => unknown;

/**
 * How a column's values are decoded: with its parser (`GENERIC`), or inline where the parser is one whose result
 * the inline code reproduces exactly for every text the server sends: pg-types' own `parseInteger` (int2, int4,
 * oid), the global `parseFloat` (float4, float8), pg-types' `noParse` (text types: the string itself). The inline
 * forms skip a string per value (numbers are read from the chunk's text directly).
 */
const GENERIC = 0;
const INT = 1;
const FLOAT = 2;
const TEXT = 3;

/** pg-types' own parsers, as they were when this module loaded (a parser replaced since is used as it is). */
const pgParser = pg.types.getTypeParser.bind(pg.types) as (oid: number, format: "text") => TextParser;
const PG_INT = pgParser(23, "text");
const PG_NO_PARSE = pgParser(0, "text");
const INT_OIDS = new Set([21, 23, 26]);

function decodingKind(oid: number, parser: TextParser): number {
  if (parser === PG_INT && PG_INT.name === "parseInteger" && INT_OIDS.has(oid)) return INT;
  if (parser === parseFloat) return FLOAT;
  if (parser === PG_NO_PARSE && PG_NO_PARSE.name === "noParse") return TEXT;
  return GENERIC;
}

/** `parseInt(text.slice(from, to), 10)` for int2/int4/oid text (an optional `-`, at most 10 digits). */
function readInt(text: string, from: number, to: number): number {
  let i = from;
  const negative = text.charCodeAt(i) === 45;
  if (negative) i++;
  if (i === to || to - i > 10) return parseInt(text.slice(from, to), 10);
  let x = 0;
  for (; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return parseInt(text.slice(from, to), 10);
    x = x * 10 + d;
  }
  return negative ? -x : x;
}

/** 10^0 … 10^22: the powers of ten a double holds exactly. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * `parseFloat(text.slice(from, to))`. Plain decimals of at most 15 digits are computed as digits / 10^scale, which
 * is exact (both operands are exact doubles and division rounds correctly, so the result is the double nearest to
 * the decimal, as parseFloat's); anything else (exponents, NaN, Infinity, more digits) goes to parseFloat.
 */
function readFloat(text: string, from: number, to: number): number {
  let i = from;
  const negative = text.charCodeAt(i) === 45;
  if (negative) i++;
  let m = 0;
  let digits = 0;
  let scale = -1;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && scale < 0) {
      scale = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9 || ++digits > 15) return parseFloat(text.slice(from, to));
    m = m * 10 + d;
    if (scale >= 0) scale++;
  }
  if (digits === 0) return parseFloat(text.slice(from, to));
  const x = scale > 0 ? m / POW10[scale]! : m;
  return negative ? -x : x;
}

/** One statement's rows being decoded. */
interface Decoding {
  names: string[];
  parsers: TextParser[];
  /** Per column: GENERIC, INT, FLOAT or TEXT. */
  kinds: number[];
  /** Every column name set to null, in column order: each row starts as a copy (as node-postgres builds rows). */
  template: Row;
  rows: Row[];
}

/** The state for a statement whose first chunk carries its columns. */
function startDecoding(names: string[], types: number[]): Decoding {
  // The driver's way (pg's Result.addFields/parseRow): a duplicate column name keeps its first place, last value.
  // A plain object is built by assignment, except when a column is named `__proto__` (the assignment would set
  // the prototype): then through a null-prototype object, as the driver builds it.
  const base = (names.includes("__proto__") ? Object.create(null) : {}) as Row;
  for (const name of names) base[name] = null;
  // The async path's parsers, looked up as its driver looks them up (per statement, by type OID, text format).
  const parsers = types.map((oid) => typeParsers.getTypeParser(oid, "text"));
  return { names, parsers, kinds: types.map((oid, i) => decodingKind(oid, parsers[i]!)), template: { ...base }, rows: [] };
}

/**
 * Decodes a chunk carrying its columns (as `stream-batches.ts` packs them) into row objects, with the very
 * decoding of the `rows` transport.
 */
export function unpackChunk(chunk: RowsChunk): Row[] {
  const into = startDecoding(chunk[4] ?? [], chunk[5] ?? []);
  decodeChunk(into, chunk);
  return into.rows;
}

/** Decodes a chunk's rows into `into.rows`. */
function decodeChunk(into: Decoding, chunk: RowsChunk): void {
  const { names, parsers, kinds, template, rows } = into;
  const [, count, text, lens] = chunk;
  const width = names.length;
  let pos = 0;
  let k = 0;
  for (let r = 0; r < count; r++) {
    const row: Row = { ...template };
    for (let i = 0; i < width; i++) {
      const len = lens[k++]!;
      let value: unknown = null;
      if (len >= 0) {
        const end = pos + len;
        switch (kinds[i]) {
          case INT:
            value = readInt(text, pos, end);
            break;
          case FLOAT:
            value = readFloat(text, pos, end);
            break;
          case TEXT:
            value = text.slice(pos, end);
            break;
          default:
            value = parsers[i]!(text.slice(pos, end));
        }
        pos = end;
      }
      row[names[i]!] = value;
    }
    rows.push(row);
  }
}

/**
 * Receives one call's chunks and builds its answer. A chunk that fails to decode (a parser throws) makes the call
 * fail with that error, as the async path fails when the driver's parser throws; the call's later chunks are
 * still taken (and dropped) until its final answer, so the worker's statement has ended when the call returns.
 */
export class RowsReceiver implements MainReceiver {
  /** Statements whose rows may still be returned, by index (a later statement with columns supersedes them). */
  private readonly results = new Map<number, Decoding>();
  private failed = false;
  private error: unknown;

  constructor(
    private readonly method: string,
    private readonly sql: unknown,
  ) {}

  onPart(part: unknown): void {
    this.take(part as RowsChunk);
  }

  /** Decodes a chunk (a part, or the answer's tail), unless the call already failed. */
  private take(chunk: RowsChunk): void {
    if (this.failed) return;
    try {
      this.decode(chunk);
    } catch (err) {
      this.failed = true;
      this.error = err;
      this.results.clear();
    }
  }

  private decode(chunk: RowsChunk): void {
    const [stmt, , , , names, types] = chunk;
    let into = this.results.get(stmt);
    if (names !== undefined && types !== undefined) {
      into = startDecoding(names, types);
      // The query methods return the last statement with columns: no earlier statement's rows can be picked now.
      if (names.length > 0) for (const earlier of this.results.keys()) if (earlier < stmt) this.results.delete(earlier);
      this.results.set(stmt, into);
    }
    if (into === undefined) throw new TypeError(`rows of statement ${stmt} arrived without its columns`);
    decodeChunk(into, chunk);
  }

  finish(value: unknown): unknown {
    const [stmt, rowCount, command, fields, tail] = value as RowsAnswer;
    if (tail !== null) this.take(tail);
    if (this.failed) throw locateError(toTscopgError(this.error), this.sql as string, RowsReceiver.prototype.finish);
    const picked = this.results.get(stmt);
    const rows = picked?.rows ?? [];
    switch (this.method) {
      case "query":
        return { rows, rowCount, command, fields: fields ?? [] };
      case "fetchOne":
        return rows[0] ?? null;
      case "fetchVal": {
        // The first column's value (with duplicate names, the row's value under that name, as async picks it).
        const row = rows[0];
        const first = picked?.names[0];
        if (row === undefined || first === undefined) return null;
        return row[first] ?? null;
      }
      default: // execute, fetchAll
        return rows;
    }
  }
}
