/**
 * The format of the injection test's call table: each feature module's test author lists, for every method that
 * takes a name or a keyword, one argument builder per such position. `test/injection.test.ts` feeds the hostile
 * corpus to each, async and sync, and asserts the refusal, that no statement reached the server, and that the
 * catalog is unchanged.
 */
export interface InjectionSpec {
  /** The flat method name (`createIndex`). */
  method: string;
  /** What the position takes: a name (checked by the identifier module) or a keyword/value from a fixed list or format. */
  kind: "name" | "extension" | "keyword" | "value";
  /** Which position (for messages): `"table"`, `"options.schema"`, `"options.method"`, … */
  position: string;
  /** The call's arguments with `bad` in that position (every other argument valid). */
  args: (bad: string) => unknown[];
}
