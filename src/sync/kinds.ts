/**
 * The asynchronous classes whose instances cross the worker boundary as handles. The synchronous facade
 * generates one blocking class per entry; add a class here and its sync twin exists.
 * @module
 */
import { AsyncConnection } from "../core/async-connection.js";
import { AsyncCursor } from "../core/async-cursor.js";
import { AsyncDatabase } from "../core/async-database.js";
import { AsyncTransaction } from "../core/async-transaction.js";

export const asyncKinds = {
  AsyncDatabase,
  AsyncConnection,
  AsyncTransaction,
  AsyncCursor,
} as const;

export type KindName = keyof typeof asyncKinds | "AsyncIterator";

/** The kind of a value, when it must travel as a handle. */
export function kindOf(value: unknown): KindName | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  for (const [name, cls] of Object.entries(asyncKinds)) if (value instanceof cls) return name as KindName;
  if (typeof (value as AsyncIterator<unknown>).next === "function" && Symbol.asyncIterator in value) return "AsyncIterator";
  return undefined;
}
