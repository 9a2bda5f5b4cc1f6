/**
 * Injection call table for the bulk helpers (insertMany, upsertMany, insertBatch): one entry per name or keyword
 * position. Every other argument is valid; the table need not exist (the refusal comes before any statement). A
 * row of `insertBatch` is checked when its batch is read: a hostile key in a later batch is refused after the
 * earlier batches went to the server, in the call's transaction, which is rolled back (see test/bulk.test.ts).
 */
import type { InjectionSpec } from "./spec.js";

const METHODS: [method: string, call: (table: string, rows: object[], options?: Record<string, unknown>) => unknown[]][] = [
  ["insertMany", (table, rows, options) => [table, rows, options]],
  ["upsertMany", (table, rows, options) => [table, rows, "id", options]],
  ["insertBatch", (table, rows, options) => [table, rows, options]],
];

export const specs: InjectionSpec[] = [
  ...METHODS.flatMap(([method, call]): InjectionSpec[] => [
    { method, kind: "name", position: "table", args: (bad) => call(bad, [{ id: 1, v: 2 }]) },
    { method, kind: "name", position: "options.schema", args: (bad) => call("t", [{ id: 1, v: 2 }], { schema: bad }) },
    { method, kind: "name", position: "row key (first row)", args: (bad) => call("t", [{ id: 1, [bad]: 2 }]) },
    { method, kind: "name", position: "row key (a later row)", args: (bad) => call("t", [{ id: 1, v: 2 }, { id: 2, [bad]: 2 }]) },
  ]),
  { method: "insertMany", kind: "name", position: "options.columns", args: (bad) => ["t", [{ id: 1 }], { columns: ["id", bad] }] },
  { method: "insertMany", kind: "name", position: "options.returning", args: (bad) => ["t", [{ id: 1 }], { returning: ["id", bad] }] },
  { method: "insertMany", kind: "name", position: "options.onConflict.columns", args: (bad) => ["t", [{ id: 1 }], { onConflict: { columns: [bad] } }] },
  { method: "insertMany", kind: "name", position: "options.onConflict.updateColumns", args: (bad) => ["t", [{ id: 1, [bad]: 1 }], { onConflict: { columns: ["id"], action: "update", updateColumns: [bad] } }] },
  { method: "insertMany", kind: "keyword", position: "options.onConflict.action", args: (bad) => ["t", [{ id: 1 }], { onConflict: { columns: ["id"], action: bad } }] },
  { method: "insertMany", kind: "keyword", position: "options.missing", args: (bad) => ["t", [{ id: 1 }], { missing: bad }] },
  { method: "insertBatch", kind: "name", position: "options.onConflict.columns", args: (bad) => ["t", [{ id: 1 }], { onConflict: { columns: bad } }] },
  { method: "upsertMany", kind: "name", position: "conflictColumns", args: (bad) => ["t", [{ id: 1, [bad]: 1 }], ["id", bad]] },
  { method: "upsertMany", kind: "name", position: "options.updateColumns", args: (bad) => ["t", [{ id: 1, [bad]: 1 }], "id", { updateColumns: [bad] }] },
];
