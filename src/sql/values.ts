/**
 * Value conversion, in one place: how JavaScript values are sent as bind parameters and how PostgreSQL
 * values come back. Results hold only plain values: primitives, arrays, plain objects (parsed JSON), `Date`
 * and `Buffer` — so the synchronous facade returns exactly what the async API returns.
 *
 * | PostgreSQL                                         | JavaScript                                              |
 * |----------------------------------------------------|---------------------------------------------------------|
 * | `int2`, `int4`, `oid`                              | `number`                                                |
 * | `float4`, `float8`                                 | `number` (`NaN`, `Infinity`, `-Infinity`, `-0` included) |
 * | `int8` (`bigint`, `count(*)`)                      | `bigint` — exact, never a lossy number or a string      |
 * | `numeric`                                          | `string` — exact decimal text (`"12.50"`, `"NaN"`)      |
 * | `money`                                            | `string` — the server's text (`"$1.50"`, per `lc_monetary`) |
 * | `bool`                                             | `boolean`                                               |
 * | `text`, `varchar`, `char(n)`, `"char"`, `name`, `uuid`, `xml`, `bit`, `varbit`, `reg*`, … | `string` |
 * | `json`, `jsonb`                                    | parsed value                                            |
 * | `bytea`                                            | `Buffer`                                                |
 * | `timestamptz`                                      | `Date` (the instant; BC and years after 9999 included)  |
 * | `timestamp`                                        | `Date` read as UTC wall-clock time (independent of `TZ`) |
 * | `date`                                             | `string` `"YYYY-MM-DD"` (a calendar day has no time zone) |
 * | infinite `date`, `timestamp`, `timestamptz`        | `string` `"infinity"` / `"-infinity"` (send them back as they are) |
 * | `time`, `timetz`, `interval`                       | `string` — the server's text (`"1 day 02:00:00"`)       |
 * | `point`, `line`, `lseg`, `box`, `path`, `polygon`, `circle` | `string` — the server's text (`"(1,2)"`)       |
 * | `inet`, `cidr`, `macaddr`, `macaddr8`              | `string`                                                |
 * | range and multirange types                         | `string` — the server's text (`"[1,10)"`)               |
 * | any other type                                     | `string` — the server's text                            |
 * | an array of any type above (builtin element types) | nested arrays of exactly what the scalar gives; NULL → `null` |
 *
 * Timestamps keep millisecond precision (a `Date` has no microseconds). Arrays of user-defined types (enums,
 * composites, domains) are not parsed: they arrive as the server's array text (`"{a,b}"`).
 *
 * Parameters (encoded in `sql/encode`): `null`/`undefined` → NULL; `bigint` → exact text; `-0` → `"-0"`; `Date` →
 * ISO-8601 in UTC (so a `timestamp` column stores UTC wall-clock time and reads back equal); `Buffer`/`Uint8Array`
 * → bytea; arrays → PostgreSQL arrays; an object with `toPostgres()` → what it returns; other objects → JSON.
 * Functions, symbols, `Map`, `Set`, `WeakMap`, `WeakSet`, `Promise`, … are refused with a `ParameterError`. To send
 * a JS array to a `json` column, pass `JSON.stringify(arr)`.
 * Strings are sent as text and converted by the server, so every string read back above (`numeric`,
 * `interval`, `"infinity"`, geometric text, …) can be sent again as a parameter. An untyped parameter is
 * `text`: write `$1::int`.
 * @module
 */
import pg from "pg";

type TextParser = (value: string) => unknown;

const builtin = pg.types.getTypeParser.bind(pg.types) as (oid: number, format?: "text" | "binary") => TextParser;
const builtinTimestamptz = builtin(1184, "text");
const identity: TextParser = (v) => v;

/** `timestamptz` → Date; the infinities stay the strings the server sent. */
function parseTimestamptz(value: string): unknown {
  if (value === "infinity" || value === "-infinity") return value;
  return builtinTimestamptz(value);
}

/** `timestamp without time zone` → Date, reading the wall-clock time as UTC. */
function parseTimestampAsUtc(value: string): unknown {
  if (value === "infinity" || value === "-infinity") return value;
  const bc = value.endsWith(" BC");
  return builtinTimestamptz(bc ? `${value.slice(0, -3)}+00 BC` : `${value}+00`);
}

/**
 * Scalar types whose pg-types text parser differs from the table above. Every other builtin scalar keeps
 * pg-types' parser (int2/int4/oid/float4/float8 → number, bool, bytea, json/jsonb) or, having none, the text.
 */
const scalarOverrides = new Map<number, TextParser>([
  [20, (v) => BigInt(v)], // int8: pg-types gives a string
  [1082, identity], // date: pg-types gives a local-time Date
  [1114, parseTimestampAsUtc], // timestamp: pg-types reads local time; infinity as a number
  [1184, parseTimestamptz], // timestamptz: pg-types gives the number ±Infinity
  [1186, identity], // interval: pg-types gives a PostgresInterval instance
  [600, identity], // point: pg-types gives {x, y}
  [718, identity], // circle: pg-types gives {x, y, radius}
]);

/**
 * Every builtin array type of PostgreSQL 15 with a base, range, multirange or pseudo element type, as
 * `[array OID, element OID]` pairs (from `pg_type`). pg-types parses only some of them, several lossily
 * (`numeric[]` as floats) and the rest not at all.
 */
const builtinArrays: readonly (readonly [number, number])[] = [
  [1000, 16], [1001, 17], [1002, 18], [1003, 19], [1016, 20], [1005, 21], [1006, 22], [1007, 23], [1008, 24],
  [1009, 25], [1028, 26], [1010, 27], [1011, 28], [1012, 29], [1013, 30], [199, 114], [143, 142], [1017, 600],
  [1018, 601], [1019, 602], [1020, 603], [1027, 604], [629, 628], [651, 650], [1021, 700], [1022, 701],
  [719, 718], [775, 774], [791, 790], [1040, 829], [1041, 869], [1034, 1033], [1014, 1042], [1015, 1043],
  [1182, 1082], [1183, 1083], [1115, 1114], [1185, 1184], [1187, 1186], [1270, 1266], [1561, 1560],
  [1563, 1562], [1231, 1700], [2201, 1790], [2207, 2202], [2208, 2203], [2209, 2204], [2210, 2205],
  [2211, 2206], [2287, 2249], [1263, 2275], [2951, 2950], [2949, 2970], [3221, 3220], [3643, 3614],
  [3645, 3615], [3644, 3642], [3735, 3734], [3770, 3769], [3807, 3802], [3905, 3904], [3907, 3906],
  [3909, 3908], [3911, 3910], [3913, 3912], [3927, 3926], [4073, 4072], [4090, 4089], [4097, 4096],
  [4192, 4191], [6150, 4451], [6151, 4532], [6152, 4533], [6153, 4534], [6155, 4535], [6157, 4536],
  [5039, 5038], [271, 5069],
];

/** The element type whose array literal separates elements with `;` instead of `,` (`pg_type.typdelim`). */
const BOX = 603;

/**
 * Parses PostgreSQL's text form of an array (as `array_out` writes it: `{1,NULL,"a b"}`, nested braces for
 * more dimensions, an optional `[lo:hi]=` bounds prefix) into nested JS arrays, applying `parseElement` to
 * each non-NULL element.
 */
function parseArrayLiteral(text: string, parseElement: TextParser, delimiter = ","): unknown[] {
  let i = text.startsWith("[") ? text.indexOf("=") + 1 : 0;
  const malformed = () => new TypeError(`malformed array literal: ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`);
  const level = (): unknown[] => {
    if (text[i] !== "{") throw malformed();
    i++;
    const out: unknown[] = [];
    if (text[i] === "}") {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === "{") out.push(level());
      else if (text[i] === '"') {
        let s = "";
        for (let start = ++i; ; ) {
          const ch = text[i];
          if (ch === undefined) throw malformed();
          if (ch === '"' || ch === "\\") {
            s += text.slice(start, i);
            if (ch === '"') break;
            s += text[i + 1] ?? "";
            i += 2;
            start = i;
          } else i++;
        }
        i++;
        out.push(parseElement(s));
      } else {
        const start = i;
        while (i < text.length && text[i] !== delimiter && text[i] !== "}") i++;
        const raw = text.slice(start, i);
        out.push(raw === "NULL" ? null : parseElement(raw));
      }
      const sep = text[i++];
      if (sep === "}") return out;
      if (sep !== delimiter) throw malformed();
    }
  };
  return level();
}

/** The text parser for every type tscopg converts itself: the scalar overrides and every builtin array type. */
const parsers = new Map<number, TextParser>(scalarOverrides);
for (const [arrayOid, elementOid] of builtinArrays) {
  const element = scalarOverrides.get(elementOid) ?? builtin(elementOid, "text");
  const delimiter = elementOid === BOX ? ";" : ",";
  parsers.set(arrayOid, (value) => parseArrayLiteral(value, element, delimiter));
}

/**
 * The type parsers every tscopg connection uses (passed as node-postgres' per-client `types`, so the
 * process-wide `pg.types` registry is never modified).
 */
export const typeParsers = {
  getTypeParser(oid: number, format?: "text" | "binary"): TextParser {
    if (format !== "binary") {
      const own = parsers.get(oid);
      if (own) return own;
    }
    return builtin(oid, format);
  },
};
