/**
 * Injection call table for sizes, maintenance (`db.maint`) and the CRUD helpers: one entry per name or keyword
 * position of each method (see `spec.ts`). Every other argument is valid; the table names used need not exist
 * (the refusal comes before any statement).
 */
import type { InjectionSpec } from "./spec.js";

export const specs: InjectionSpec[] = [
  // Sizes
  { method: "tableSize", kind: "name", position: "table", args: (bad) => [bad] },
  { method: "tableSize", kind: "name", position: "options.schema", args: (bad) => ["t", { schema: bad }] },
  { method: "tableSizes", kind: "name", position: "options.schema", args: (bad) => [{ schema: bad }] },

  // Maintenance
  { method: "vacuum", kind: "name", position: "options.table", args: (bad) => [{ table: bad }] },
  { method: "vacuum", kind: "name", position: "options.schema", args: (bad) => [{ table: "t", schema: bad }] },
  { method: "analyze", kind: "name", position: "options.table", args: (bad) => [{ table: bad }] },
  { method: "analyze", kind: "name", position: "options.schema", args: (bad) => [{ table: "t", schema: bad }] },
  { method: "explain", kind: "keyword", position: "options.format", args: (bad) => ["SELECT 1", null, { format: bad }] },

  // CRUD helpers
  { method: "upsert", kind: "name", position: "table", args: (bad) => [bad, { id: 1, v: 2 }, ["id"]] },
  { method: "upsert", kind: "name", position: "options.schema", args: (bad) => ["t", { id: 1, v: 2 }, ["id"], { schema: bad }] },
  { method: "upsert", kind: "name", position: "row key", args: (bad) => ["t", { id: 1, [bad]: 2 }, ["id"]] },
  { method: "upsert", kind: "name", position: "conflictColumns", args: (bad) => ["t", { id: 1, [bad]: 2 }, ["id", bad]] },
  { method: "upsert", kind: "name", position: "options.updateColumns", args: (bad) => ["t", { id: 1, [bad]: 2 }, ["id"], { updateColumns: [bad] }] },
  { method: "updateWhere", kind: "name", position: "table", args: (bad) => [bad, { v: 1 }, { id: 1 }] },
  { method: "updateWhere", kind: "name", position: "options.schema", args: (bad) => ["t", { v: 1 }, { id: 1 }, { schema: bad }] },
  { method: "updateWhere", kind: "name", position: "values key", args: (bad) => ["t", { [bad]: 1 }, { id: 1 }] },
  { method: "updateWhere", kind: "name", position: "where key", args: (bad) => ["t", { v: 1 }, { id: 1, [bad]: 1 }] },
  { method: "deleteWhere", kind: "name", position: "table", args: (bad) => [bad, { id: 1 }] },
  { method: "deleteWhere", kind: "name", position: "options.schema", args: (bad) => ["t", { id: 1 }, { schema: bad }] },
  { method: "deleteWhere", kind: "name", position: "where key", args: (bad) => ["t", { [bad]: 1 }] },
  { method: "exists", kind: "name", position: "table", args: (bad) => [bad, { id: 1 }] },
  { method: "exists", kind: "name", position: "options.schema", args: (bad) => ["t", { id: 1 }, { schema: bad }] },
  { method: "exists", kind: "name", position: "where key", args: (bad) => ["t", { [bad]: null }] },
  { method: "count", kind: "name", position: "table", args: (bad) => [bad] },
  { method: "count", kind: "name", position: "options.schema", args: (bad) => ["t", null, { schema: bad }] },
  { method: "count", kind: "name", position: "where key", args: (bad) => ["t", { [bad]: [1, 2] }] },
  { method: "paginate", kind: "name", position: "table", args: (bad) => [bad, { limit: 1 }] },
  { method: "paginate", kind: "name", position: "options.schema", args: (bad) => ["t", { limit: 1, schema: bad }] },
  { method: "paginate", kind: "name", position: "options.orderBy", args: (bad) => ["t", { limit: 1, orderBy: ["id", bad] }] },
  { method: "paginate", kind: "name", position: "options.where key", args: (bad) => ["t", { limit: 1, where: { [bad]: 1 } }] },
];
