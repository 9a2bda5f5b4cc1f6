/**
 * Bind parameters: how JavaScript values are sent (the other direction, and the table of both, is in
 * `sql/values`). Every value is encoded here, before the driver sees it, so the driver only ever receives text,
 * numbers, booleans, byte arrays, arrays of those and `null`:
 *
 * - `null`/`undefined` → NULL; strings, numbers and booleans as they are; `-0` → `"-0"`; `bigint` → exact text.
 * - `Date` → ISO-8601 in UTC (years before 1 and after 9999 included); an invalid Date is refused.
 * - `Buffer`, `Uint8Array` and other `ArrayBuffer` views → `bytea`.
 * - arrays → PostgreSQL arrays, each element encoded by these rules.
 * - an object with a `toPostgres(prepareValue)` method (node-postgres' convention) → what it returns, encoded by
 *   these rules; `prepareValue` gives the text tscopg would send for a value.
 * - any other object → JSON (`JSON.stringify`, so `toJSON()` applies inside it).
 *
 * Refused with a {@link ParameterError} naming the parameter (`parameter $2: a function has no PostgreSQL
 * encoding`): functions, symbols, `Map`, `Set`, `WeakMap`, `WeakSet`, `WeakRef`, `Promise`, `RegExp`,
 * `ArrayBuffer` (wrap it in a `Buffer` to send bytes), wherever they appear — as a parameter, in an array, or anywhere inside a
 * JSON value (where `JSON.stringify` would silently drop or empty them) — plus `bigint` inside JSON and circular
 * structures.
 * @module
 */
import { ParameterError } from "../errors.js";
import { prepareQuery, type QueryParams } from "./placeholders.js";

/** node-postgres' convention for a value that knows how it is sent. */
interface ToPostgres {
  toPostgres(prepareValue: (value: unknown) => string | Buffer | null): unknown;
}

/**
 * Built-in objects that have no PostgreSQL encoding: `JSON.stringify` turns them into `{}` (or `structuredClone`
 * cannot copy them to the synchronous facade's worker).
 */
const REFUSED: readonly (readonly [abstract new (...args: never[]) => object, string])[] = [
  [Map, "a Map"],
  [Set, "a Set"],
  [WeakMap, "a WeakMap"],
  [WeakSet, "a WeakSet"],
  [WeakRef, "a WeakRef"],
  [Promise, "a Promise"],
  [RegExp, "a RegExp"],
  [ArrayBuffer, "an ArrayBuffer"],
  [SharedArrayBuffer, "a SharedArrayBuffer"],
];

/**
 * The key of the marker the synchronous facade sends in place of a parameter value it refused on the main thread
 * (see {@link encodeForWorker}); the worker's encoder raises the same error at the same point as the async API.
 */
const REFUSED_MARKER = "__tscopgRefused";

/** What a refused object is (`"a Map"`), or undefined for an object that may be encoded. */
function refusal(v: object): string | undefined {
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === Array.prototype || proto === null) return undefined;
  for (const [cls, what] of REFUSED) if (v instanceof cls) return what;
  return undefined;
}

/**
 * True for the values sent as they are: strings, numbers other than `-0`, booleans, `null` and `undefined`. Written
 * as one expression (numbers first), which V8 runs as fast as the checks before any value was refused.
 */
export function needsNothing(v: unknown): boolean {
  return typeof v === "number" ? !Object.is(v, -0) : typeof v === "string" || v === null || typeof v === "boolean" || v === undefined;
}

function noEncoding(what: string): ParameterError {
  return new ParameterError(`${what} has no PostgreSQL encoding`);
}

const DAY_MS = 86_400_000;
/** 0001-01-01 and 10000-01-01 (UTC), in ms since the epoch: the years `toISOString` writes with four digits. */
const YEAR_1 = -62_135_596_800_000;
const YEAR_10000 = 253_402_300_800_000;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));

/**
 * `new Date(t).toISOString()` for years 1 to 9999, about five times faster (COPY encodes a million of them): the
 * calendar day from the day number by Howard Hinnant's `civil_from_days`, the rest from tables.
 */
function isoString(t: number): string {
  const days = Math.floor(t / DAY_MS);
  let ms = t - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(ms / 3_600_000);
  ms -= h * 3_600_000;
  const m = Math.floor(ms / 60_000);
  ms -= m * 60_000;
  const sec = Math.floor(ms / 1000);
  ms -= sec * 1000;
  const y = year >= 1000 ? String(year) : String(year).padStart(4, "0");
  return `${y}-${PAD2[month]}-${PAD2[day]}T${PAD2[h]}:${PAD2[m]}:${PAD2[sec]}.${PAD3[ms]}Z`;
}

/** Formats a Date as ISO-8601 in UTC, including years before 1 AD and after 9999 (which `toISOString` mangles). */
export function encodeDate(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw new ParameterError("an invalid Date (its time is NaN) cannot be sent");
  if (t >= YEAR_1 && t < YEAR_10000) return isoString(t);
  const year = d.getUTCFullYear();
  const bc = year < 1;
  const y = String(bc ? 1 - year : year).padStart(4, "0");
  const p2 = (n: number) => String(n).padStart(2, "0");
  const ms = String(d.getUTCMilliseconds()).padStart(3, "0");
  return (
    `${y}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${ms}+00${bc ? " BC" : ""}`
  );
}

/**
 * Encodes one parameter value by the rules above. Returns the value itself when it needs nothing (strings,
 * numbers, booleans, `null`, byte arrays, arrays of those), an array whose elements are encoded, or text.
 * @throws {@link ParameterError} for a value that has no encoding (the message does not name the parameter).
 * @internal
 */
export function encodeValue(v: unknown): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
    case "undefined":
      return v;
    case "number":
      return Object.is(v, -0) ? "-0" : v;
    case "bigint":
      return v.toString();
    case "function":
      throw noEncoding("a function");
    case "symbol":
      throw noEncoding("a symbol");
    default:
      return v === null ? v : encodeObject(v as object, "");
  }
}

/** An object as a parameter (`where` = `""`) or as an array element (`where` = `" in an array"`). */
function encodeObject(v: object, where: string): unknown {
  if (ArrayBuffer.isView(v)) return v; // the driver sends views as bytea
  if (v instanceof Date) return encodeDate(v);
  if (Array.isArray(v)) return encodeArray(v);
  if (typeof (v as Partial<ToPostgres>).toPostgres === "function") return fromToPostgres(v as ToPostgres);
  const refused = refusal(v);
  if (refused !== undefined) throw noEncoding(refused + where);
  const marker = (v as Record<string, unknown>)[REFUSED_MARKER];
  if (typeof marker === "string") throw new ParameterError(marker);
  return encodeJson(v);
}

/** An array with its elements encoded; the same array when none needs it. */
function encodeArray(arr: readonly unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (needsNothing(v)) continue;
    let enc: unknown;
    switch (typeof v) {
      case "function":
      case "symbol":
        throw noEncoding(`a ${typeof v} in an array`);
      case "object":
        enc = encodeObject(v as object, " in an array");
        break;
      default:
        enc = encodeValue(v); // -0, bigint
    }
    if (enc !== v) (out ??= arr.slice())[i] = enc;
  }
  return out ?? (arr as unknown[]);
}

/** Follows `toPostgres()` until it gives a value without one, and returns that value's text. */
function fromToPostgres(v: ToPostgres): string | Buffer | null {
  const seen: object[] = [];
  let current: unknown = v;
  while (typeof current === "object" && current !== null && typeof (current as Partial<ToPostgres>).toPostgres === "function") {
    if (seen.includes(current)) throw new ParameterError("toPostgres() led back to an object it was called on (a circular chain)");
    seen.push(current);
    current = (current as ToPostgres).toPostgres(prepareValue);
  }
  return prepareValue(current);
}

/**
 * node-postgres' `prepareValue`, as tscopg encodes: the text (or bytes, or `null`) sent for `value`. Handed to
 * `toPostgres()` methods so they can encode their parts; the COPY encoder (`src/copy/`) writes each field with it, the bulk helpers each array element.
 * @internal
 */
export function prepareValue(value: unknown): string | Buffer | null {
  const enc = encodeValue(value);
  if (enc === null || enc === undefined) return null;
  if (Array.isArray(enc)) return arrayLiteral(enc);
  if (ArrayBuffer.isView(enc)) return Buffer.isBuffer(enc) ? enc : Buffer.from(enc.buffer, enc.byteOffset, enc.byteLength);
  return String(enc);
}

/** An array literal `{…}` of encoded elements, written as node-postgres writes the arrays it is given. */
function arrayLiteral(arr: readonly unknown[]): string {
  let out = "{";
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out += ",";
    const item = arr[i];
    if (item === null || item === undefined) out += "NULL";
    else if (Array.isArray(item)) out += arrayLiteral(item);
    else if (ArrayBuffer.isView(item)) out += `\\\\x${Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString("hex")}`;
    else out += `"${String(item).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  }
  return `${out}}`;
}

/** Refuses, inside a JSON value, what `JSON.stringify` would drop, turn into `{}` or fail on. */
function jsonReplacer(key: string, value: unknown): unknown {
  let what: string | undefined;
  switch (typeof value) {
    case "function":
    case "symbol":
    case "bigint":
      what = `a ${typeof value}`;
      break;
    case "object":
      if (value !== null) what = refusal(value);
      break;
    default:
      break;
  }
  if (what === undefined) return value;
  const at = key === "" ? "" : ` at key ${JSON.stringify(key)}`;
  throw new ParameterError(`${what}${at} inside a JSON value has no JSON encoding`);
}

/** Nesting checked by {@link isPlainData}; a deeper (or circular) value takes the slower, checked path. */
const PLAIN_DEPTH_LIMIT = 100;

/**
 * True when `v` holds only strings, numbers, booleans, `null`, `undefined`, arrays and plain objects without
 * `toJSON()`, no deeper than {@link PLAIN_DEPTH_LIMIT}: `JSON.stringify` then needs no replacer (which would cost
 * about three times the stringification; this walk costs about a quarter of it).
 */
function isPlainData(v: object, depth: number): boolean {
  if (depth > PLAIN_DEPTH_LIMIT) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === "object" ? x !== null && !isPlainData(x, depth + 1) : !needsNothing(x) && typeof x !== "number") return false;
    }
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
  for (const key in v) {
    const x: unknown = (v as Record<string, unknown>)[key];
    if (typeof x === "object" ? x !== null && !isPlainData(x, depth + 1) : !needsNothing(x) && typeof x !== "number") return false;
  }
  return true;
}

/** An object as JSON text (`null` when its `toJSON()` gives `undefined`). */
function encodeJson(v: object): string | null {
  let text: string | undefined;
  try {
    text = isPlainData(v, 0) ? JSON.stringify(v) : JSON.stringify(v, jsonReplacer);
  } catch (err) {
    if (err instanceof TypeError && /circular/i.test(err.message)) {
      throw new ParameterError("a circular structure has no JSON encoding", { cause: err });
    }
    throw err; // a ParameterError from the replacer, or what a toJSON() method threw
  }
  return text ?? null;
}

/**
 * Prepares bind parameters for the driver (see the module documentation). Returns the same array when nothing
 * needs converting (the common case), so the hot path allocates nothing.
 * @throws {@link ParameterError} naming the parameter (`parameter $2: …`) for a value that has no encoding.
 */
export function encodeParams(values: readonly unknown[] | undefined): unknown[] | undefined {
  if (values === undefined) return undefined;
  let out: unknown[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (needsNothing(v)) continue;
    let enc: unknown;
    try {
      enc = encodeValue(v);
    } catch (err) {
      if (err instanceof ParameterError) throw new ParameterError(`parameter $${i + 1}: ${err.message}`, { cause: err });
      throw err;
    }
    if (enc !== v) (out ??= values.slice())[i] = enc;
  }
  return out ?? (values as unknown[]);
}

/**
 * One parameter value encoded on the synchronous facade's main thread, before it is copied to the worker:
 * structured cloning would strip an object of its prototype (a `toPostgres()` method would be lost) and cannot
 * copy functions, symbols or promises. The result is what {@link encodeValue} gives, which the worker's encoder
 * passes on unchanged; a value refused with a {@link ParameterError} becomes a marker that the worker's encoder
 * raises again, at the point (and with the parameter position) where the async API raises it.
 * @internal
 */
export function encodeForWorker(v: unknown): unknown {
  try {
    return encodeValue(v);
  } catch (err) {
    if (err instanceof ParameterError) return { [REFUSED_MARKER]: err.message };
    throw err;
  }
}

/**
 * A statement as the driver takes it: `sql`'s text with `:name` placeholders turned into `$n`, and `params`
 * encoded (see {@link prepareQuery} and {@link encodeParams}).
 * @throws {@link ParameterError} for parameters that do not fit the text or have no encoding.
 */
export function boundStatement(sql: string, params: QueryParams | null | undefined): { text: string; values: unknown[] | undefined } {
  const q = prepareQuery(sql, params);
  return { text: q.text, values: encodeParams(q.values) };
}
