/**
 * Injection call table for the databases, extensions, schemas and tables features: one entry per name, keyword or
 * value position. The other arguments are valid (and name nothing that must exist: every hostile value is refused
 * before anything is sent).
 *
 * Table positions accept `"schema.table"` by design; their entries pass an explicit `schema: "public"` option, so
 * a hostile value with one dot (`"schema.table"`) names another schema and is refused too (a `ParameterError`,
 * "names schema …, but the schema option says public"), still before anything is sent.
 */
import type { InjectionSpec } from "./spec.js";

/** The table methods: `(table, { schema, … })`. */
const TABLE_METHODS: [string, Record<string, unknown>][] = [
  ["tableExists", {}],
  ["tableInfo", {}],
  ["listColumns", {}],
  ["columnsWithTypes", {}],
  ["rowCount", {}],
  ["rowCount", { estimate: true }],
  ["dropTable", {}],
  ["dropTable", { ifExists: false, cascade: true }],
  ["truncateTable", { cascade: true, restartIdentity: true }],
];

export const specs: InjectionSpec[] = [
  // Databases
  { method: "createDatabase", kind: "name", position: "name", args: (bad) => [bad] },
  { method: "createDatabase", kind: "name", position: "options.owner", args: (bad) => ["tscopg_inj_db", { owner: bad }] },
  { method: "createDatabase", kind: "name", position: "options.template", args: (bad) => ["tscopg_inj_db", { template: bad }] },
  { method: "createDatabase", kind: "value", position: "options.encoding", args: (bad) => ["tscopg_inj_db", { encoding: bad, template: "template0" }] },
  { method: "dropDatabase", kind: "name", position: "name", args: (bad) => [bad] },
  { method: "dropDatabase", kind: "name", position: "name (force)", args: (bad) => [bad, { force: true, ifExists: false }] },
  { method: "databaseExists", kind: "name", position: "name", args: (bad) => [bad] },

  // Extensions
  { method: "createExtension", kind: "extension", position: "name", args: (bad) => [bad] },
  { method: "createExtension", kind: "extension", position: "name (cascade)", args: (bad) => [bad, { ifNotExists: false, cascade: true }] },
  { method: "createExtension", kind: "name", position: "options.schema", args: (bad) => ["hstore", { schema: bad }] },
  { method: "dropExtension", kind: "extension", position: "name", args: (bad) => [bad, { cascade: true }] },
  { method: "hasExtension", kind: "extension", position: "name", args: (bad) => [bad] },

  // Schemas
  { method: "createSchema", kind: "name", position: "name", args: (bad) => [bad] },
  { method: "createSchema", kind: "name", position: "options.owner", args: (bad) => ["tscopg_inj_schema", { owner: bad }] },
  { method: "dropSchema", kind: "name", position: "name", args: (bad) => [bad, { cascade: true }] },
  { method: "schemaExists", kind: "name", position: "name", args: (bad) => [bad] },

  // Tables
  { method: "listTables", kind: "name", position: "options.schema", args: (bad) => [{ schema: bad }] },
  ...TABLE_METHODS.flatMap(([method, extra]): InjectionSpec[] => [
    { method, kind: "name", position: "table", args: (bad) => [bad, { ...extra, schema: "public" }] },
    { method, kind: "name", position: "options.schema", args: (bad) => ["tscopg_inj_table", { ...extra, schema: bad }] },
  ]),
];
