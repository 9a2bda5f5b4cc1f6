/**
 * Query parameters: positional `$1, $2, …` with an array, or named `:name` with a plain object.
 *
 * ```ts
 * prepareQuery("SELECT * FROM t WHERE id = $1", [42]);          // passed through untouched
 * prepareQuery("SELECT * FROM t WHERE id = :id", { id: 42 });   // → "… id = $1", [42]
 * ```
 *
 * Named placeholders are found by a single linear scan that understands enough of PostgreSQL's lexer to leave
 * alone everything that is not a placeholder: string constants (`'…'`, `E'…'`), quoted identifiers (`"…"`),
 * line and nested block comments, dollar-quoted bodies (`$$…$$`, `$tag$…$tag$`), casts (`::`), PL/pgSQL
 * assignments (`:=`) and array slices with a numeric bound (`arr[1:2]`). Plain `'…'` strings are read with
 * `standard_conforming_strings = on` (the server default since 9.1): a backslash there is an ordinary
 * character.
 * @module
 */
import { ParameterError } from "../errors.js";
import {
  QUOTE,
  DQUOTE,
  DOLLAR,
  COLON,
  DASH,
  SLASH,
  STAR,
  LF,
  CR,
  SEMICOLON,
  isAsciiLetter,
  isDigit,
  isIdentStart,
  isTagCont,
  isNameCont,
  skipQuoted,
  skipBlockComment,
  skipDollarQuoted,
} from "./lexer.js";
import { MULTIPLE, SESSION_STATE, StatementWords, TX_BEGINS, TX_ENDS } from "./statement-kind.js";

/** Parameters of a statement: an array for `$n` placeholders, a plain object for `:name` placeholders. */
export type QueryParams = readonly unknown[] | Readonly<Record<string, unknown>>;

/** A statement ready for the driver: `$n` text and the values in placeholder order. */
export interface PreparedQuery {
  /** SQL text using only `$n` placeholders. */
  text: string;
  /** Bind values (`values[k-1]` for `$k`), or `undefined` when no parameters were given. */
  values: unknown[] | undefined;
}

/** Result of {@link compileNamed}: the rewritten text and the distinct names, `names[k-1]` being `$k`. */
export interface CompiledNamed {
  /** The SQL with each `:name` replaced by `$k`. */
  readonly text: string;
  /** Distinct placeholder names in order of first appearance. */
  readonly names: readonly string[];
}

/** What one scan of a statement finds: its named placeholders and the highest positional `$n` it uses. */
interface Scanned {
  readonly named: CompiledNamed;
  /** The highest `$n` outside strings, comments and dollar quotes (0 when none): the server's parameter count. */
  readonly positional: number;
  /** What its statements do to the connection: {@link TX_BEGINS} | {@link TX_ENDS} | {@link SESSION_STATE}. */
  readonly flags: number;
  /** Why the text cannot take named parameters (raised by {@link compileNamed} only, not by other scans). */
  readonly invalidNamed?: string | undefined;
  /** The text contains a NUL character, which no protocol message can carry. */
  readonly hasNul: boolean;
}

/**
 * Throws {@link ParameterError} unless `params` (not null, not an array) is a plain object: the only container
 * for named parameters. Shared with the synchronous facade, which must refuse a class instance before
 * structured cloning turns it into a plain object.
 * @internal
 */
export function checkParamsContainer(params: unknown): void {
  if (typeof params !== "object" || params === null) {
    throw new ParameterError(`query parameters must be an array or a plain object, got ${params === null ? "null" : typeof params}`);
  }
  const proto: unknown = Object.getPrototypeOf(params);
  if (proto !== Object.prototype && proto !== null) {
    const tag = Object.prototype.toString.call(params);
    throw new ParameterError(
      `named query parameters must be a plain object (or an array for $n placeholders), got ${tag}`,
    );
  }
}

/** The most parameters one statement can have: the protocol writes the count in 16 bits. */
export const MAX_PARAMETERS = 65_535;

/**
 * Throws {@link ParameterError} unless `sql` is a string: a number, `null` or a `{ text }` object would otherwise
 * reach the driver (or a connection) before failing.
 * @internal
 */
export function checkSqlText(sql: unknown): asserts sql is string {
  if (typeof sql !== "string") {
    throw new ParameterError(`SQL text must be a string, got ${sql === null ? "null" : Array.isArray(sql) ? "an array" : typeof sql}`);
  }
}

function nulError(): ParameterError {
  return new ParameterError("the SQL text contains a NUL character (\\0), which PostgreSQL cannot receive");
}

function tooManyError(count: number): ParameterError {
  return new ParameterError(
    `${count} parameters given, but a statement can have at most ${MAX_PARAMETERS} (the protocol counts them in 16 bits)`,
  );
}

export { TX_BEGINS, TX_ENDS } from "./statement-kind.js";

/**
 * Which transaction-control statements `sql` contains, as {@link TX_BEGINS} / {@link TX_ENDS} flags (0 for none):
 * the first words of each statement (outside strings, comments and dollar quotes), so `DO $$ BEGIN … END $$`
 * and `COMMIT PREPARED 'x'` (which runs outside a transaction) are not counted, and `ROLLBACK TO SAVEPOINT`
 * is not an end. Cached per text, like the placeholder scan.
 */
export function transactionControl(sql: string): number {
  return scanCached(sql).flags & (TX_BEGINS | TX_ENDS);
}

/**
 * Whether `sql` may change session state that outlives its transaction (a session `SET`, a temporary table, a
 * prepared statement, `LISTEN`, a session advisory lock, …: see {@link SESSION_STATE}), so that a connection that
 * ran it must be reset before someone else uses it. Errs on the side of `true`. Cached per text, like the
 * placeholder scan.
 */
export function changesSessionState(sql: string): boolean {
  return (scanCached(sql).flags & SESSION_STATE) !== 0;
}

/**
 * All of `sql`'s statement flags at once (`TX_BEGINS`, `TX_ENDS`, `SESSION_STATE`, `MULTIPLE`, `SCHEMA_CHANGE`,
 * `DROPS_PREPARED`; see `statement-kind.ts`), for a caller that needs several: one cached lookup.
 */
export function statementFlags(sql: string): number {
  return scanCached(sql).flags;
}

/**
 * Whether `sql` holds more than one statement (`;`-separated, outside strings, comments and dollar quotes): such a
 * text runs only without parameters, through the simple protocol (a server-side cursor cannot take it). Cached per
 * text, like the placeholder scan.
 */
export function isMultiStatement(sql: string): boolean {
  return (scanCached(sql).flags & MULTIPLE) !== 0;
}

/**
 * Turns SQL text and parameters into what the driver takes.
 *
 * - `undefined`/`null`: `{ text: sql, values: undefined }` — the SQL is not looked at (it may contain `:x`).
 * - an array: `{ text: sql, values: params }` — the same array instance, no copying. The statement's highest
 *   `$n` (outside strings, comments and dollar quotes; cached per text) must equal the array's length, as the
 *   server requires: a mismatch raises {@link ParameterError} before anything is sent.
 * - a plain object (prototype `Object.prototype` or `null`): `:name` placeholders become `$1..$n` (a name used
 *   twice maps to the same `$k`); values follow the order of first appearance. Extra keys are ignored; a key
 *   present with the value `undefined` is passed on (the driver sends NULL).
 *
 * Mistakes the server would report as a broken protocol message are refused here too: SQL text that is not a
 * string or contains a NUL character, and more than 65,535 parameters.
 *
 * @param sql - the statement text.
 * @param params - the parameters, if any.
 * @throws {@link ParameterError} when `sql` is not a string or contains a NUL character, when a named placeholder
 * has no own property in `params`, when `params` is an object other than a plain object or array (Map, Date, class
 * instance, …), when named parameters are given for SQL that uses `$n` placeholders, when an array's length
 * differs from the statement's `$n` count, or when there are more than 65,535 values.
 */
export function prepareQuery(sql: string, params?: QueryParams | null): PreparedQuery {
  checkSqlText(sql);
  if (params === undefined || params === null) {
    // Not scanned (nor cached): one search, as fast as the string's own memory scan.
    if (sql.includes("\0")) throw nulError();
    return { text: sql, values: undefined };
  }
  if (Array.isArray(params)) {
    const scanned = scanCached(sql);
    if (scanned.hasNul) throw nulError();
    if (params.length > MAX_PARAMETERS) throw tooManyError(params.length);
    const expected = scanned.positional;
    if (params.length !== expected) {
      throw new ParameterError(
        `the statement uses ${expected} positional parameter${expected === 1 ? "" : "s"} ($1…$n), ` +
          `but ${params.length} value${params.length === 1 ? " was" : "s were"} given`,
      );
    }
    return { text: sql, values: params as unknown[] };
  }
  checkParamsContainer(params);
  const scanned = scanCached(sql);
  if (scanned.hasNul) throw nulError();
  const compiled = namedOf(scanned);
  if (compiled.names.length > MAX_PARAMETERS) throw tooManyError(compiled.names.length);
  const record = params as Readonly<Record<string, unknown>>;
  const values: unknown[] = [];
  let missing: string[] | undefined;
  for (let i = 0; i < compiled.names.length; i++) {
    const name = compiled.names[i]!;
    if (Object.hasOwn(record, name)) values.push(record[name]);
    else (missing ??= []).push(name);
  }
  if (missing) {
    const list = missing.map((n) => `:${n}`).join(", ");
    throw new ParameterError(`missing named parameter${missing.length > 1 ? "s" : ""} ${list}`);
  }
  return { text: compiled.text, values };
}

/** Most statements kept by the {@link compileNamed} cache. */
const CACHE_LIMIT = 500;
/** Longer SQL texts are compiled every time instead of being kept in the cache. */
const CACHE_MAX_SQL_LENGTH = 16_384;
const cache = new Map<string, Scanned>();
/** The last statement too long for the cache, with its scan. */
let lastLong: { sql: string; scanned: Scanned } | undefined;

// Character codes used by the scanner.
/**
 * Compiles `:name` placeholders into `$1..$n`, copying everything else through untouched.
 *
 * A placeholder is `:` followed by `[A-Za-z_][A-Za-z0-9_]*`, not preceded by another `:`. Results are cached
 * (up to 500 statements, oldest evicted first; of the texts over 16 KiB only the last one), so the returned object is
 * frozen and shared: do not mutate it.
 *
 * @param sql - the statement text.
 * @returns the rewritten text and the distinct names (`names[k-1]` is `$k`).
 * @throws {@link ParameterError} when `sql` is not a string, when it also contains a positional `$n`
 * placeholder (styles cannot be mixed), or when a placeholder name runs into a non-ASCII or `$` character.
 */
export function compileNamed(sql: string): CompiledNamed {
  return namedOf(scanCached(sql));
}

/** The named placeholders of a scanned statement; refuses one that also uses `$n` or a malformed name. */
function namedOf(scanned: Scanned): CompiledNamed {
  if (scanned.invalidNamed !== undefined) throw new ParameterError(scanned.invalidNamed);
  if (scanned.positional > 0) {
    throw new ParameterError(
      "cannot mix positional $n placeholders with named :name parameters; pass an array for $n placeholders",
    );
  }
  return scanned.named;
}

/** {@link scan} through the bounded cache. */
function scanCached(sql: string): Scanned {
  checkSqlText(sql);
  if (sql.length > CACHE_MAX_SQL_LENGTH) {
    // Not cached, but a long statement is asked about several times on its way (parameters, transaction control,
    // session state): the last one is kept.
    if (sql !== lastLong?.sql) lastLong = { sql, scanned: scan(sql) };
    return lastLong.scanned;
  }
  const hit = cache.get(sql);
  if (hit !== undefined) return hit;
  const compiled = scan(sql);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(sql, compiled);
  return compiled;
}

/** The tokenizer behind {@link compileNamed}: one pass, no backtracking beyond a dollar tag's length. */
function scan(sql: string): Scanned {
  const n = sql.length;
  let positional = 0;
  const names: string[] = [];
  const index = new Map<string, number>();
  let out = "";
  let copied = 0; // sql[copied, i) is still to be copied to `out`
  let i = 0;
  let invalidNamed: string | undefined;
  // What the statements do to the connection, from their words (a `;` starts the next statement).
  const words = new StatementWords();

  while (i < n) {
    const c = sql.charCodeAt(i);

    if (c === QUOTE) {
      i = skipQuoted(sql, i + 1, QUOTE, false);
      words.other();
    } else if (c === DQUOTE) {
      i = skipQuoted(sql, i + 1, DQUOTE, false);
      words.other();
    } else if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      i += 2;
      while (i < n) {
        const d = sql.charCodeAt(i);
        if (d === LF || d === CR) break;
        i++;
      }
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      i = skipBlockComment(sql, i + 2);
    } else if (c === DOLLAR) {
      const next = sql.charCodeAt(i + 1);
      if (isDigit(next)) {
        let j = i + 1;
        let k = 0;
        while (j < n && isDigit(sql.charCodeAt(j))) k = k * 10 + (sql.charCodeAt(j++) - 0x30);
        if (k > positional) positional = k;
        i = j;
      } else {
        i = skipDollarQuoted(sql, i);
        words.other();
      }
    } else if (c === COLON) {
      const next = sql.charCodeAt(i + 1);
      if (next === COLON) {
        i += 2; // `::` cast; the type name that follows is an ordinary word
      } else if (isAsciiLetter(next) || next === 0x5f) {
        let j = i + 2;
        while (j < n && isNameCont(sql.charCodeAt(j))) j++;
        const after = sql.charCodeAt(j);
        if (after === DOLLAR || after >= 0x80) {
          invalidNamed ??= `invalid named parameter ${JSON.stringify(sql.slice(i, j + 1))}: names are [A-Za-z_][A-Za-z0-9_]*`;
        }
        const name = sql.slice(i + 1, j);
        let k = index.get(name);
        if (k === undefined) {
          names.push(name);
          k = names.length;
          index.set(name, k);
        }
        out += `${sql.slice(copied, i)}$${k}`;
        copied = j;
        i = j;
      } else {
        i++; // `:=`, `:1` (slice), a lone `:`
      }
    } else if (isIdentStart(c)) {
      // A word (keyword or identifier); PostgreSQL lets `$` continue it, so `a$1` is not a placeholder.
      const start = i;
      i++;
      while (i < n) {
        const d = sql.charCodeAt(i);
        if (isTagCont(d) || d === DOLLAR) i++;
        else break;
      }
      words.word(sql, start, i);
      if (i === start + 1 && (c === 0x45 || c === 0x65) && sql.charCodeAt(i) === QUOTE) {
        i = skipQuoted(sql, i + 1, QUOTE, true); // E'…' escape string
        words.other();
      }
    } else if (isDigit(c)) {
      // A number (`1`, `1e5`, `0x1F`); it never absorbs `$` or `:`.
      i++;
      while (i < n && (isDigit(sql.charCodeAt(i)) || isIdentStart(sql.charCodeAt(i)))) i++;
    } else {
      if (c === SEMICOLON) words.endStatement();
      i++;
    }
  }

  const text = copied === 0 ? sql : out + sql.slice(copied);
  return {
    named: Object.freeze({ text, names: Object.freeze(names) }),
    positional,
    flags: words.finish(sql),
    invalidNamed,
    hasNul: sql.includes("\0"),
  };
}
