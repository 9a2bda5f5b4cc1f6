/**
 * The `rows` transport: the synchronous facade's query methods (`execute`, `query`, `fetchAll`, `fetchOne`,
 * `fetchVal` of the database, connections and transactions) move their rows as packed text, decoded on the
 * main thread (which is blocked anyway), instead of row objects serialized one by one. Both threads load this
 * module: the worker runs `rows-pack.ts`, the main thread `rows-unpack.ts`.
 * @module
 */
import { Queryable } from "../core/queryable.js";
import { packRows } from "./rows-pack.js";
import { RowsReceiver } from "./rows-unpack.js";
import { declareTransport } from "./surface.js";
import { registerTransport } from "./transports.js";

registerTransport("rows", {
  worker: packRows,
  raw: true, // rows and plain facts: nothing to decode
  main: (method, args) => new RowsReceiver(method, args[0]),
});

/** The statement methods whose answer is rows (Queryable's own: a class overriding one keeps the value transport). */
export const ROWS_METHODS = ["execute", "query", "fetchAll", "fetchOne", "fetchVal"] as const;

for (const method of ROWS_METHODS) declareTransport(method, "rows", Queryable);
