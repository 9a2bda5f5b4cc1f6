/**
 * What the words of a statement say about it, for the connection that runs it: whether it begins or ends a
 * transaction block, and whether it may change session state that must be reset before the connection is reused
 * by someone else. Fed word by word by the placeholder scanner (`placeholders.ts`), which already skips strings,
 * quoted identifiers, comments and dollar-quoted bodies, so nothing here lexes SQL again.
 * @module
 */

/** Statement flag: it begins a transaction block (`BEGIN`, `START TRANSACTION`). */
export const TX_BEGINS = 1;
/** Statement flag: it ends one (`COMMIT`, `END`, `ROLLBACK`, `ABORT`, `PREPARE TRANSACTION`). */
export const TX_ENDS = 2;
/**
 * Statement flag: it may change session state that outlives its transaction: a setting (`SET`/`RESET`, other
 * than `SET LOCAL`, `SET TRANSACTION` and `SET CONSTRAINTS`), a prepared statement (`PREPARE`), `LISTEN`, a
 * `WITH HOLD` cursor, a temporary object (`CREATE TEMP …`, `… INTO TEMP …`, anything naming `pg_temp`), `LOAD`,
 * a `DO` block, or a call of `set_config` or of a session-level advisory lock (`pg_advisory_lock`,
 * `pg_try_advisory_lock`, their `_shared` forms). False positives only cost a reset; what a function called by
 * the statement does is not seen.
 */
export const SESSION_STATE = 4;
/** Statement flag: it changes the schema (`CREATE`, `ALTER`, `DROP`): prepared statements may no longer fit. */
export const SCHEMA_CHANGE = 16;
/** Leading words that change the schema. */
const SCHEMA_FIRST = new Set(["CREATE", "ALTER", "DROP"]);
/** Statement flag: it drops the session's prepared statements (`DEALLOCATE …`, `DISCARD …`). */
export const DROPS_PREPARED = 32;
/** Text flag: it holds more than one statement (the extended protocol, a portal, refuses it). */
export const MULTIPLE = 8;

/** Leading words that need the second word to be classified. */
const NEEDS_SECOND = new Set(["BEGIN", "START", "END", "ABORT", "COMMIT", "ROLLBACK", "PREPARE", "SET"]);

/** Leading words that change session state whatever follows. */
const STATEFUL_FIRST = new Set(["RESET", "LISTEN", "LOAD", "DO"]);

/** Function names (and the temporary schema) whose mere mention in the text marks it, strings and bodies included. */
const STATEFUL_TEXT = /set_config|advisory_lock|pg_temp/i;

/** Kinds of the previous word that matter for the next one. */
const OTHER = 0;
/** `CREATE`, `INTO`, `GLOBAL`, `LOCAL`, `REPLACE`: a following `TEMP`/`TEMPORARY` makes a temporary object. */
const TEMP_INTRO = 1;
const WITH = 2;

/** Whether `sql[start, end)` is `upper` (an upper-case ASCII keyword), ignoring case. */
function wordIs(sql: string, start: number, end: number, upper: string): boolean {
  if (end - start !== upper.length) return false;
  for (let k = 0; k < upper.length; k++) {
    const c = sql.charCodeAt(start + k);
    if (c >= 0x80 || (c & 0xdf) !== upper.charCodeAt(k)) return false;
  }
  return true;
}

function kindOf(sql: string, start: number, end: number): number {
  switch (end - start) {
    case 4:
      return wordIs(sql, start, end, "INTO") ? TEMP_INTRO : wordIs(sql, start, end, "WITH") ? WITH : OTHER;
    case 5:
      return wordIs(sql, start, end, "LOCAL") ? TEMP_INTRO : OTHER;
    case 6:
      return wordIs(sql, start, end, "CREATE") || wordIs(sql, start, end, "GLOBAL") ? TEMP_INTRO : OTHER;
    case 7:
      return wordIs(sql, start, end, "REPLACE") ? TEMP_INTRO : OTHER;
    default:
      return OTHER;
  }
}

/** Transaction control by the first two words (upper case; `second` is "" when there is none). */
function controlOf(first: string, second: string): number {
  switch (first) {
    case "BEGIN":
      return TX_BEGINS;
    case "START":
      return second === "TRANSACTION" ? TX_BEGINS : 0;
    case "END":
    case "ABORT":
      return TX_ENDS;
    case "COMMIT":
      return second === "PREPARED" ? 0 : TX_ENDS;
    case "ROLLBACK":
      return second === "PREPARED" || second === "TO" ? 0 : TX_ENDS;
    case "PREPARE":
      return second === "TRANSACTION" ? TX_ENDS : 0;
    default:
      return 0;
  }
}

/** Session state by the first two words (`second` is "" when there is none). */
function stateOf(first: string, second: string): number {
  if (first === "SET") return second === "LOCAL" || second === "TRANSACTION" || second === "CONSTRAINTS" ? 0 : SESSION_STATE;
  if (first === "PREPARE") return second === "TRANSACTION" ? 0 : SESSION_STATE;
  return 0;
}

/**
 * Collects the {@link TX_BEGINS} / {@link TX_ENDS} / {@link SESSION_STATE} flags of a text, one word at a time
 * (a `;` starts the next statement). Only the first two words of a statement are upper-cased, and only when
 * the first one needs its second; later words are compared in place, without allocating.
 */
export class StatementWords {
  /** The flags found so far. */
  flags = 0;
  /** Index of the next word in the current statement. */
  private index = 0;
  private first = "";
  private needsSecond = false;
  private prev = OTHER;
  /** Inside `DECLARE … FOR`, where `WITH HOLD` may appear. */
  private declaring = false;
  /** Statements with at least one word, so far. */
  private statements = 0;

  /** The word `sql[start, end)`. */
  word(sql: string, start: number, end: number): void {
    const w = this.index++;
    if (w === 0) {
      const first = end - start <= 11 ? sql.slice(start, end).toUpperCase() : "";
      this.first = first;
      this.needsSecond = NEEDS_SECOND.has(first);
      if (STATEFUL_FIRST.has(first)) this.flags |= SESSION_STATE;
      else if (SCHEMA_FIRST.has(first)) this.flags |= SCHEMA_CHANGE;
      else if (first === "DISCARD" || first === "DEALLOCATE") this.flags |= DROPS_PREPARED;
      else if (first === "DECLARE") this.declaring = true;
    } else if (w === 1 && this.needsSecond) {
      const second = end - start <= 11 ? sql.slice(start, end).toUpperCase() : "";
      this.flags |= controlOf(this.first, second) | stateOf(this.first, second);
      this.needsSecond = false;
    }
    const len = end - start;
    if (this.prev === TEMP_INTRO && (len === 4 || len === 9)) {
      if (wordIs(sql, start, end, "TEMP") || wordIs(sql, start, end, "TEMPORARY")) this.flags |= SESSION_STATE;
    }
    if (this.declaring && len <= 4) {
      if (wordIs(sql, start, end, "FOR")) this.declaring = false;
      else if (this.prev === WITH && wordIs(sql, start, end, "HOLD")) this.flags |= SESSION_STATE;
    }
    this.prev = len >= 4 && len <= 7 ? kindOf(sql, start, end) : OTHER;
  }

  /** A token between words that is not one (a string, a quoted identifier): it separates word pairs. */
  other(): void {
    this.prev = OTHER;
  }

  /** The end of a statement (a `;`, or the end of the text). */
  endStatement(): void {
    if (this.needsSecond) this.flags |= controlOf(this.first, "") | stateOf(this.first, "");
    if (this.index > 0 && ++this.statements > 1) this.flags |= MULTIPLE;
    this.index = 0;
    this.needsSecond = false;
    this.prev = OTHER;
    this.declaring = false;
  }

  /** Ends the text: closes the last statement and adds what the raw text mentions (see {@link SESSION_STATE}). */
  finish(sql: string): number {
    this.endStatement();
    if ((this.flags & SESSION_STATE) === 0 && STATEFUL_TEXT.test(sql)) this.flags |= SESSION_STATE;
    return this.flags;
  }
}
