/**
 * SQL names, in one place: every table, schema, column, role, index, constraint, channel, database, sequence,
 * view, function or extension name that tscopg puts into SQL text goes through this module.
 *
 * Names are validated (defence in depth) and then always emitted double-quoted, so mixed case and reserved
 * words (`Order`, `user`, `select`) work as written. The rules for a name:
 *
 * - a string, not empty, at most 63 bytes in UTF-8 (PostgreSQL would silently truncate a longer name);
 * - first character a Unicode letter (`\p{L}`) or `_`;
 * - every other character a letter, an ASCII digit, `_` or `$` (the `extension` kind also allows `-`, for
 *   names such as `uuid-ossp`).
 *
 * A rejected name throws {@link InvalidIdentifier}, whose `value` is the rejected input.
 * @module
 */
import { InvalidIdentifier, ParameterError } from "../errors.js";

/** What a name names; it selects the wording of error messages (and, for `extension`, allows `-`). */
export type IdentifierKind =
  | "identifier"
  | "table"
  | "schema"
  | "column"
  | "role"
  | "index"
  | "constraint"
  | "channel"
  | "database"
  | "sequence"
  | "view"
  | "function"
  | "extension";

/** PostgreSQL's NAMEDATALEN - 1: the longest name, in bytes, the server keeps without truncating. */
const MAX_IDENTIFIER_BYTES = 63;

/** Plain identifier: a letter or `_`, then letters, ASCII digits, `_` or `$`. No `m` flag: `$` is end of input. */
const PLAIN_RE = /^[\p{L}_][\p{L}0-9_$]*$/u;
/** Extension names may also contain `-` after the first character (`uuid-ossp`). */
const EXTENSION_RE = /^[\p{L}_][\p{L}0-9_$-]*$/u;

/** Characters escaped in error messages so a hostile name cannot forge log lines or reorder terminal text. */
const UNPRINTABLE_RE = /[\p{C}\p{Zl}\p{Zp}]/gu;

/**
 * Renders a rejected value for an error message: JSON-quoted, with control, format (e.g. U+202E), unassigned
 * and separator characters escaped as `\uXXXX`, and cut after 200 characters. Never throws. Every message that
 * shows a caller's rejected name, keyword or value uses it (a hostile input cannot forge the message's text).
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    const shown = value.length > 200 ? `${value.slice(0, 200)}…` : value;
    return JSON.stringify(shown).replace(UNPRINTABLE_RE, (ch) => {
      let out = "";
      for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, "0")}`;
      return out;
    });
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array (length ${value.length})`;
  if (typeof value === "object") return `an object (${Object.prototype.toString.call(value)})`;
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "function") return "a function";
  return `${typeof value} ${String(value)}`;
}

function fail(kind: string, value: unknown, reason: string): never {
  throw new InvalidIdentifier(`invalid ${kind} name ${describeValue(value)}: ${reason}`, value);
}

/**
 * Checks that `name` is a safe SQL name of the given kind and returns it unchanged.
 *
 * @param name - the candidate name; anything that is not a string is rejected.
 * @param kind - what the name names (used in messages; `extension` also allows `-`). Default `"identifier"`.
 * @returns `name`, typed as a string.
 * @throws {@link InvalidIdentifier} when the name is not a string, is empty, is longer than 63 UTF-8 bytes, or
 * contains a character outside the rules described in this module.
 */
export function validateIdentifier(name: unknown, kind: IdentifierKind = "identifier"): string {
  if (typeof name !== "string") fail(kind, name, "expected a string");
  if (name.length === 0) fail(kind, name, "must not be empty");
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > MAX_IDENTIFIER_BYTES) {
    fail(kind, name, `is ${bytes} bytes long in UTF-8; at most ${MAX_IDENTIFIER_BYTES} bytes are allowed`);
  }
  const re = kind === "extension" ? EXTENSION_RE : PLAIN_RE;
  if (!re.test(name)) {
    fail(
      kind,
      name,
      kind === "extension"
        ? "must start with a letter or _ and contain only letters, digits, _, $ or -"
        : "must start with a letter or _ and contain only letters, digits, _ or $",
    );
  }
  return name;
}

/**
 * Validates every name of a list (see {@link validateIdentifier}) and returns them as a new array.
 *
 * An empty list is accepted (and gives `[]`). A single string is rejected rather than iterated character by
 * character.
 *
 * @param names - any iterable of candidate names (array, Set, generator, …).
 * @param kind - what the names name. Default `"identifier"`.
 * @throws {@link InvalidIdentifier} on the first invalid name, or when `names` is a string or not iterable.
 */
export function validateIdentifiers(names: Iterable<unknown>, kind: IdentifierKind = "identifier"): string[] {
  if (typeof names === "string") fail(kind, names, "expected a list of names, got a single string");
  if (names === null || typeof names !== "object" || typeof (names as Iterable<unknown>)[Symbol.iterator] !== "function") {
    fail(kind, names, "expected an iterable list of names");
  }
  const out: string[] = [];
  for (const name of names) out.push(validateIdentifier(name, kind));
  return out;
}

/** Double-quotes an already validated name, doubling any `"` (none can survive validation; belt and braces). */
function quoteValid(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Validates `name` and returns it double-quoted: `users` → `"users"`, `Order` → `"Order"`.
 *
 * @param name - the candidate name.
 * @param kind - what the name names. Default `"identifier"`.
 * @throws {@link InvalidIdentifier} when the name is invalid (see {@link validateIdentifier}).
 */
export function quoteIdentifier(name: unknown, kind: IdentifierKind = "identifier"): string {
  return quoteValid(validateIdentifier(name, kind));
}

/**
 * Validates every name and returns them quoted and comma-separated: `["a", "b"]` → `"a", "b"`.
 *
 * @param names - any iterable of candidate names; it must not be empty.
 * @param kind - what the names name. Default `"identifier"`.
 * @throws {@link InvalidIdentifier} when a name is invalid or the list is empty.
 */
export function quoteIdentifiers(names: Iterable<unknown>, kind: IdentifierKind = "identifier"): string {
  const valid = validateIdentifiers(names, kind);
  if (valid.length === 0) fail(kind, names, "expected at least one name, got an empty list");
  return valid.map(quoteValid).join(", ");
}

/**
 * Splits `table` or `schema.table` into its validated parts.
 *
 * Exactly zero or one dot is allowed; both parts must be valid identifiers (the schema as kind `schema`, the
 * name as `kind`). When `name` has no schema part, `defaultSchema` (validated) is used, else `schema` is
 * `undefined`. A given `defaultSchema` is validated even when `name` carries its own schema.
 *
 * @param name - `"table"` or `"schema.table"`.
 * @param defaultSchema - schema to use when `name` has none.
 * @param kind - what the unqualified part names (used in messages). Default `"table"`.
 * @throws {@link InvalidIdentifier} for more than one dot, an empty part, or an invalid part; its `value` is
 * the whole `name` (or `defaultSchema`, when that is what is invalid).
 */
export function splitQualifiedName(
  name: unknown,
  defaultSchema?: string,
  kind: IdentifierKind = "table",
): { schema: string | undefined; name: string } {
  const fallback =
    defaultSchema === undefined || defaultSchema === null ? undefined : validateIdentifier(defaultSchema, "schema");
  if (typeof name !== "string") fail(kind, name, "expected a string");
  const parts = name.split(".");
  if (parts.length > 2) fail(kind, name, "expected name or schema.name (at most one dot)");
  if (parts.length === 2) {
    const [schema, rel] = parts as [string, string];
    if (schema === "" || rel === "") fail(kind, name, "expected schema.name with both parts non-empty");
    return { schema: validatePart(name, schema, "schema"), name: validatePart(name, rel, kind) };
  }
  return { schema: fallback, name: validateIdentifier(name, kind) };
}

/** Validates one part of a qualified name; on failure the error's `value` is the whole qualified name. */
function validatePart(whole: string, part: string, kind: IdentifierKind): string {
  try {
    return validateIdentifier(part, kind);
  } catch (err) {
    if (!(err instanceof InvalidIdentifier)) throw err;
    throw new InvalidIdentifier(`${err.message} (in qualified name ${describeValue(whole)})`, whole);
  }
}

/**
 * Validates `table` or `schema.table` and returns it quoted: `"schema"."table"`, or `"table"` when there is
 * no schema part and no `defaultSchema`.
 *
 * @param name - `"table"` or `"schema.table"`.
 * @param defaultSchema - schema to use when `name` has none.
 * @param kind - what the unqualified part names. Default `"table"`.
 * @throws {@link InvalidIdentifier} as {@link splitQualifiedName} does.
 */
export function quoteQualifiedName(name: unknown, defaultSchema?: string, kind: IdentifierKind = "table"): string {
  const parts = splitQualifiedName(name, defaultSchema, kind);
  return parts.schema === undefined ? quoteValid(parts.name) : `${quoteValid(parts.schema)}.${quoteValid(parts.name)}`;
}

/**
 * Builds a quoted qualified name from separate parts: `qualifiedName("s", "n")` → `"s"."n"`,
 * `qualifiedName(null, "n")` → `"n"`. Neither part may contain a dot.
 *
 * @param schema - schema name (validated as kind `schema`), or `null`/`undefined` for none.
 * @param name - the object's name (validated as `kind`).
 * @param kind - what `name` names. Default `"table"`.
 * @throws {@link InvalidIdentifier} when a part is invalid.
 */
export function qualifiedName(schema: string | null | undefined, name: string, kind: IdentifierKind = "table"): string {
  const quoted = quoteIdentifier(name, kind);
  if (schema === null || schema === undefined) return quoted;
  return `${quoteIdentifier(schema, "schema")}.${quoted}`;
}

/**
 * Quotes a string as an SQL literal, for the rare DDL where bind parameters are impossible
 * (`CREATE ROLE … PASSWORD '…'`). Prefer bind parameters everywhere else.
 *
 * `it's` → `'it''s'`. A value containing a backslash becomes an escape string with `\` doubled too
 * (`a\b` → `E'a\\b'`), which reads the same whatever `standard_conforming_strings` is.
 *
 * @param value - the text to quote.
 * @throws {@link ParameterError} when `value` is not a string or contains a NUL character (PostgreSQL text
 * cannot hold one).
 */
export function quoteLiteral(value: string): string {
  if (typeof value !== "string") {
    throw new ParameterError(`quoteLiteral expects a string, got ${describeValue(value)}`);
  }
  if (value.includes("\u0000")) {
    throw new ParameterError("a string literal cannot contain a NUL (\\u0000) character");
  }
  const quoted = value.replaceAll("'", "''");
  if (value.includes("\\")) return `E'${quoted.replaceAll("\\", "\\\\")}'`;
  return `'${quoted}'`;
}

/**
 * Hostile or invalid names that every identifier validator must reject for every kind except `extension`
 * (which accepts the `-` in `a--b`). Used by the tests; exported so other modules' tests can reuse it.
 */
export const MALICIOUS_IDENTIFIERS: readonly string[] = Object.freeze([
  "users; DROP TABLE users; --",
  'x"; DROP TABLE y; --',
  "a' OR '1'='1",
  "schema.table",
  "tab le",
  '""',
  "",
  "1abc",
  "ab\n",
  "a\u0000b",
  "a--b",
  "a/*b*/",
  "$1",
  "a.b.c",
  "name)",
  "(select 1)",
  "a,b",
  "a".repeat(64),
  "é".repeat(32),
  "\t",
  "a\\b",
  "a`b",
  "'quoted'",
  "-a",
  "a;",
  "\u202e",
  "admin\u202etxt",
  "a\u200bb",
  "\ufeffusers",
  "a\u00a0b",
  "a\u2028b",
  " users",
  "users ",
  "users\r",
  'a"b',
  "a:b",
  ":name",
  "a::text",
  "*",
  "a=b",
  "a+b",
  "a%b",
  "a@b",
  "ａ；ｂ",
  "\ud800",
]);
