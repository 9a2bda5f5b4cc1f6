/**
 * Value conversion, in one place: how JavaScript values are sent as bind parameters and how PostgreSQL
 * values come back.
 *
 * | PostgreSQL                    | JavaScript                                                        |
 * |-------------------------------|-------------------------------------------------------------------|
 * | `int2`, `int4`, `float4/8`, `oid` | `number`                                                      |
 * | `int8` (`bigint`, `count(*)`) | `bigint` — exact, never a lossy number or a string                |
 * | `numeric`                     | `string` — exact decimal text (`"12.50"`)                         |
 * | `bool`                        | `boolean`                                                         |
 * | `text`, `varchar`, `uuid`, …  | `string`                                                          |
 * | `json`, `jsonb`               | parsed value                                                      |
 * | `bytea`                       | `Buffer`                                                          |
 * | `timestamptz`                 | `Date` (the instant)                                              |
 * | `timestamp`                   | `Date` read as UTC wall-clock time (independent of `TZ`)          |
 * | `date`                        | `string` `"YYYY-MM-DD"` (a calendar day has no time zone)         |
 * | `interval`, `time`, others    | `string` (the server's text)                                      |
 * | arrays of the above           | arrays of the converted elements                                  |
 *
 * Parameters: `null`/`undefined` → NULL; `bigint` → exact text; `Date` → ISO-8601 in UTC (so a `timestamp`
 * column stores UTC wall-clock time and reads back equal); `Buffer`/`Uint8Array` → bytea; arrays →
 * PostgreSQL arrays; other objects → JSON. To send a JS array to a `json` column, pass `JSON.stringify(arr)`.
 * Infinite timestamps read as `Infinity`/`-Infinity`.
 * @module
 */
import pg from "pg";
import { ParameterError } from "../errors.js";

const OID = {
  int8: 20,
  int8Array: 1016,
  date: 1082,
  dateArray: 1182,
  timestamp: 1114,
  timestampArray: 1115,
  timestamptz: 1184,
  numeric: 1700,
} as const;

type TextParser = (value: string) => unknown;

const builtin = pg.types.getTypeParser.bind(pg.types) as (oid: number, format?: "text" | "binary") => TextParser;
const parseTimestamptz = builtin(OID.timestamptz, "text");

/** Parses a PostgreSQL array literal of simple elements, applying `parseElement` to each non-NULL element. */
function arrayOf(parseElement: TextParser): TextParser {
  // The builtin text[] parser returns nested arrays of strings (NULL as null); we map the leaves.
  const parseTextArray = builtin(1009, "text");
  const mapLeaves = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(mapLeaves) : v === null ? null : parseElement(v as string);
  return (value) => mapLeaves(parseTextArray(value));
}

/** `timestamp without time zone` → Date, reading the wall-clock time as UTC. */
function parseTimestampAsUtc(value: string): unknown {
  if (value === "infinity") return Infinity;
  if (value === "-infinity") return -Infinity;
  const bc = value.endsWith(" BC");
  return parseTimestamptz(bc ? `${value.slice(0, -3)}+00 BC` : `${value}+00`);
}

const identity: TextParser = (v) => v;

const overrides = new Map<number, TextParser>([
  [OID.int8, (v) => BigInt(v)],
  [OID.int8Array, arrayOf((v) => BigInt(v))],
  [OID.date, identity],
  [OID.dateArray, arrayOf(identity)],
  [OID.timestamp, parseTimestampAsUtc],
  [OID.timestampArray, arrayOf(parseTimestampAsUtc)],
  [OID.timestamptz, (v) => (v === "infinity" ? Infinity : v === "-infinity" ? -Infinity : parseTimestamptz(v))],
]);

/**
 * The type parsers every tscopg connection uses (passed as node-postgres' per-client `types`, so the
 * process-wide `pg.types` registry is never modified).
 */
export const typeParsers = {
  getTypeParser(oid: number, format?: "text" | "binary"): TextParser {
    if (format !== "binary") {
      const own = overrides.get(oid);
      if (own) return own;
    }
    return builtin(oid, format);
  },
};

/** Formats a Date as ISO-8601 in UTC, including years before 1 AD and after 9999 (which `toISOString` mangles). */
export function encodeDate(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw new ParameterError("cannot send an invalid Date as a query parameter");
  const year = d.getUTCFullYear();
  if (year >= 1 && year <= 9999) return d.toISOString();
  const bc = year < 1;
  const y = String(bc ? 1 - year : year).padStart(4, "0");
  const p2 = (n: number) => String(n).padStart(2, "0");
  const ms = String(d.getUTCMilliseconds()).padStart(3, "0");
  return (
    `${y}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${ms}+00${bc ? " BC" : ""}`
  );
}

function encodeArray(arr: readonly unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    let enc: unknown = v;
    if (typeof v === "bigint") enc = v.toString();
    else if (v instanceof Date) enc = encodeDate(v);
    else if (Array.isArray(v)) enc = encodeArray(v);
    if (enc !== v) {
      out ??= arr.slice();
      out[i] = enc;
    }
  }
  return out ?? (arr as unknown[]);
}

/**
 * Prepares bind parameters for the driver. Returns the same array when nothing needs converting (the common
 * case), so the hot path allocates nothing.
 */
export function encodeParams(values: readonly unknown[] | undefined): unknown[] | undefined {
  if (values === undefined) return undefined;
  let out: unknown[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "object" || v === null) {
      if (typeof v === "bigint") (out ??= values.slice())[i] = v.toString();
      continue;
    }
    let enc: unknown = v;
    if (v instanceof Date) enc = encodeDate(v);
    else if (Array.isArray(v)) enc = encodeArray(v);
    if (enc !== v) (out ??= values.slice())[i] = enc;
  }
  return out ?? (values as unknown[]);
}
