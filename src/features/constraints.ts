/**
 * Constraints (`db.schema`): primary keys, foreign keys, unique constraints, and their listing.
 * @module
 */
import { ParameterError } from "../errors.js";
import { checkOptions } from "../core/options.js";
import { ident, idents, join, keyword, sql, type Sql } from "../sql/compose.js";
import { defaultName } from "./names.js";
import type { Executor } from "./registry.js";
import { IN_SCHEMA, columnList, requireTable, target, type InSchema, type Target } from "./target.js";

/** The referential actions of a foreign key (any case, runs of spaces ignored: `"set null"`). */
export const FK_ACTIONS = ["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"] as const;
export type ForeignKeyAction = (typeof FK_ACTIONS)[number];

/** Options of {@link addPrimaryKey} and {@link addUniqueConstraint}. */
export interface ConstraintOptions {
  /** Schema of the table (default `public`, or the one in `"schema.table"`). */
  schema?: string | undefined;
  /** Constraint name; default as PostgreSQL names it (`<table>_pkey`, `<table>_<cols>_key`), within 63 bytes. */
  name?: string | undefined;
}

/** Options of {@link addForeignKey}. */
export interface ForeignKeyOptions extends ConstraintOptions {
  /** Schema of the referenced table (default: the table's schema, or the one in `"schema.refTable"`). */
  refSchema?: string | undefined;
  /** `ON DELETE` action: NO ACTION (the server's default), RESTRICT, CASCADE, SET NULL, SET DEFAULT. */
  onDelete?: string | undefined;
  /** `ON UPDATE` action, as `onDelete`. */
  onUpdate?: string | undefined;
}

/** A constraint, as {@link listConstraints} describes it. */
export interface ConstraintInfo {
  name: string;
  /**
   * `"primary key"`, `"foreign key"`, `"unique"`, `"check"`, `"exclusion"`, `"trigger"` (constraint triggers),
   * `"not null"` (PostgreSQL 17+).
   */
  type: string;
  /** The constrained columns, in key order (for a foreign key, pairwise with the referenced ones). */
  columns: string[];
  /** As `pg_get_constraintdef` gives it (`PRIMARY KEY (id)`, `FOREIGN KEY (a) REFERENCES t(b) ON DELETE CASCADE`). */
  definition: string;
}

/** `ALTER TABLE "s"."t" ADD CONSTRAINT "name" PRIMARY KEY ("c", …)`. */
export function addPrimaryKeyStatement(table: Target, name: string, columns: readonly string[]): Sql {
  return sql`ALTER TABLE ${table.sql} ADD CONSTRAINT ${ident(name, "constraint")} PRIMARY KEY (${idents(columns, "column")})`;
}

/** `ALTER TABLE "s"."t" ADD CONSTRAINT "name" UNIQUE ("c", …)`. */
export function addUniqueStatement(table: Target, name: string, columns: readonly string[]): Sql {
  return sql`ALTER TABLE ${table.sql} ADD CONSTRAINT ${ident(name, "constraint")} UNIQUE (${idents(columns, "column")})`;
}

/** `ALTER TABLE … ADD CONSTRAINT "name" FOREIGN KEY (…) REFERENCES "s"."r" (…) [ON DELETE …] [ON UPDATE …]`. */
export function addForeignKeyStatement(
  table: Target,
  name: string,
  columns: readonly string[],
  ref: Target,
  refColumns: readonly string[],
  actions: { onDelete?: string | undefined; onUpdate?: string | undefined } = {},
): Sql {
  const onDelete = actions.onDelete !== undefined && sql`ON DELETE ${keyword(actions.onDelete, FK_ACTIONS, "foreign key action")}`;
  const onUpdate = actions.onUpdate !== undefined && sql`ON UPDATE ${keyword(actions.onUpdate, FK_ACTIONS, "foreign key action")}`;
  const key = sql`ALTER TABLE ${table.sql} ADD CONSTRAINT ${ident(name, "constraint")}
    FOREIGN KEY (${idents(columns, "column")}) REFERENCES ${ref.sql} (${idents(refColumns, "column")})`;
  return join([key, onDelete, onUpdate], " ");
}

const CONSTRAINT_OPTIONS = { schema: "string", name: "string" } as const;

/**
 * Adds a primary key over `columns` (a name or an array, in key order) to `table`; resolves with the constraint's
 * name (default `<table>_pkey`, shortened with a hash when longer than 63 bytes). Joins the caller's transaction.
 * @throws {@link TableNotFound}; {@link InvalidIdentifier} for an invalid name; {@link ParameterError} for a bad
 * option or no column (all before any statement is sent); the server's error when the table already has a primary
 * key ({@link InvalidTableDefinition}), the name is taken or the values are not unique.
 */
export async function addPrimaryKey(db: Executor, table: string, columns: string | readonly string[], options?: ConstraintOptions): Promise<string> {
  const o = checkOptions("addPrimaryKey", options, CONSTRAINT_OPTIONS);
  const t = target("addPrimaryKey", table, o.schema);
  const cols = columnList("addPrimaryKey", "columns", columns);
  const name = o.name ?? defaultName(t.name, [], "pkey");
  const stmt = addPrimaryKeyStatement(t, name, cols);
  await requireTable(db, t);
  await db.execute(stmt.text);
  return name;
}

/**
 * Adds a unique constraint over `columns` to `table`; resolves with its name (default `<table>_<cols>_key`,
 * shortened with a hash when longer than 63 bytes). Joins the caller's transaction.
 * @throws as {@link addPrimaryKey} ({@link UniqueViolation} when the values are not unique).
 */
export async function addUniqueConstraint(db: Executor, table: string, columns: string | readonly string[], options?: ConstraintOptions): Promise<string> {
  const o = checkOptions("addUniqueConstraint", options, CONSTRAINT_OPTIONS);
  const t = target("addUniqueConstraint", table, o.schema);
  const cols = columnList("addUniqueConstraint", "columns", columns);
  const name = o.name ?? defaultName(t.name, cols, "key");
  const stmt = addUniqueStatement(t, name, cols);
  await requireTable(db, t);
  await db.execute(stmt.text);
  return name;
}

/**
 * Adds a foreign key from `columns` of `table` to `refColumns` of `refTable` (`"table"` or `"schema.table"`;
 * its schema defaults to the table's), pairwise in order; resolves with its name (default
 * `<table>_<cols>_fkey`, shortened with a hash when longer than 63 bytes). `onDelete` / `onUpdate`: NO ACTION
 * (the server's default when omitted), RESTRICT, CASCADE, SET NULL or SET DEFAULT, in any case. Joins the
 * caller's transaction.
 * @throws {@link TableNotFound} for either table; {@link InvalidIdentifier} for an invalid name or action;
 * {@link ParameterError} for a bad option or column lists of different lengths (all before any statement is
 * sent); the server's error when the referenced columns have no unique constraint ({@link InvalidForeignKey}) or
 * existing rows violate the key ({@link ForeignKeyViolation}).
 */
export async function addForeignKey(
  db: Executor,
  table: string,
  columns: string | readonly string[],
  refTable: string,
  refColumns: string | readonly string[],
  options?: ForeignKeyOptions,
): Promise<string> {
  const o = checkOptions("addForeignKey", options, { ...CONSTRAINT_OPTIONS, refSchema: "string", onDelete: "string", onUpdate: "string" });
  const t = target("addForeignKey", table, o.schema);
  const ref = target("addForeignKey", refTable, o.refSchema ?? (typeof refTable === "string" && refTable.includes(".") ? undefined : t.schema));
  const cols = columnList("addForeignKey", "columns", columns);
  const refCols = columnList("addForeignKey", "refColumns", refColumns);
  if (cols.length !== refCols.length) {
    throw new ParameterError(`addForeignKey(): ${cols.length} column(s) reference ${refCols.length} column(s); the lists must pair up`);
  }
  const name = o.name ?? defaultName(t.name, cols, "fkey");
  const stmt = addForeignKeyStatement(t, name, cols, ref, refCols, o);
  await requireTable(db, t);
  await requireTable(db, ref);
  await db.execute(stmt.text);
  return name;
}

/** A constraint row of {@link readConstraints}. */
export interface ConstraintRow extends ConstraintInfo {
  /** The referenced table's schema, name and columns (foreign keys; else `null` / `[]`). */
  refSchema: string | null;
  refTable: string | null;
  refColumns: string[];
  /** Referential actions as words (foreign keys; else `null`). */
  onDelete: string | null;
  onUpdate: string | null;
}

const ACTION_WORDS = `CASE %s WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
  WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END`;

const CONSTRAINT_QUERY = `SELECT c.conname::text AS name,
    CASE c.contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check'
      WHEN 'x' THEN 'exclusion' WHEN 't' THEN 'trigger' WHEN 'n' THEN 'not null' ELSE c.contype::text END AS type,
    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
    pg_get_constraintdef(c.oid, true) AS definition,
    rn.nspname::text AS "refSchema", r.relname::text AS "refTable",
    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS "refColumns",
    ${ACTION_WORDS.replace("%s", "c.confdeltype")} AS "onDelete",
    ${ACTION_WORDS.replace("%s", "c.confupdtype")} AS "onUpdate"
  FROM pg_constraint c
  JOIN pg_class t ON t.oid = c.conrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  LEFT JOIN pg_class r ON r.oid = c.confrelid
  LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
  WHERE n.nspname = $1 AND t.relname = $2 AND ($3::"char" IS NULL OR c.contype = $3::"char")
  ORDER BY c.conname`;

/**
 * The constraints of table `t` (all, or those of one `contype`: `p`, `f`, `u`, …), sorted by name, with what
 * the introspection methods need. Whether the table exists is asked only when it has none.
 * @throws {@link TableNotFound}.
 */
export async function readConstraints(db: Executor, t: Target, contype: "p" | "f" | "u" | null = null): Promise<ConstraintRow[]> {
  const rows = await db.execute<ConstraintRow>(CONSTRAINT_QUERY, [t.schema, t.name, contype]);
  if (rows.length === 0) await requireTable(db, t);
  return rows;
}

/**
 * The constraints of `table`, sorted by name: name, type as a word (`"primary key"`, `"foreign key"`,
 * `"unique"`, `"check"`, `"exclusion"`, …), columns in key order, and the definition as PostgreSQL prints it.
 * @throws {@link TableNotFound}; {@link InvalidIdentifier} for an invalid name.
 */
export async function listConstraints(db: Executor, table: string, options?: InSchema): Promise<ConstraintInfo[]> {
  const o = checkOptions("listConstraints", options, IN_SCHEMA);
  const t = target("listConstraints", table, o.schema);
  const rows = await readConstraints(db, t);
  return rows.map(({ name, type, columns, definition }) => ({ name, type, columns, definition }));
}

export const constraintFeatures = { addPrimaryKey, addForeignKey, addUniqueConstraint, listConstraints };
