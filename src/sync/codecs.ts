/**
 * Transport codecs: how values that structured cloning would damage cross the worker boundary. A class instance
 * loses its prototype (and private fields) when cloned, so each class that may cross has a codec that turns it
 * into cloneable data and back; an instance of a class without one is refused rather than silently turned into a
 * plain object. Both threads load this module, so both know the same codecs.
 * @module
 */
import { Config, type ConfigInit } from "../config.js";
import { ConfigurationError, ParameterError } from "../errors.js";

/** How values of one class cross the boundary. */
export interface TransportCodec<T = unknown, W = unknown> {
  /** A unique name (sent with each encoded value). */
  name: string;
  /** Whether `v` is one of this codec's values. */
  test(v: unknown): v is T;
  /** Cloneable data standing for `v` (its password included: it only crosses a thread boundary in memory). */
  encode(v: T): W;
  decode(w: W): T;
}

/** An encoded value in transit. */
interface Encoded {
  __tscopgCodec: string;
  data: unknown;
}

const codecs = new Map<string, TransportCodec>();

/**
 * Registers a codec for a class whose instances may cross the worker boundary. Call it from a module that both
 * the main thread and the worker load (the feature registry's modules are).
 */
export function registerCodec<T, W>(codec: TransportCodec<T, W>): void {
  codecs.set(codec.name, codec as TransportCodec);
}

/**
 * Refuses a password function on its way to the worker (in a Config, or in a plain ConfigInit `value`): the worker
 * opens connections whenever it needs one — a pool refilling in the background, a reconnect — while this thread
 * may be running other code rather than waiting in a call, so it could not call the function back. A password
 * function needs `AsyncDatabase`.
 * @throws {@link ConfigurationError} when `value` has a function password.
 */
export function refuseFunctionPassword(value: unknown): void {
  if (typeof value !== "object" || value === null) return;
  if (typeof (value as { password?: unknown }).password !== "function") return;
  throw new ConfigurationError(
    "the synchronous facade cannot use a password function (its worker thread opens connections while this thread " +
      "is not waiting in a call, so nothing could call the function): pass the password as a string, or use AsyncDatabase",
  );
}

registerCodec<Config, ConfigInit>({
  name: "Config",
  test: (v): v is Config => v instanceof Config,
  encode: (c) => {
    refuseFunctionPassword(c);
    return c.toInit();
  },
  decode: (init) => new Config(init),
});

/** Prototypes that structured cloning keeps (or that v8's serializer restores): no codec needed. */
function clonesFaithfully(v: object): boolean {
  return (
    Array.isArray(v) ||
    ArrayBuffer.isView(v) ||
    v instanceof ArrayBuffer ||
    v instanceof Date ||
    v instanceof RegExp ||
    v instanceof Map ||
    v instanceof Set ||
    v instanceof Error
  );
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Maps `v` for the crossing: `leaf` sees every value first (and may replace it); plain objects and arrays are
 * walked (copied only where something changed); class instances go through their codec.
 * @throws {@link ParameterError} for an instance of a class that has no codec (`what` names the value).
 */
export function encodeValue(v: unknown, leaf: (v: unknown) => unknown, what: string, depth = 0): unknown {
  const replaced = leaf(v);
  if (replaced !== v || typeof v !== "object" || v === null) return replaced;
  const encoded = encodeShallow(v);
  if (encoded !== v) return encoded;
  if (depth > 64) return v; // deep data: leave it to structured cloning (which reports cycles itself)
  if (Array.isArray(v)) return mapChanged(v, (x) => encodeValue(x, leaf, what, depth + 1));
  if (clonesFaithfully(v)) return v;
  if (!isPlain(v)) {
    const name = (v as { constructor?: { name?: string } }).constructor?.name ?? "an object";
    throw new ParameterError(
      `${what} is an instance of ${name}, which cannot cross to the synchronous facade's worker (a class instance ` +
        "would arrive as a plain object, without its methods): pass plain data, or use AsyncDatabase",
    );
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    const enc = encodeValue(x, leaf, what, depth + 1);
    if (enc !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = enc;
  }
  return out ?? v;
}

/**
 * A value whose own class has a codec, encoded; anything else unchanged (not walked: results may hold a million
 * rows, which structured cloning copies faithfully).
 */
export function encodeShallow(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  for (const codec of codecs.values()) {
    if (codec.test(v)) return { __tscopgCodec: codec.name, data: codec.encode(v) } satisfies Encoded;
  }
  return v;
}

/** Reverses {@link encodeValue}: codec-encoded values are rebuilt, and `leaf` replaces marked values. */
export function decodeValue(v: unknown, leaf: (v: unknown) => unknown, depth = 0): unknown {
  if (typeof v !== "object" || v === null) return v;
  const replaced = leaf(v);
  if (replaced !== v) return replaced;
  if ("__tscopgCodec" in v) {
    const e = v as Encoded;
    const codec = codecs.get(e.__tscopgCodec);
    if (codec === undefined) throw new ParameterError(`no transport codec named ${JSON.stringify(e.__tscopgCodec)}`);
    return codec.decode(e.data);
  }
  if (depth > 64) return v;
  if (Array.isArray(v)) return mapChanged(v, (x) => decodeValue(x, leaf, depth + 1));
  if (!isPlain(v)) return v;
  let out: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    const dec = decodeValue(x, leaf, depth + 1);
    if (dec !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = dec;
  }
  return out ?? v;
}

/** Maps `f` over an array, copying it only when an element changes. */
export function mapChanged(arr: readonly unknown[], f: (v: unknown) => unknown): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    const enc = f(v);
    if (enc !== v) (out ??= arr.slice())[i] = enc;
  }
  return out ?? (arr as unknown[]);
}
