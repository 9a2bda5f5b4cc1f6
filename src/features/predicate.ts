/**
 * The one place where SQL text written by the caller becomes part of a feature's statement: the predicate of a
 * partial index (`createIndex(…, { where: "deleted_at IS NULL" })`). It is trusted as `execute()`'s SQL is (the
 * caller writes it), but it must be one expression and stay one: it is checked to contain no `;`, no NUL, only
 * balanced parentheses and terminated quotes, identifiers, dollar quotes and comments, and it is emitted inside
 * its own parentheses, which it therefore cannot close.
 * @module
 */
import { ParameterError } from "../errors.js";
import { Sql } from "../sql/compose.js";
import {
  BACKSLASH,
  CR,
  DASH,
  DOLLAR,
  DQUOTE,
  LF,
  QUOTE,
  SEMICOLON,
  SLASH,
  STAR,
  isDigit,
  isIdentStart,
  isTagCont,
  skipBlockComment,
  skipDollarQuoted,
  skipQuoted,
} from "../sql/lexer.js";

const OPEN = 0x28; // (
const CLOSE = 0x29; // )

/**
 * Why `text` is not one SQL expression that can be put between parentheses, or `undefined` when it is. Reads
 * strings, quoted identifiers, `E'…'` strings, dollar quotes and comments as PostgreSQL does; a backslash inside
 * a plain `'…'` string is refused (its meaning depends on `standard_conforming_strings`).
 */
export function expressionProblem(text: string): string | undefined {
  if (text.trim() === "") return "it is empty";
  if (text.includes("\0")) return "it contains a NUL character";
  // A trailing space cannot close anything, so a token that runs to the end of `padded` is unterminated.
  const padded = `${text} `;
  const end = padded.length;
  let depth = 0;
  let i = 0;
  while (i < end) {
    const c = padded.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      i = skipQuoted(padded, i + 1, QUOTE, false);
      if (i === end) return "a string constant is not terminated";
      if (padded.slice(start, i).includes("\\")) return "a backslash in a '…' string (write E'…' for escapes)";
    } else if (c === DQUOTE) {
      i = skipQuoted(padded, i + 1, DQUOTE, false);
      if (i === end) return "a quoted identifier is not terminated";
    } else if (c === DASH && padded.charCodeAt(i + 1) === DASH) {
      while (i < end && padded.charCodeAt(i) !== LF && padded.charCodeAt(i) !== CR) i++;
    } else if (c === SLASH && padded.charCodeAt(i + 1) === STAR) {
      i = skipBlockComment(padded, i + 2);
      if (i === end) return "a block comment is not terminated";
    } else if (c === DOLLAR) {
      if (isDigit(padded.charCodeAt(i + 1))) {
        i++; // $1: a parameter reference (the server will say it has no parameters)
      } else {
        const next = skipDollarQuoted(padded, i);
        if (next === end) return "a dollar-quoted string is not terminated";
        i = next;
      }
    } else if (isIdentStart(c)) {
      const start = i;
      i++;
      while (i < end && (isTagCont(padded.charCodeAt(i)) || padded.charCodeAt(i) === DOLLAR)) i++;
      if (i === start + 1 && (c === 0x45 || c === 0x65) && padded.charCodeAt(i) === QUOTE) {
        i = skipQuoted(padded, i + 1, QUOTE, true); // E'…' escape string
        if (i === end) return "a string constant is not terminated";
      }
    } else {
      if (c === SEMICOLON) return "it contains a ; (one expression only)";
      if (c === OPEN) depth++;
      if (c === CLOSE && --depth < 0) return "a ) closes a parenthesis it did not open";
      if (c === BACKSLASH) return "it contains a backslash outside a string";
      i++;
    }
  }
  if (depth !== 0) return "a ( is not closed";
  return undefined;
}

/**
 * `(text)` as a fragment, after {@link expressionProblem} found nothing wrong. The closing parenthesis goes on a
 * line of its own so that a trailing `-- comment` cannot swallow it.
 * @throws {@link ParameterError} naming `what` and the problem.
 */
export function expression(text: unknown, what: string): Sql {
  if (typeof text !== "string") throw new ParameterError(`${what} must be a string of SQL, got ${text === null ? "null" : typeof text}`);
  const problem = expressionProblem(text);
  if (problem !== undefined) throw new ParameterError(`${what} must be one SQL expression: ${problem}`);
  return new Sql(`(${text}\n)`);
}
