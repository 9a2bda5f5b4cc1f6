/**
 * The lexical pieces of PostgreSQL's SQL syntax that the placeholder scanner needs: character classes, and
 * skipping quoted strings, quoted identifiers, comments and dollar quotes.
 * @module
 */
export const QUOTE = 0x27; // '
export const DQUOTE = 0x22; // "
export const DOLLAR = 0x24; // $
export const COLON = 0x3a; // :
export const DASH = 0x2d; // -
export const SLASH = 0x2f; // /
export const STAR = 0x2a; // *
export const BACKSLASH = 0x5c; // \
export const LF = 0x0a;
export const CR = 0x0d;
export const SEMICOLON = 0x3b; // ;

export function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
/** PostgreSQL's `ident_start`: ASCII letter, `_`, or any non-ASCII character. */
export function isIdentStart(c: number): boolean {
  return isAsciiLetter(c) || c === 0x5f || c >= 0x80;
}
/** PostgreSQL's `ident_cont` minus `$` (which is also `dolq_cont`). */
export function isTagCont(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
/** Characters of a `:name` placeholder after its first one. */
export function isNameCont(c: number): boolean {
  return isAsciiLetter(c) || isDigit(c) || c === 0x5f;
}

/**
 * Skips the body of a quoted token whose opening quote is just before `i`; returns the index after the closing
 * quote (or `sql.length` when unterminated). A doubled quote is an escaped quote; with `backslashEscapes`, a
 * backslash escapes the next character (E-strings).
 */
export function skipQuoted(sql: string, i: number, quote: number, backslashEscapes: boolean): number {
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (backslashEscapes && c === BACKSLASH) {
      i += 2;
    } else if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return n;
}

/** Skips a block comment whose `/*` ends just before `i`, honouring nesting like PostgreSQL. */
export function skipBlockComment(sql: string, i: number): number {
  const n = sql.length;
  let depth = 1;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      depth++;
      i += 2;
    } else if (c === STAR && sql.charCodeAt(i + 1) === SLASH) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return n;
}

/**
 * At a `$` (not preceded by a word character and not followed by a digit): if it opens a dollar quote
 * (`$$` or `$tag$`), returns the index after the matching close (or `sql.length`); otherwise the index after
 * the `$`.
 */
export function skipDollarQuoted(sql: string, i: number): number {
  const n = sql.length;
  let j = i + 1;
  if (j < n && isIdentStart(sql.charCodeAt(j))) {
    j++;
    while (j < n && isTagCont(sql.charCodeAt(j))) j++;
  }
  if (sql.charCodeAt(j) !== DOLLAR) return i + 1;
  const delimiter = sql.slice(i, j + 1);
  const close = sql.indexOf(delimiter, j + 1);
  return close === -1 ? n : close + delimiter.length;
}
