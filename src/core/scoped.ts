/**
 * Scoped resources: the callback forms (`db.transaction(async tx => …)`) and the ambient transaction that
 * makes `db.execute()` inside such a callback run in that transaction.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AsyncTransaction } from "./async-transaction.js";
import { checkOptions, type OptionKind } from "./options.js";

/** A resource with a scoped life: finished with success (commit) or failure (rollback), then released. */
export interface Finishable {
  /**
   * Ends the scope: `true` commits what is pending, `false` rolls it back; both release the resource.
   * Idempotent. Used by callback forms and by the synchronous facade.
   * @internal
   */
  _finish(ok: boolean): Promise<void>;
}

/** The transaction a `transaction()` callback runs in, per async context. */
export const ambientTransaction = new AsyncLocalStorage<AsyncTransaction>();

/**
 * Runs `fn(resource)`, then finishes the resource: success commits, a throw rolls back and rethrows (an error
 * while rolling back is attached to the original error as `suppressed`).
 */
export async function runScoped<R extends Finishable, T>(
  resource: R,
  fn: (r: R) => T | PromiseLike<T>,
  ambient?: AsyncTransaction,
): Promise<T> {
  let result: T;
  try {
    result = ambient ? await ambientTransaction.run(ambient, () => fn(resource)) : await fn(resource);
  } catch (err) {
    try {
      await resource._finish(false);
    } catch (cleanupErr) {
      if (err && typeof err === "object") Object.defineProperty(err, "suppressed", { value: cleanupErr, configurable: true });
    }
    throw err;
  }
  await resource._finish(true);
  return result;
}

/** Splits `(options?, fn?)` / `(fn)` overload arguments; the options are checked against `shape`. */
export function splitScopedArgs<O extends object, F>(
  method: string,
  shape: Record<string, OptionKind>,
  a: O | F | undefined,
  b: F | undefined,
): [O | undefined, F | undefined] {
  if (typeof a === "function") return [undefined, a as F];
  checkOptions(method, a as O | undefined, shape);
  return [a as O | undefined, b];
}
