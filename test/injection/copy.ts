/**
 * Injection call table of the COPY features: copyInsert's table, schema, column list and row keys (names), and
 * the statement of copyFrom/copyTo (the caller's own SQL, like execute's: hostile text there is refused for not
 * being the right COPY, before anything is sent).
 */
import type { InjectionSpec } from "./spec.js";

const T = "injection_copy_t";

export const specs: InjectionSpec[] = [
  { method: "copyInsert", kind: "name", position: "table", args: (bad) => [bad, [{ id: 1 }], { schema: "public" }] },
  { method: "copyInsert", kind: "name", position: "options.schema", args: (bad) => [T, [{ id: 1 }], { schema: bad }] },
  { method: "copyInsert", kind: "name", position: "options.columns[]", args: (bad) => [T, [{ id: 1 }], { columns: ["id", bad] }] },
  { method: "copyInsert", kind: "name", position: "first row's keys", args: (bad) => [T, [{ id: 1, [bad]: 2 }]] },
  { method: "copyFrom", kind: "value", position: "statement", args: (bad) => [bad, "1\n"] },
  { method: "copyTo", kind: "value", position: "statement", args: (bad) => [bad] },
];
