/**
 * Arguments on their way from the synchronous facade to its worker. Functions become callbacks the worker calls
 * back through the bridge, iterables that are not arrays (generators) become iterables it pulls in chunks,
 * generated sync objects become handles, class instances go through their transport codec, and statement
 * parameters are encoded with the async API's own encoder ({@link paramsForWorker}): the worker receives what the
 * async API would, so both sides give the same result or the same error.
 * @module
 */
import { encodeValue, refuseFunctionPassword } from "./codecs.js";
import "./signal-codec.js"; // AbortSignal options (cancellation)
import type { CallContext } from "./bridge.js";
import { encodeParamSet, paramsForWorker } from "./params.js";
import { ROWS_METHODS } from "./rows.js";
import { rowForWorker } from "../features/bulk-rows.js";

/** An iterator whose items are mapped by `f` as they are pulled. */
function mapIterator(it: Iterator<unknown>, f: (v: unknown) => unknown): Iterator<unknown> {
  return {
    next() {
      const r = it.next();
      return r.done ? r : { done: false, value: f(r.value) };
    },
  };
}

/** Methods whose second argument holds statement parameters (encoded like the async API encodes them). */
const STATEMENT_METHODS = new Set<string>([...ROWS_METHODS, "executeMany"]);

/** Methods whose second argument holds rows (plain objects of column → value), encoded as the async API encodes them. */
const ROW_METHODS = new Set<string>(["insertMany", "upsertMany", "insertBatch"]);

/**
 * Per-method argument preparers, run on the main thread before the arguments are encoded: a method may move its
 * bulk arguments better than one cloned object at a time (`copyInsert` sends its rows as COPY bytes).
 */
const preparers = new Map<string, (args: unknown[]) => unknown[] | undefined>();

/** Registers the preparer of `method`'s arguments (answering `undefined` leaves them as they are). */
export function registerArgPreparer(method: string, prepare: (args: unknown[]) => unknown[] | undefined): void {
  preparers.set(method, prepare);
}

// Connection settings given as a plain object (`new Database(init)`, `Database.create(name, init)`) (a Config goes through its codec, which refuses it too): a password
// function cannot serve the worker (see refuseFunctionPassword).
for (const [method, at] of [["constructor", 0], ["create", 1]] as const) {
  registerArgPreparer(method, (args) => {
    refuseFunctionPassword(args[at]);
    return undefined;
  });
}

/** Objects that structured cloning copies faithfully although they are iterable. */
function isCloneableIterable(v: object): boolean {
  return Array.isArray(v) || ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set;
}

/**
 * Encodes one call's arguments. `handleOf` says which values are sync objects (and their handle number).
 * A statement method's argument after the SQL text holds its parameters.
 */
export function encodeArgs(
  method: string,
  args: unknown[],
  ctx: CallContext,
  handleOf: (v: unknown) => number | undefined,
): unknown[] {
  const leaf = (v: unknown): unknown => {
    if (typeof v === "function") {
      ctx.callbacks.push(v as (...a: unknown[]) => unknown);
      return { __tscopgCallback: ctx.callbacks.length - 1 };
    }
    if (typeof v !== "object" || v === null) return v;
    const handle = handleOf(v);
    if (handle !== undefined) return { __tscopgHandle: handle };
    if (Symbol.iterator in v && !isCloneableIterable(v)) {
      const items = (v as Iterable<unknown>)[Symbol.iterator]();
      return pulled(ctx, mapIterator(items, (x) => encodeReply(x, ctx, handleOf, `an item given to ${method}()`)));
    }
    return v;
  };
  const prepared = preparers.get(method)?.(args) ?? args;
  return prepared.map((a, i) => {
    if (i === 1 && ROW_METHODS.has(method) && typeof a === "object" && a !== null && Symbol.iterator in a && !ArrayBuffer.isView(a)) {
      // Rows: an array's are encoded now; a generator's as they are pulled (in chunks, like executeMany's sets).
      let index = 0;
      if (Array.isArray(a)) return a.map((row: unknown) => rowForWorker(method, row, index++));
      return pulled(ctx, mapIterator((a as Iterable<unknown>)[Symbol.iterator](), (row) => rowForWorker(method, row, index++)));
    }
    if (i !== 1 || !STATEMENT_METHODS.has(method) || typeof prepared[0] !== "string") return encodeValue(a, leaf, `argument ${i + 1} of ${method}()`);
    // A generator of parameter sets is pulled in chunks, each set encoded as it is read (10M sets need not fit).
    if (method === "executeMany" && typeof a === "object" && a !== null && Symbol.iterator in a && !Array.isArray(a)) {
      return pulled(ctx, mapIterator((a as Iterable<unknown>)[Symbol.iterator](), encodeParamSet));
    }
    return paramsForWorker(method, a);
  });
}

function pulled(ctx: CallContext, it: Iterator<unknown>): { __tscopgIterable: number } {
  ctx.iterators.push(it);
  return { __tscopgIterable: ctx.iterators.length - 1 };
}

/** Encodes a value the main thread hands to the worker during a call (a pulled item, a callback's result). */
export function encodeReply(v: unknown, ctx: CallContext, handleOf: (v: unknown) => number | undefined, what: string): unknown {
  return encodeValue(
    v,
    (x) => {
      if (typeof x !== "object" || x === null) return x;
      const handle = handleOf(x);
      return handle === undefined ? x : { __tscopgHandle: handle };
    },
    what,
  );
}
