/**
 * Rows of the bulk helpers (`insertMany`, `upsertMany`, an array given to `insertBatch`) on their way from the
 * synchronous facade to its worker: sent as one array per column instead of one object per row. Cloning 100k row
 * objects costs ~75–110 ms (every object's keys are written again); three columns of 100k values, plus rebuilding
 * the objects in the worker, ~20 ms. A key a row lacks is a hole in its column (holes survive cloning), so the
 * worker rebuilds exactly the rows it would have received: the same keys, in an order that gives the same union of
 * keys in the same first-seen order, the same values. Both threads load this module (the codec decodes).
 * @module
 */
import { registerCodec } from "./codecs.js";

/** Rows as columns: the union of their keys (first-seen order), one column per key, and the row count. */
interface RowColumns {
  keys: string[];
  columns: unknown[][];
  count: number;
}

const NAME = "RowColumns";

/** `rows` (plain objects, already checked and encoded) as the columnar value the worker decodes back into rows. */
export function rowsAsColumns(rows: readonly Record<string, unknown>[]): { __tscopgCodec: string; data: RowColumns } {
  const count = rows.length;
  const index = new Map<string, number>();
  const keys: string[] = [];
  const columns: unknown[][] = [];
  for (let i = 0; i < count; i++) {
    const row = rows[i]!;
    for (const key in row) {
      let c = index.get(key);
      if (c === undefined) {
        index.set(key, (c = keys.length));
        keys.push(key);
        columns.push(new Array<unknown>(count)); // holes until set: a row without the key
      }
      columns[c]![i] = row[key];
    }
  }
  return { __tscopgCodec: NAME, data: { keys, columns, count } };
}

/** The rows back from their columns (a hole: the key is absent from that row). */
function rowsFromColumns({ keys, columns, count }: RowColumns): Record<string, unknown>[] {
  const rows = new Array<Record<string, unknown>>(count);
  for (let i = 0; i < count; i++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < keys.length; c++) {
      const column = columns[c]!;
      if (i in column) row[keys[c]!] = column[i];
    }
    rows[i] = row;
  }
  return rows;
}

registerCodec<never, RowColumns>({
  name: NAME,
  test: (_v): _v is never => false, // never chosen by type: the rows are encoded by `rowsAsColumns` explicitly
  encode: (v) => v,
  decode: (data) => rowsFromColumns(data) as never,
});
