/**
 * The COPY methods on the synchronous facade. `copyInsert`'s rows are encoded to COPY bytes here, on the main
 * thread (which is blocked anyway), by the one encoder (`copy/feed`): the worker pulls 64 KB chunks instead of
 * a million row objects cloned one by one. The sync `copyTo` is a lazy iterator pulled long after the call that
 * made it returned, when a callback given to that call can no longer be called from the worker; so its
 * `onProgress` stays here and counts the chunks as they are pulled (the async side's counter, `copy/progress`).
 * @module
 */
import { encodeRows, firstRowOf, type EncodedRows } from "../copy/feed.js";
import { withSyncProgress, type OnProgress } from "../copy/progress.js";
import { registerArgPreparer } from "./args.js";
import { registerTransport } from "./transports.js";

registerArgPreparer("copyInsert", (args) => {
  const [table, rows, options, ...rest] = args;
  if (typeof rows !== "object" || rows === null || !(Symbol.iterator in rows)) return undefined;
  const columns = typeof options === "object" && options !== null ? (options as { columns?: unknown }).columns : undefined;
  if (columns !== undefined && !(Array.isArray(columns) && columns.every((c) => typeof c === "string"))) return undefined;
  const it = (rows as Iterable<unknown>)[Symbol.iterator]();
  const firstResult = it.next(); // (a source failing here fails the call with its own error, as on the async side)
  const first = firstRowOf(firstResult);
  const cols = (columns as string[] | undefined) ?? ("keys" in first ? first.keys : []);
  const encoded: EncodedRows = { __tscopgCopyRows: 1, first, chunks: encodeRows("copyInsert", cols, firstResult, it) };
  return [table, encoded, options, ...rest];
});

registerTransport("copyTo", {
  worker: (_call, obj, method, args) => {
    const [copySql, options, ...rest] = args;
    let opts = options;
    if (opts !== null && typeof opts === "object" && "onProgress" in opts) {
      const { onProgress: _, ...others } = opts as Record<string, unknown>;
      opts = others;
    }
    return Promise.resolve((obj[method] as (...a: unknown[]) => unknown).call(obj, copySql, opts, ...rest));
  },
  main: (_method, args) => {
    const onProgress = (args[1] as { onProgress?: unknown } | undefined)?.onProgress;
    return {
      onPart: () => undefined,
      finish: (value) =>
        typeof onProgress === "function" ? withSyncProgress(value as IterableIterator<Uint8Array> & Disposable, onProgress as OnProgress) : value,
    };
  },
});
