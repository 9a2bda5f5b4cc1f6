/**
 * What `explain()` needs besides the statement: checking that the caller's SQL is one statement (so that
 * `EXPLAIN` covers all of it), and shaping the server's answer into lines and, for JSON, the parsed plan.
 * @module
 */
import { ParameterError } from "../errors.js";
import { DASH, DOLLAR, DQUOTE, LF, QUOTE, SEMICOLON, SLASH, STAR, isDigit, isTagCont, skipBlockComment, skipDollarQuoted, skipQuoted } from "../sql/lexer.js";
import { checkSqlText } from "../sql/placeholders.js";

/** An EXPLAIN output format. */
export type ExplainFormat = "TEXT" | "JSON" | "XML" | "YAML";

/** A node of a JSON plan: `"Node Type"`, costs, `"Plans"` (its children), and the other keys EXPLAIN writes. */
export interface ExplainNode {
  "Node Type": string;
  Plans?: ExplainNode[];
  [key: string]: unknown;
}

/** One statement's JSON plan: its root node, and with `analyze` its timings (`"Planning Time"`, `"Execution Time"`, …). */
export interface ExplainPlan {
  Plan: ExplainNode;
  [key: string]: unknown;
}

/** What `explain()` returns, whatever the format. */
export interface ExplainResult {
  /**
   * The plan as text lines: for `text`, one per plan line as the server writes them; for `xml` and `yaml`, the
   * document split at its line breaks; for `json`, the parsed plan re-serialized with two-space indentation
   * (as the server indents it), split at its line breaks.
   */
  lines: string[];
  /**
   * For `json`: the parsed plan, as the server gives it: an array with one {@link ExplainPlan} per statement
   * planned (one, unless rules rewrite the statement into several). `null` for the other formats.
   */
  plan: ExplainPlan[] | null;
}

/**
 * Throws {@link ParameterError} unless `sql` is a string holding one statement: after a `;` outside strings,
 * quoted names, comments and dollar quotes only spaces, comments and `;` may follow. (With parameters the server
 * refuses several statements anyway; without, `EXPLAIN a; b` would run `b`.)
 */
export function checkOneStatement(method: string, sql: unknown): asserts sql is string {
  checkSqlText(sql);
  const n = sql.length;
  let ended = false;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      while (i < n && sql.charCodeAt(i) !== LF) i++;
      continue;
    }
    if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      i = skipBlockComment(sql, i + 2);
      continue;
    }
    if (c === SEMICOLON) {
      ended = true;
      i++;
      continue;
    }
    if (/\s/.test(sql[i]!)) {
      i++;
      continue;
    }
    if (ended) throw new ParameterError(`${method}() takes one statement; the SQL text holds more (a statement follows a ";")`);
    if (c === QUOTE) {
      // E'…' (an escape string) lets a backslash escape the quote.
      const escape = i > 0 && (sql[i - 1] === "E" || sql[i - 1] === "e") && (i < 2 || !isTagCont(sql.charCodeAt(i - 2)));
      i = skipQuoted(sql, i + 1, QUOTE, escape);
    } else if (c === DQUOTE) {
      i = skipQuoted(sql, i + 1, DQUOTE, false);
    } else if (c === DOLLAR && !isDigit(sql.charCodeAt(i + 1)) && (i === 0 || !isTagCont(sql.charCodeAt(i - 1)))) {
      i = skipDollarQuoted(sql, i);
    } else if (isTagCont(c)) {
      // A word or number, `$` included (`a$b`, `$1` is handled here too: it never opens a dollar quote).
      while (i < n && (isTagCont(sql.charCodeAt(i)) || sql.charCodeAt(i) === DOLLAR)) i++;
    } else {
      i++;
    }
  }
}

/** The answer of `explain()` from the `QUERY PLAN` column of the rows the server returned. */
export function planLines(format: ExplainFormat, column: unknown[]): ExplainResult {
  if (format === "JSON") {
    const plan = column[0] as ExplainPlan[];
    return { lines: JSON.stringify(plan, null, 2).split("\n"), plan };
  }
  if (format === "TEXT") return { lines: column as string[], plan: null };
  return { lines: (column as string[]).join("\n").split("\n"), plan: null };
}
