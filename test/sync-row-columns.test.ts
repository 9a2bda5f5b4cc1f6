/**
 * The bulk helpers' rows cross to the synchronous facade's worker as columns: after cloning, the worker rebuilds
 * exactly the rows it would have received (absent keys stay absent, null stays null, the union of keys keeps its
 * first-seen order).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeValue } from "../src/sync/codecs.js";
import { rowsAsColumns } from "../src/sync/row-columns.js";

test("rows → columns → structured clone → rows: the same rows, absent keys absent, key order of the union kept", () => {
  const rows = [{ b: 1, a: "x" }, { a: null, c: 3n }, {}, { c: new Date(0), b: Buffer.from([1, 2]) }];
  const back = decodeValue(structuredClone(rowsAsColumns(rows)), (v) => v) as Record<string, unknown>[];
  assert.deepStrictEqual(back, [{ b: 1, a: "x" }, { a: null, c: 3n }, {}, { b: new Uint8Array([1, 2]), c: new Date(0) }]);
  assert.equal("c" in back[0]!, false);
  assert.equal("a" in back[1]!, true);
  const union = (rs: object[]) => [...new Set(rs.flatMap((r) => Object.keys(r)))];
  assert.deepEqual(union(back), union(rows));
});
