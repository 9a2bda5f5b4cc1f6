/**
 * Injection call table of the indexes, constraints and introspection modules (see `spec.ts`): every position of
 * theirs that takes a name or a keyword. Table positions are given with an explicit `schema` option, so that a
 * qualified hostile value (`schema.table`) is refused as well (it names another schema) rather than looked up.
 * Not listed: `createIndex`'s `where`, which is SQL text the caller writes (checked to be one expression, see
 * `src/features/predicate.ts` and its tests), not a name or a keyword.
 */
import type { InjectionSpec } from "./spec.js";

const T = "injection_t";
const R = "injection_r";
const IN = { schema: "public" } as const;

export const specs: InjectionSpec[] = [
  // createIndex(table, columns, { schema, name, method, include })
  { method: "createIndex", kind: "name", position: "table", args: (bad) => [bad, ["a"], IN] },
  { method: "createIndex", kind: "name", position: "columns[]", args: (bad) => [T, ["a", bad], IN] },
  { method: "createIndex", kind: "name", position: "columns (one name)", args: (bad) => [T, bad, IN] },
  { method: "createIndex", kind: "name", position: "options.schema", args: (bad) => [T, ["a"], { schema: bad }] },
  { method: "createIndex", kind: "name", position: "options.name", args: (bad) => [T, ["a"], { ...IN, name: bad }] },
  { method: "createIndex", kind: "keyword", position: "options.method", args: (bad) => [T, ["a"], { ...IN, method: bad }] },
  { method: "createIndex", kind: "name", position: "options.include[]", args: (bad) => [T, ["a"], { ...IN, include: ["b", bad] }] },
  // dropIndex(name, { schema })
  { method: "dropIndex", kind: "name", position: "name", args: (bad) => [bad, IN] },
  { method: "dropIndex", kind: "name", position: "options.schema", args: (bad) => ["injection_i", { schema: bad }] },
  // listIndexes(table, { schema })
  { method: "listIndexes", kind: "name", position: "table", args: (bad) => [bad, IN] },
  { method: "listIndexes", kind: "name", position: "options.schema", args: (bad) => [T, { schema: bad }] },

  // addPrimaryKey / addUniqueConstraint(table, columns, { schema, name })
  ...(["addPrimaryKey", "addUniqueConstraint"] as const).flatMap((method): InjectionSpec[] => [
    { method, kind: "name", position: "table", args: (bad) => [bad, ["a"], IN] },
    { method, kind: "name", position: "columns[]", args: (bad) => [T, ["a", bad], IN] },
    { method, kind: "name", position: "options.schema", args: (bad) => [T, ["a"], { schema: bad }] },
    { method, kind: "name", position: "options.name", args: (bad) => [T, ["a"], { ...IN, name: bad }] },
  ]),
  // addForeignKey(table, columns, refTable, refColumns, { schema, refSchema, name, onDelete, onUpdate })
  { method: "addForeignKey", kind: "name", position: "table", args: (bad) => [bad, ["a"], R, ["b"], { ...IN, refSchema: "public" }] },
  { method: "addForeignKey", kind: "name", position: "columns[]", args: (bad) => [T, [bad], R, ["b"], { ...IN, refSchema: "public" }] },
  { method: "addForeignKey", kind: "name", position: "refTable", args: (bad) => [T, ["a"], bad, ["b"], { ...IN, refSchema: "public" }] },
  { method: "addForeignKey", kind: "name", position: "refColumns[]", args: (bad) => [T, ["a"], R, [bad], { ...IN, refSchema: "public" }] },
  { method: "addForeignKey", kind: "name", position: "options.schema", args: (bad) => [T, ["a"], R, ["b"], { schema: bad, refSchema: "public" }] },
  { method: "addForeignKey", kind: "name", position: "options.refSchema", args: (bad) => [T, ["a"], R, ["b"], { ...IN, refSchema: bad }] },
  { method: "addForeignKey", kind: "name", position: "options.name", args: (bad) => [T, ["a"], R, ["b"], { ...IN, refSchema: "public", name: bad }] },
  { method: "addForeignKey", kind: "keyword", position: "options.onDelete", args: (bad) => [T, ["a"], R, ["b"], { ...IN, refSchema: "public", onDelete: bad }] },
  { method: "addForeignKey", kind: "keyword", position: "options.onUpdate", args: (bad) => [T, ["a"], R, ["b"], { ...IN, refSchema: "public", onUpdate: bad }] },
  // listConstraints / primaryKey / foreignKeys / describe(table, { schema })
  ...(["listConstraints", "primaryKey", "foreignKeys", "describe"] as const).flatMap((method): InjectionSpec[] => [
    { method, kind: "name", position: "table", args: (bad) => [bad, IN] },
    { method, kind: "name", position: "options.schema", args: (bad) => [T, { schema: bad }] },
  ]),
  // sequences / views({ schema })
  { method: "sequences", kind: "name", position: "options.schema", args: (bad) => [{ schema: bad }] },
  { method: "views", kind: "name", position: "options.schema", args: (bad) => [{ schema: bad }] },
  { method: "views", kind: "name", position: "options.schema (materialized)", args: (bad) => [{ schema: bad, materialized: true }] },
];
