/**
 * The class table: the asynchronous classes whose instances cross the worker boundary as handles, each with the
 * name of its generated synchronous twin. It is the one list the worker (which objects stay there), the generator
 * (which classes have twins) and the types (`types.ts`) are derived from. A module that defines another such class
 * (a pool) registers it with {@link registerKind}; the worker loads that module when it first meets the kind.
 * @module
 */
import { AsyncConnection } from "../core/async-connection.js";
import { AsyncCursor } from "../core/async-cursor.js";
import { AsyncDatabase } from "../core/async-database.js";
import { AsyncTransaction } from "../core/async-transaction.js";
import { AsyncPooledDatabase } from "../pool/async-pooled-database.js";
// Features are installed wherever the class table is loaded: on the main thread and in the worker alike.
import "../features/install.js";

/** A class whose instances live in the worker and cross as handles. */
export interface KindEntry {
  /** The async class's name (the kind). */
  readonly kind: string;
  readonly cls: abstract new (...args: never[]) => object;
  /** The name of its synchronous twin. */
  readonly sync: string;
  /** The URL of the module that registers it (for kinds outside the core: the worker imports it). */
  readonly module?: string | undefined;
}

/** The core kinds. */
export const coreKinds = [
  { kind: "AsyncDatabase", cls: AsyncDatabase, sync: "Database" },
  { kind: "AsyncPooledDatabase", cls: AsyncPooledDatabase, sync: "PooledDatabase" },
  { kind: "AsyncConnection", cls: AsyncConnection, sync: "Connection" },
  { kind: "AsyncTransaction", cls: AsyncTransaction, sync: "Transaction" },
  { kind: "AsyncCursor", cls: AsyncCursor, sync: "Cursor" },
] as const satisfies readonly KindEntry[];

export type KindName = string;

const byKind = new Map<string, KindEntry>();
const byClass = new Map<unknown, KindEntry>();

/** Adds a class to the table (idempotent for the same class). */
export function registerKind(entry: KindEntry): void {
  const known = byKind.get(entry.kind);
  if (known !== undefined && known.cls !== entry.cls) throw new TypeError(`kind ${entry.kind} is already registered`);
  byKind.set(entry.kind, entry);
  byClass.set(entry.cls, entry);
}

for (const entry of coreKinds) registerKind(entry);

/** The entry of kind `name`, if registered in this thread. */
export function kindEntry(name: string): KindEntry | undefined {
  return byKind.get(name);
}

/**
 * The kind of a value that must travel as a handle: its exact class's, else (an unregistered subclass) the
 * nearest registered ancestor's; `"AsyncIterator"` for async iterators.
 */
export function kindOf(value: unknown): KindName | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  for (let p = Object.getPrototypeOf(value) as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const entry = byClass.get((p as { constructor?: unknown }).constructor);
    if (entry !== undefined) return entry.kind;
  }
  if (typeof (value as AsyncIterator<unknown>).next === "function" && Symbol.asyncIterator in value) return "AsyncIterator";
  return undefined;
}
