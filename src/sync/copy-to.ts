/**
 * The `copyTo` transport: the sync `copyTo` is a lazy iterator pulled long after the call that made it returned,
 * when a callback given to that call can no longer be called from the worker; so its `onProgress` stays on the
 * main thread and counts the chunks as they are pulled (the same counter as the async side's, `copy/progress`).
 * @module
 */
import { withSyncProgress, type OnProgress } from "../copy/progress.js";
import { registerTransport } from "./transports.js";

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
