/**
 * Databases (`db.schema`): create, drop, check, list. Creating and dropping run on a session of their own
 * (PostgreSQL refuses them in a transaction block); checking and listing run where the caller is.
 * @module
 */
import { checkOptions } from "../core/options.js";
import { DuplicateDatabase, ParameterError } from "../errors.js";
import { checkEncoding, createDatabaseStatement, dropDatabaseStatement } from "../sql/database-ddl.js";
import { validateIdentifier } from "../sql/identifiers.js";
import type { Executor } from "./registry.js";
import { runAlone } from "./target.js";

/** Options of {@link createDatabase}. */
export interface CreateDatabaseFeatureOptions {
  /** Owner role (default: the current role). */
  owner?: string | undefined;
  /** Template database (default `template1`; use `template0` for an encoding other than the template's). */
  template?: string | undefined;
  /** Character set encoding, e.g. `UTF8`, `LATIN1` (default: the template's). */
  encoding?: string | undefined;
  /** Do nothing when the database exists (default `false`: the server's {@link DuplicateDatabase}). */
  ifNotExists?: boolean | undefined;
}

/** Options of {@link dropDatabase}. */
export interface DropDatabaseOptions {
  /** Do nothing when the database does not exist (default `true`). */
  ifExists?: boolean | undefined;
  /**
   * `WITH (FORCE)`: terminate the other sessions connected to it first (default `false`: a database in use is
   * not dropped, and the server raises `ObjectInUse`).
   */
  force?: boolean | undefined;
}

const CREATE_SHAPE = { owner: "string", template: "string", encoding: "string", ifNotExists: "boolean" } as const;
const DROP_SHAPE = { ifExists: "boolean", force: "boolean" } as const;

const DATABASE_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)";

/**
 * Creates database `name`. Runs on a session of its own, outside any transaction (PostgreSQL refuses
 * `CREATE DATABASE` in a transaction block): called inside `db.transaction(…)` it commits at once, and a
 * rollback does not undo it.
 * @param name - the database's name.
 * @param options - `owner` (role), `template` (default `template1`), `encoding` (a name the server knows, emitted
 * as its canonical name: `utf-8` → `UTF8`; with an encoding other than the template's use `template: "template0"`),
 * `ifNotExists` (default `false`).
 * @throws {@link InvalidIdentifier} for an invalid database, owner or template name; {@link ParameterError} for a
 * bad option or an encoding the server does not know (all before `CREATE DATABASE` is sent);
 * {@link DuplicateDatabase} when it exists and `ifNotExists` is not set; the server's error otherwise
 * (`UndefinedObject` for an unknown owner, `InvalidCatalogName` for an unknown template, …).
 */
export async function createDatabase(db: Executor, name: string, options?: CreateDatabaseFeatureOptions): Promise<void> {
  const { owner, template, encoding, ifNotExists = false } = checkOptions("createDatabase", options, CREATE_SHAPE);
  createDatabaseStatement(name, { owner, template, encoding }); // every name and the encoding's format, checked first
  const canonical = encoding === undefined ? undefined : await serverEncoding(db, encoding);
  const stmt = createDatabaseStatement(name, { owner, template, encoding: canonical });
  if (ifNotExists && (await databaseExists(db, name))) return;
  try {
    await runAlone(db, stmt);
  } catch (err) {
    // Created meanwhile by someone else: what ifNotExists asks for.
    if (ifNotExists && err instanceof DuplicateDatabase) return;
    throw err;
  }
}

/** The server's canonical name of `encoding` (`utf-8` → `UTF8`). @throws {@link ParameterError} when unknown. */
async function serverEncoding(db: Executor, encoding: string): Promise<string> {
  const known = await db.fetchVal<string | null>(
    "SELECT CASE WHEN pg_char_to_encoding($1) >= 0 THEN pg_encoding_to_char(pg_char_to_encoding($1)) END",
    [checkEncoding(encoding)],
  );
  if (known == null) throw new ParameterError(`createDatabase(): unknown encoding ${JSON.stringify(encoding)}`);
  return known;
}

/**
 * Drops database `name`. Runs on a session of its own, outside any transaction (PostgreSQL refuses
 * `DROP DATABASE` in a transaction block): a rollback does not undo it. Other sessions are never terminated
 * unless `force` is set (pycopg kills them unasked).
 * @param name - the database's name (not the one this handle is connected to: the server refuses that).
 * @param options - `ifExists` (default `true`), `force` (default `false`; `WITH (FORCE)`, PostgreSQL ≥ 13).
 * @throws {@link InvalidIdentifier} for an invalid name; {@link ParameterError} for a bad option (both before
 * anything is sent); `InvalidCatalogName` when it does not exist and `ifExists` is `false`; `ObjectInUse` when
 * other sessions are connected to it and `force` is not set.
 */
export async function dropDatabase(db: Executor, name: string, options?: DropDatabaseOptions): Promise<void> {
  const { ifExists = true, force = false } = checkOptions("dropDatabase", options, DROP_SHAPE);
  await runAlone(db, dropDatabaseStatement(name, { ifExists, force }));
}

/**
 * Whether database `name` exists on the server (templates included).
 * @throws {@link InvalidIdentifier} for an invalid name (nothing is sent).
 */
export async function databaseExists(db: Executor, name: string): Promise<boolean> {
  validateIdentifier(name, "database");
  return (await db.fetchVal<boolean>(DATABASE_EXISTS, [name])) === true;
}

/** The databases of the server, without the templates (`template0`, `template1`, and any marked as template), sorted. */
export async function listDatabases(db: Executor): Promise<string[]> {
  const rows = await db.execute<{ name: string }>("SELECT datname AS name FROM pg_database WHERE NOT datistemplate ORDER BY datname");
  return rows.map((r) => r.name);
}

export const databaseFeatures = { createDatabase, dropDatabase, databaseExists, listDatabases };
