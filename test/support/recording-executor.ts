/**
 * Test support: an executor that forwards to a real database handle and records every statement a feature sends
 * through it (the statement methods and the plain/own-session seams), so a test can assert that a refused call
 * sent nothing and see what an accepted one sent.
 */
import type { AsyncDatabase } from "../../src/index.js";
import type { Executor } from "../../src/features/registry.js";

const STATEMENT_METHODS = new Set(["execute", "query", "executeMany", "fetchOne", "fetchVal", "fetchAll", "cursor", "_withPlainSession", "_withOwnSession"]);

export interface Recording {
  executor: Executor;
  /** What was sent: the SQL text of each statement method call (or the seam's name). */
  sent: string[];
}

export function recording(db: AsyncDatabase): Recording {
  const sent: string[] = [];
  const executor = new Proxy(db, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== "string" || !STATEMENT_METHODS.has(key) || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        sent.push(typeof args[0] === "string" ? args[0] : key);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as unknown as Executor;
  return { executor, sent };
}
