/**
 * `CREATE DATABASE` and `DROP DATABASE`, built in one place for `AsyncDatabase.create()` and the `createDatabase`
 * / `dropDatabase` features. (It lives under `src/sql` so that the core may import it: the core never imports the
 * feature modules.) PostgreSQL takes no bind parameters in these utility statements: names are quoted by the
 * identifier module, the encoding is checked against a strict format and emitted as a literal.
 * @module
 */
import { ParameterError } from "../errors.js";
import { ident, join, literal, sql, type Sql } from "./compose.js";
import { describeValue } from "./identifiers.js";

/** What `CREATE DATABASE` may set. */
export interface CreateDatabaseClauses {
  /** Owner role (default: the role that runs the statement). */
  owner?: string | null | undefined;
  /** Template database (default `template1`). */
  template?: string | null | undefined;
  /** Character set encoding (`UTF8`, `LATIN1`, …; default: the template's). */
  encoding?: string | null | undefined;
}

/**
 * The shape an encoding name must have: a letter, then letters, digits and `_`, with single `-` between them
 * (`UTF8`, `utf-8`, `EUC_JP`, `ISO-8859-1`, `WIN1252`), at most 32 characters. The server decides whether it
 * names an encoding.
 */
const ENCODING_RE = /^[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*$/;

/**
 * Checks the format of an encoding name and returns it.
 * @throws {@link ParameterError} when it is not a string of that format (see `ENCODING_RE`).
 */
export function checkEncoding(encoding: unknown): string {
  if (typeof encoding !== "string" || encoding.length > 32 || !ENCODING_RE.test(encoding)) {
    throw new ParameterError(`invalid encoding ${describeValue(encoding)}: expected an encoding name such as UTF8, LATIN1 or EUC_JP`);
  }
  return encoding;
}

/**
 * `CREATE DATABASE "name" [OWNER "owner"] TEMPLATE "template" [ENCODING 'enc']`.
 * @throws {@link InvalidIdentifier} for an invalid database, owner or template name; {@link ParameterError} for
 * an encoding of the wrong format.
 */
export function createDatabaseStatement(name: string, clauses: CreateDatabaseClauses = {}): Sql {
  const { owner, template, encoding } = clauses;
  return join(
    [
      sql`CREATE DATABASE ${ident(name, "database")}`,
      owner != null && sql`OWNER ${ident(owner, "role")}`,
      sql`TEMPLATE ${ident(template ?? "template1", "database")}`,
      encoding != null && sql`ENCODING ${literal(checkEncoding(encoding))}`,
    ],
    " ",
  );
}

/**
 * `DROP DATABASE [IF EXISTS] "name" [WITH (FORCE)]`.
 * @throws {@link InvalidIdentifier} for an invalid name.
 */
export function dropDatabaseStatement(name: string, options: { ifExists?: boolean | undefined; force?: boolean | undefined } = {}): Sql {
  return join([sql`DROP DATABASE`, options.ifExists === true && sql`IF EXISTS`, ident(name, "database"), options.force === true && sql`WITH (FORCE)`], " ");
}
