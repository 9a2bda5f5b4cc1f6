/**
 * Arguments on their way from the synchronous facade to its worker. Functions become callbacks the worker calls
 * back through the bridge, iterables that are not arrays (generators) become iterables it pulls in chunks,
 * generated sync objects become handles, class instances go through their transport codec, and statement
 * parameters are encoded with the async API's own encoder ({@link paramsForWorker}): the worker receives what the
 * async API would, so both sides give the same result or the same error.
 * @module
 */
import { encodeValue } from "./codecs.js";
import type { CallContext } from "./bridge.js";
import { paramsForWorker } from "./params.js";

/** Methods whose second argument holds statement parameters (encoded like the async API encodes them). */
const STATEMENT_METHODS = new Set(["execute", "query", "fetchOne", "fetchVal", "fetchAll", "executeMany"]);

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
      ctx.iterators.push((v as Iterable<unknown>)[Symbol.iterator]());
      return { __tscopgIterable: ctx.iterators.length - 1 };
    }
    return v;
  };
  return args.map((a, i) =>
    i === 1 && STATEMENT_METHODS.has(method) && typeof args[0] === "string" ? paramsForWorker(method, a) : encodeValue(a, leaf, `argument ${i + 1} of ${method}()`),
  );
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
