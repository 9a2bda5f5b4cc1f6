/**
 * Extensions (`db.schema`): list, check, create, drop. Extension names may contain `-` (`uuid-ossp`); they go
 * through the identifier module as kind `extension` and are always quoted. These statements run where the caller
 * is: inside `db.transaction(…)` they join it and roll back with it.
 * @module
 */
import { checkOptions } from "../core/options.js";
import { ExtensionNotAvailable } from "../errors.js";
import { ident, join, sql, type Sql } from "../sql/compose.js";
import { validateIdentifier } from "../sql/identifiers.js";
import type { Executor } from "./registry.js";

/** An extension installed in the current database. */
export interface ExtensionInfo {
  name: string;
  /** Installed version (`"1.3"`). */
  version: string;
  /** Schema holding its objects. */
  schema: string;
}

/** Options of {@link createExtension}. */
export interface CreateExtensionOptions {
  /** Schema for its objects (default: the extension's own choice, else the first schema of the search path). */
  schema?: string | undefined;
  /** Do nothing when it is installed (default `true`). */
  ifNotExists?: boolean | undefined;
  /** Also install the extensions it requires (default `false`). */
  cascade?: boolean | undefined;
}

/** Options of {@link dropExtension}. */
export interface DropExtensionOptions {
  /** Do nothing when it is not installed (default `true`). */
  ifExists?: boolean | undefined;
  /** Also drop the objects that depend on it (default `false`). */
  cascade?: boolean | undefined;
}

const CREATE_SHAPE = { schema: "string", ifNotExists: "boolean", cascade: "boolean" } as const;
const DROP_SHAPE = { ifExists: "boolean", cascade: "boolean" } as const;

/** `CREATE EXTENSION [IF NOT EXISTS] "name" [SCHEMA "schema"] [CASCADE]`. @throws {@link InvalidIdentifier} */
export function createExtensionStatement(name: string, options: CreateExtensionOptions = {}): Sql {
  return join(
    [
      sql`CREATE EXTENSION`,
      options.ifNotExists !== false && sql`IF NOT EXISTS`,
      ident(name, "extension"),
      options.schema != null && sql`SCHEMA ${ident(options.schema, "schema")}`,
      options.cascade === true && sql`CASCADE`,
    ],
    " ",
  );
}

/** `DROP EXTENSION [IF EXISTS] "name" [CASCADE]`. @throws {@link InvalidIdentifier} */
export function dropExtensionStatement(name: string, options: DropExtensionOptions = {}): Sql {
  return join([sql`DROP EXTENSION`, options.ifExists !== false && sql`IF EXISTS`, ident(name, "extension"), options.cascade === true && sql`CASCADE`], " ");
}

/** The extensions installed in the current database (`plpgsql` included), sorted by name. */
export async function listExtensions(db: Executor): Promise<ExtensionInfo[]> {
  return db.execute<ExtensionInfo>(
    `SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY e.extname`,
  );
}

/**
 * Whether extension `name` is installed in the current database.
 * @throws {@link InvalidIdentifier} for an invalid name (nothing is sent).
 */
export async function hasExtension(db: Executor, name: string): Promise<boolean> {
  validateIdentifier(name, "extension");
  return (await db.fetchVal<boolean>("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)", [name])) === true;
}

/**
 * Installs extension `name` in the current database. The server is asked first whether it can
 * (`pg_available_extensions`): when it cannot, nothing is created and {@link ExtensionNotAvailable} names the
 * extension and the available ones whose names are close.
 * @param options - `schema` (where its objects go), `ifNotExists` (default `true`), `cascade` (default `false`:
 * an extension that requires another one not installed fails; `true` installs that one too).
 * @throws {@link InvalidIdentifier} for an invalid extension or schema name; `ParameterError` for a bad option
 * (both before anything is sent); {@link ExtensionNotAvailable}; the server's error otherwise (`DuplicateObject`
 * when installed and `ifNotExists` is `false`, `InvalidSchemaName` for a missing schema, `InsufficientPrivilege`).
 */
export async function createExtension(db: Executor, name: string, options?: CreateExtensionOptions): Promise<void> {
  const { schema, ifNotExists = true, cascade = false } = checkOptions("createExtension", options, CREATE_SHAPE);
  const stmt = createExtensionStatement(name, { schema, ifNotExists, cascade });
  const rows = await db.execute<{ name: string }>("SELECT name FROM pg_available_extensions ORDER BY name");
  const available = rows.map((r) => r.name);
  if (!available.includes(name)) throw notAvailable(name, available);
  await db.execute(stmt.text);
}

/**
 * Removes extension `name` from the current database.
 * @param options - `ifExists` (default `true`), `cascade` (default `false`: an extension other objects depend on
 * is not dropped, the server raises `DependentObjectsStillExist`).
 * @throws {@link InvalidIdentifier} for an invalid name; `ParameterError` for a bad option (both before anything
 * is sent); `UndefinedObject` when it is not installed and `ifExists` is `false`.
 */
export async function dropExtension(db: Executor, name: string, options?: DropExtensionOptions): Promise<void> {
  const { ifExists = true, cascade = false } = checkOptions("dropExtension", options, DROP_SHAPE);
  await db.execute(dropExtensionStatement(name, { ifExists, cascade }).text);
}

/** The error for an extension the server does not offer, with the offered names that are close to it. */
export function notAvailable(name: string, available: readonly string[]): ExtensionNotAvailable {
  const close = closeNames(name, available);
  const hint = close.length > 0 ? `close matches: ${close.join(", ")}` : `nothing close among the ${available.length} it offers`;
  return new ExtensionNotAvailable(`extension ${JSON.stringify(name)} is not available on this server (pg_available_extensions does not list it); ${hint}`);
}

/**
 * The names of `candidates` close to `name` (at most 5, closest first): compared without case, `-` and `_`, those
 * within an edit distance of a third of the length (at least 1), or that contain it or are contained in it (3
 * characters or more).
 */
export function closeNames(name: string, candidates: readonly string[]): string[] {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  const wanted = norm(name);
  const scored: [string, number][] = [];
  for (const c of candidates) {
    const other = norm(c);
    const d = editDistance(wanted, other);
    const contains = Math.min(wanted.length, other.length) >= 3 && (other.includes(wanted) || wanted.includes(other));
    if (d <= Math.max(1, Math.floor(wanted.length / 3)) || contains) scored.push([c, d]);
  }
  scored.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  return scored.slice(0, 5).map(([c]) => c);
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

export const extensionFeatures = { listExtensions, hasExtension, createExtension, dropExtension };
