/**
 * Messages between the synchronous facade (main thread) and its worker, and how values are marked on the way.
 * @module
 */
import { Config, type ConfigInit } from "../config.js";
import type { SerializedError } from "../errors.js";
import type { KindName } from "./kinds.js";

/** A request from the main thread. */
export type Request =
  | { op: "new"; kind: KindName; args: unknown[] }
  | { op: "static"; kind: KindName; method: string; args: unknown[] }
  | { op: "call"; handle: number; method: string; args: unknown[]; scope: number }
  | { op: "get"; handle: number; prop: string }
  | { op: "iterate"; handle: number }
  | { op: "dispose"; handle: number }
  | { op: "release"; handle: number };

/** The worker's answer (v8-serialized, so Buffers, bigints and Dates arrive intact). */
export type Response = { ok: true; value: unknown } | { ok: false; error: SerializedError };

/** A value standing for an object that lives in the worker. */
export interface HandleRef {
  __tscopgHandle: number;
  /** The async class of the object (set on answers; arguments only need the number). */
  kind?: KindName;
}

/** A Config in transit (its password included: it only crosses a thread boundary in memory). */
export interface ConfigRef {
  __tscopgConfig: ConfigInit;
}

export function isHandleRef(v: unknown): v is HandleRef {
  return typeof v === "object" && v !== null && "__tscopgHandle" in v;
}

/**
 * Marks values that structured cloning would damage (a Config loses its private password field), also inside a
 * plain options object; leaves everything else alone.
 */
export function encodeConfig(v: unknown): unknown {
  if (v instanceof Config) return { __tscopgConfig: v.toInit() } satisfies ConfigRef;
  if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    let out: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(v)) {
      if (x instanceof Config) (out ??= { ...(v as Record<string, unknown>) })[k] = encodeConfig(x);
    }
    return out ?? v;
  }
  return v;
}

/** Rebuilds values marked by {@link encodeConfig}, including inside a plain options object. */
export function decodeConfig(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if ("__tscopgConfig" in v) return new Config((v as ConfigRef).__tscopgConfig);
  if (Object.getPrototypeOf(v) === Object.prototype) {
    let out: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === "object" && x !== null && "__tscopgConfig" in x) (out ??= { ...(v as Record<string, unknown>) })[k] = decodeConfig(x);
    }
    return out ?? v;
  }
  return v;
}
