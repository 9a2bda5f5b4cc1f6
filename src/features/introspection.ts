/**
 * Introspection (`db.schema`, pycopg 0.10): primary key, foreign keys, sequences, views, and `describe` (all of it in one call).
 * @module
 */
import { checkOptions } from "../core/options.js";
import { validateIdentifier } from "../sql/identifiers.js";
import { listConstraints, readConstraints, type ConstraintInfo, type ForeignKeyAction } from "./constraints.js";
import { listIndexes, type IndexInfo } from "./indexes.js";
import type { Executor } from "./registry.js";
import { sizeOf } from "./sizes.js";
import { relationsOfKind, rowCount, tableInfo, type ColumnInfo } from "./tables.js";
import { IN_SCHEMA, target, type InSchema } from "./target.js";

/** A primary key: its constraint name and its columns in key order. */
export interface PrimaryKeyInfo {
  name: string;
  columns: string[];
}

/** A foreign key of a table, as {@link foreignKeys} describes it. */
export interface ForeignKeyInfo {
  name: string;
  /** The referencing columns, in key order. */
  columns: string[];
  refSchema: string;
  refTable: string;
  /** The referenced columns, pairwise with `columns`. */
  refColumns: string[];
  onDelete: ForeignKeyAction;
  onUpdate: ForeignKeyAction;
}

/**
 * The primary key of `table`: `{ name, columns }` with the columns in key order, or `null` when it has none.
 * @throws {@link TableNotFound}; {@link InvalidIdentifier} for an invalid name.
 */
export async function primaryKey(db: Executor, table: string, options?: InSchema): Promise<PrimaryKeyInfo | null> {
  const o = checkOptions("primaryKey", options, IN_SCHEMA);
  const [pk] = await readConstraints(db, target("primaryKey", table, o.schema), "p");
  return pk === undefined ? null : { name: pk.name, columns: pk.columns };
}

/**
 * The foreign keys of `table` (those it declares, not those referencing it), sorted by name: columns and referenced
 * columns pairwise in key order, the referenced table and its schema, and the `ON DELETE` / `ON UPDATE` actions as
 * words (`"NO ACTION"`, `"RESTRICT"`, `"CASCADE"`, `"SET NULL"`, `"SET DEFAULT"`).
 * @throws {@link TableNotFound}; {@link InvalidIdentifier} for an invalid name.
 */
export async function foreignKeys(db: Executor, table: string, options?: InSchema): Promise<ForeignKeyInfo[]> {
  const o = checkOptions("foreignKeys", options, IN_SCHEMA);
  const rows = await readConstraints(db, target("foreignKeys", table, o.schema), "f");
  return rows.map((r) => ({
    name: r.name,
    columns: r.columns,
    refSchema: r.refSchema!,
    refTable: r.refTable!,
    refColumns: r.refColumns,
    onDelete: r.onDelete as ForeignKeyAction,
    onUpdate: r.onUpdate as ForeignKeyAction,
  }));
}

/**
 * The sequences of a schema (default `public`), sorted; those behind `serial` and identity columns included.
 * @throws {@link InvalidIdentifier} for an invalid schema name; `InvalidSchemaName` (3F000) when the schema does not
 * exist.
 */
export async function sequences(db: Executor, options?: InSchema): Promise<string[]> {
  const { schema = "public" } = checkOptions("sequences", options, IN_SCHEMA);
  return relationsOfKind(db, validateIdentifier(schema, "schema"), ["S"]);
}

/** Options of {@link views}. */
export interface ViewsOptions {
  /** Schema (default `public`). */
  schema?: string | undefined;
  /**
   * Which views: omitted (default) both ordinary and materialized views; `false` ordinary views only; `true`
   * materialized views only. (pycopg's `views()` silently leaves materialized views out.)
   */
  materialized?: boolean | undefined;
}

/**
 * The views of a schema (default `public`), sorted: ordinary and materialized ones, or only one kind with
 * `materialized: false` / `true`. A schema that does not exist is an `InvalidSchemaName` (3F000).
 * @throws {@link InvalidIdentifier} for an invalid schema name; {@link ParameterError} for a bad option.
 */
export async function views(db: Executor, options?: ViewsOptions): Promise<string[]> {
  const { schema = "public", materialized } = checkOptions("views", options, { schema: "string", materialized: "boolean" });
  const kinds = materialized === undefined ? ["v", "m"] : materialized ? ["m"] : ["v"];
  return relationsOfKind(db, validateIdentifier(schema, "schema"), kinds);
}

/** Everything about one table, as {@link describe} gives it. */
export interface TableDescription {
  schema: string;
  name: string;
  /** As `tableInfo` gives them: name, type, nullable, default, position, max length, precision, scale. */
  columns: ColumnInfo[];
  /** As {@link primaryKey}: `{ name, columns }` or `null`. */
  primaryKey: PrimaryKeyInfo | null;
  /** As {@link foreignKeys}. */
  foreignKeys: ForeignKeyInfo[];
  /** As `listIndexes`. */
  indexes: IndexInfo[];
  /** As `listConstraints` (the primary and foreign keys among them). */
  constraints: ConstraintInfo[];
  /** Total size (data, TOAST and indexes) as `tableSize` gives it: exact bytes and pretty-printed. */
  size: { bytes: bigint; pretty: string };
  /** Exact number of rows (`count(*)`, as `rowCount` gives it). */
  rowCount: number;
}

/**
 * Everything about `table` in one call: its columns, primary key, foreign keys, indexes, constraints, total size
 * and exact row count, each as the method of that name gives it (this composes them: `tableInfo`,
 * {@link primaryKey}, {@link foreignKeys}, `listIndexes`, `listConstraints`, `tableSize`, `rowCount`). They run
 * one after the other, in the caller's transaction if there is one (a REPEATABLE READ transaction gives one
 * consistent picture; otherwise each part is read as it stands when it runs). The row count reads the whole table.
 * @throws {@link TableNotFound} (before anything else is read); {@link InvalidIdentifier} for an invalid name;
 * {@link ParameterError} for a bad option.
 */
export async function describe(db: Executor, table: string, options?: InSchema): Promise<TableDescription> {
  const o = checkOptions("describe", options, IN_SCHEMA);
  const t = target("describe", table, o.schema);
  const at = { schema: t.schema };
  const columns = await tableInfo(db, t.name, at); // TableNotFound here when it is missing
  return {
    schema: t.schema,
    name: t.name,
    columns,
    primaryKey: await primaryKey(db, t.name, at),
    foreignKeys: await foreignKeys(db, t.name, at),
    indexes: await listIndexes(db, t.name, at),
    constraints: await listConstraints(db, t.name, at),
    size: await sizeOf(db, t),
    rowCount: await rowCount(db, t.name, at),
  };
}

export const introspectionFeatures = { primaryKey, foreignKeys, sequences, views, describe };
