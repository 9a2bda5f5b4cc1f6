/**
 * Indexes (`db.schema`): create (names generated deterministically within 63 bytes), drop, list.
 * @module
 */
import { DuplicateTable, ObjectNotInPrerequisiteState, ParameterError } from "../errors.js";
import { checkOptions } from "../core/options.js";
import { ident, idents, join, keyword, pickKeyword, sql, type Sql } from "../sql/compose.js";
import { defaultName } from "./names.js";
import { expression } from "./predicate.js";
import type { Executor } from "./registry.js";
import { IN_SCHEMA, columnList, requireTable, runAlone, target, type InSchema, type Target } from "./target.js";

/** The index access methods `createIndex` accepts (any case). */
export const INDEX_METHODS = ["btree", "hash", "gist", "spgist", "gin", "brin"] as const;
export type IndexMethod = (typeof INDEX_METHODS)[number];

/** Options of {@link createIndex}. */
export interface CreateIndexOptions {
  /** Schema of the table (default `public`, or the one in `"schema.table"`). The index is created there too. */
  schema?: string | undefined;
  /** Index name; default `<table>_<col1>_<col2>_idx`, shortened with a hash when longer than 63 bytes. */
  name?: string | undefined;
  /** A unique index (default `false`). */
  unique?: boolean | undefined;
  /** Access method: `btree` (default), `hash`, `gist`, `spgist`, `gin`, `brin`, in any case. */
  method?: string | undefined;
  /**
   * Predicate of a partial index, as SQL text (`"deleted_at IS NULL"`): trusted like `execute()`'s SQL (never
   * put user input in it; values cannot be bound in DDL), and checked to be one expression.
   */
  where?: string | undefined;
  /** Non-key columns stored in the index (`INCLUDE (…)`; btree, gist and spgist). */
  include?: string | readonly string[] | undefined;
  /** `CREATE INDEX CONCURRENTLY`: does not block writes; runs on a session of its own (see {@link createIndex}). */
  concurrently?: boolean | undefined;
  /** Do nothing when this very index already exists (default `true`); see {@link createIndex}. */
  ifNotExists?: boolean | undefined;
}

/** An index, as {@link listIndexes} describes it. */
export interface IndexInfo {
  name: string;
  /** Access method (`btree`, `gin`, …). */
  method: string;
  unique: boolean;
  /** The index of the primary key. */
  primary: boolean;
  /** Key columns in index order; an expression column is shown as its expression (`lower(email)`). */
  columns: string[];
  /** Non-key (`INCLUDE`) columns. */
  include: string[];
  /** Predicate of a partial index, as the server prints it, or `null`. */
  predicate: string | null;
  /**
   * `false` for an index the planner cannot use: one a failed `CREATE INDEX CONCURRENTLY` left behind (drop it
   * and create it again), or one still being built.
   */
  valid: boolean;
  /** `CREATE INDEX …` as `pg_get_indexdef` gives it. */
  definition: string;
}

/** What {@link createIndexStatement} builds from. */
export interface IndexSpec {
  table: Target;
  name: string;
  columns: readonly string[];
  unique?: boolean | undefined;
  method?: string | undefined;
  where?: string | undefined;
  include?: readonly string[] | undefined;
  concurrently?: boolean | undefined;
  ifNotExists?: boolean | undefined;
}

/** `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] "name" ON "s"."t" USING m ("c", …) [INCLUDE (…)] [WHERE (…)]`. */
export function createIndexStatement(spec: IndexSpec): Sql {
  const include = spec.include !== undefined && spec.include.length > 0 && sql`INCLUDE (${idents(spec.include, "column")})`;
  const where = spec.where !== undefined && sql`WHERE ${expression(spec.where, "createIndex(): option where")}`;
  return join(
    [
      sql`CREATE`,
      spec.unique === true && sql`UNIQUE`,
      sql`INDEX`,
      spec.concurrently === true && sql`CONCURRENTLY`,
      spec.ifNotExists !== false && sql`IF NOT EXISTS`,
      sql`${ident(spec.name, "index")} ON ${spec.table.sql} USING ${keyword(spec.method ?? "btree", INDEX_METHODS, "index method")}`,
      sql`(${idents(spec.columns, "column")})`,
      include,
      where,
    ],
    " ",
  );
}

/** `DROP INDEX [CONCURRENTLY] [IF EXISTS] "s"."i"`. */
export function dropIndexStatement(index: Target, options: { ifExists?: boolean | undefined; concurrently?: boolean | undefined } = {}): Sql {
  return join([sql`DROP INDEX`, options.concurrently === true && sql`CONCURRENTLY`, options.ifExists !== false && sql`IF EXISTS`, index.sql], " ");
}

/** The catalog query behind {@link listIndexes}; `$1` schema, `$2` the table (or, with `byIndex`, the index) name. */
function indexQuery(byIndex: boolean): string {
  return `SELECT i.relname AS name, t.relname AS "table", am.amname AS method, x.indisunique AS "unique",
      x.indisprimary AS "primary",
      ARRAY(SELECT CASE WHEN x.indkey[k - 1] = 0 THEN pg_get_indexdef(x.indexrelid, k, true)
                   ELSE (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]) END
            FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k) AS columns,
      ARRAY(SELECT a.attname::text FROM generate_series(x.indnkeyatts + 1, x.indnatts) AS k
            JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1] ORDER BY k) AS include,
      pg_get_expr(x.indpred, x.indrelid, true) AS predicate,
      x.indisvalid AS valid,
      pg_get_indexdef(x.indexrelid) AS definition
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = i.relnamespace
    JOIN pg_am am ON am.oid = i.relam
    WHERE n.nspname = $1 AND ${byIndex ? "i" : "t"}.relname = $2
    ORDER BY i.relname`;
}

type IndexRow = IndexInfo & { table: string };

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * After `CREATE INDEX IF NOT EXISTS`: the index of that name must be the one asked for (same table, key columns,
 * INCLUDE columns, method, uniqueness, partial or not), else the name was already taken by something else; and
 * it must be valid (usable).
 */
function checkExisting(found: IndexRow | undefined, spec: IndexSpec, method: string): void {
  const where = `${spec.table.schema}.${spec.name}`;
  if (found === undefined) {
    throw new DuplicateTable(`createIndex(): relation ${where} already exists and is not an index; choose another name`, {
      code: "42P07",
      schema: spec.table.schema,
      table: spec.table.name,
    });
  }
  const same =
    found.table === spec.table.name &&
    sameList(found.columns, spec.columns) &&
    sameList(found.include, spec.include ?? []) &&
    found.method === method &&
    found.unique === (spec.unique === true) &&
    (found.predicate !== null) === (spec.where !== undefined);
  if (!same) {
    throw new DuplicateTable(
      `createIndex(): index ${where} already exists with another definition (${found.definition}); choose another name or drop it first`,
      { code: "42P07", schema: spec.table.schema, table: spec.table.name },
    );
  }
  if (!found.valid) {
    throw new ObjectNotInPrerequisiteState(
      `createIndex(): index ${where} exists but is not valid (a CREATE INDEX CONCURRENTLY that failed leaves one behind); drop it and create it again`,
      { code: "55000", schema: spec.table.schema, table: spec.table.name },
    );
  }
}

/**
 * Refuses a `CONCURRENTLY` statement inside a transaction block: it runs on a session of its own and waits for
 * the transactions that hold locks on the table or an old snapshot, which the caller's transaction may do (it
 * then waits forever for a transaction that waits for it).
 */
function refuseInTransaction(db: Executor, method: string): void {
  if (db._inTransaction()) {
    throw new ParameterError(
      `${method}(): concurrently cannot be used inside a transaction: the statement runs on a session of its own ` +
        "and would wait for the current transaction to end, which waits for it; call it outside the transaction",
    );
  }
}

/**
 * Creates an index on `table` over `columns` (a name or an array, in key order) and resolves with its name.
 *
 * - `name` defaults to `<table>_<col1>_<col2>_idx` (as PostgreSQL names it); when that exceeds 63 bytes it is
 *   shortened and followed by a hash of the table and columns, so it is deterministic and distinct inputs get
 *   distinct names. A given `name` longer than 63 bytes is refused, never truncated.
 * - `method`: btree (default), hash, gist, spgist, gin or brin, in any case. `unique`, `include` (INCLUDE
 *   columns) and `where` (partial-index predicate; SQL text you write, checked to be one expression: no `;`, no
 *   NUL, balanced parentheses, terminated quotes and comments) as in `CREATE INDEX`.
 * - `ifNotExists` (default `true`): when an index of that name already exists on the same table with the same key
 *   and INCLUDE columns, method and uniqueness (and is partial when `where` is given; the predicate text itself is
 *   not compared), nothing is done; when the name is taken by another index or another relation, a
 *   {@link DuplicateTable} error says so, and when that index is invalid (left by a failed `concurrently` build)
 *   an {@link ObjectNotInPrerequisiteState} error. With `ifNotExists: false` any existing relation of that name
 *   is an error.
 * - `concurrently`: `CREATE INDEX CONCURRENTLY` (builds without blocking writes), which PostgreSQL refuses in a
 *   transaction block: it runs on a session of its own, in autocommit, and commits on its own. It waits for the
 *   transactions that use the table, so it is refused ({@link ParameterError}) when called inside a transaction
 *   (a `transaction()` callback, a transaction, a connection without autocommit), which it would wait for forever.
 *   Without `concurrently` the statement joins the caller's transaction like every other one.
 *
 * @throws {@link TableNotFound} when the table does not exist; {@link InvalidIdentifier} for an invalid table,
 * schema, column or index name, or an unknown method; {@link ParameterError} for an unknown option, an empty
 * column list, a `where` that is not one expression (all before any statement is sent) or `concurrently` inside a
 * transaction (before the index statement is sent); {@link DuplicateTable} as said for `ifNotExists`.
 */
export async function createIndex(db: Executor, table: string, columns: string | readonly string[], options?: CreateIndexOptions): Promise<string> {
  const o = checkOptions("createIndex", options, {
    schema: "string",
    name: "string",
    unique: "boolean",
    method: "string",
    where: "string",
    include: "string|array",
    concurrently: "boolean",
    ifNotExists: "boolean",
  });
  const t = target("createIndex", table, o.schema);
  const cols = columnList("createIndex", "columns", columns);
  const spec: IndexSpec = {
    ...o,
    table: t,
    name: o.name ?? defaultName(t.name, cols, "idx"),
    columns: cols,
    include: o.include === undefined || (Array.isArray(o.include) && o.include.length === 0) ? undefined : columnList("createIndex", "option include", o.include),
  };
  const stmt = createIndexStatement(spec); // every name, keyword and the predicate are checked here
  const method = pickKeyword(spec.method ?? "btree", INDEX_METHODS, "index method");
  await requireTable(db, t);
  if (spec.concurrently === true) {
    refuseInTransaction(db, "createIndex");
    await runAlone(db, stmt);
  } else {
    await db.execute(stmt.text);
  }
  if (spec.ifNotExists !== false) {
    // What now has that name (a concurrently built index is committed: read it on a session of its own too).
    const query = indexQuery(true);
    const params = [t.schema, spec.name];
    const rows =
      spec.concurrently === true
        ? (await db._withOwnSession((session) => session.query(query, params))).rows
        : await db.execute(query, params);
    checkExisting(rows[0] as unknown as IndexRow | undefined, spec, method);
  }
  return spec.name;
}

/** Options of {@link dropIndex}. */
export interface DropIndexOptions {
  /** Schema of the index (default `public`, or the one in `"schema.index"`). */
  schema?: string | undefined;
  /** Do nothing when there is no such index (default `true`). */
  ifExists?: boolean | undefined;
  /** `DROP INDEX CONCURRENTLY`: runs on a session of its own (see {@link dropIndex}). */
  concurrently?: boolean | undefined;
}

/**
 * Drops index `name` (`"index"` or `"schema.index"`).
 *
 * `concurrently` (`DROP INDEX CONCURRENTLY`, which does not block reads and writes of the table) cannot run in a
 * transaction block: it runs on a session of its own, in autocommit, and commits on its own; called inside a
 * transaction (which it could wait for forever) it is refused with {@link ParameterError}. Without it, the
 * statement joins the caller's transaction.
 * @throws {@link UndefinedObject} when the index does not exist and `ifExists` is `false`;
 * {@link InvalidIdentifier} for an invalid name; {@link ParameterError} for a bad option; names and options are
 * checked before any statement is sent.
 */
export async function dropIndex(db: Executor, name: string, options?: DropIndexOptions): Promise<void> {
  const o = checkOptions("dropIndex", options, { schema: "string", ifExists: "boolean", concurrently: "boolean" });
  const index = target("dropIndex", name, o.schema, "index");
  const stmt = dropIndexStatement(index, o);
  if (o.concurrently === true) {
    refuseInTransaction(db, "dropIndex");
    await runAlone(db, stmt);
  } else {
    await db.execute(stmt.text);
  }
}

/**
 * The indexes of `table`, sorted by name: name, access method, unique, primary, key columns in index order (an
 * expression as its text), INCLUDE columns, the predicate of a partial index (or `null`), whether it is valid,
 * and the definition.
 * @throws {@link TableNotFound} when the table does not exist; {@link InvalidIdentifier} for an invalid name.
 */
export async function listIndexes(db: Executor, table: string, options?: InSchema): Promise<IndexInfo[]> {
  const o = checkOptions("listIndexes", options, IN_SCHEMA);
  const t = target("listIndexes", table, o.schema);
  const rows = await db.execute<IndexRow>(indexQuery(false), [t.schema, t.name]);
  if (rows.length === 0) await requireTable(db, t); // none: no indexes, or no table
  return rows.map(({ table: _table, ...info }) => info);
}

export const indexFeatures = { createIndex, dropIndex, listIndexes };
