/**
 * Messages between the synchronous facade (main thread) and its worker.
 *
 * Every request carries an id, and everything the worker sends about it carries the same id: the final answer
 * (`done`), requests to run a callback or pull items from an iterable on the main thread (`callback`, `pull`),
 * and transport parts (`part`, e.g. chunks of result rows). The main thread answers `callback` and `pull` with a
 * `reply`. A message whose id is no longer awaited (a late answer) is dropped, never taken for another call's.
 * @module
 */
import type { SerializedError } from "../errors.js";
import type { HookEvent } from "./hooks.js";
import type { KindName } from "./kinds.js";

/** The body of a request from the main thread (the bridge adds the id). */
export type RequestBody =
  /** `module`: the URL of the module registering the kind, for the worker to load if it does not know it yet. */
  | { op: "new"; kind: KindName; module?: string | undefined; args: unknown[] }
  | { op: "static"; kind: KindName; module?: string | undefined; method: string; args: unknown[] }
  | { op: "call"; handle: number; method: string; args: unknown[]; scope: number; transport?: string | undefined }
  | { op: "get"; handle: number; prop: string }
  | { op: "iterate"; handle: number }
  /** Up to `max` items of an iterator living in the worker (fewer when it ends). */
  | { op: "next"; handle: number; max: number }
  /** Closes an iterator living in the worker; `unread`: how many items of the last batch the loop did not reach. */
  | { op: "end"; handle: number; unread: number }
  | { op: "dispose"; handle: number }
  | { op: "release"; handle: number };

/** A request from the main thread. `id` 0: no answer is expected (release). */
export type Request = RequestBody & { id: number };

/** The main thread's answer to a worker's `callback` or `pull`. */
export type Reply =
  | { op: "reply"; id: number; call: number; ok: true; value: unknown }
  | { op: "reply"; id: number; call: number; ok: false; error: SerializedError; ref: number };

/** Everything the main thread posts to the worker. */
export type ToWorker = Request | Reply;

/**
 * What the worker sends about request `id` (v8-serialized, so Buffers, bigints and Dates arrive intact; a part
 * sent with a transfer list is posted as it is).
 */
export type WorkerMessage =
  /** `events`: what handle hooks recorded since the last answer (see `hooks.ts`), when anything. */
  | { id: number; kind: "done"; ok: true; value: unknown; events?: HookEvent[] | undefined }
  /** `ref`: the error is one the main thread raised in a callback (it rethrows its own object). */
  | { id: number; kind: "done"; ok: false; error: SerializedError; ref?: number | undefined; events?: HookEvent[] | undefined }
  /** Run main-thread callback `fn` with `args`; answer with a reply for `call`. */
  | { id: number; kind: "callback"; call: number; fn: number; args: unknown[] }
  /** Pull up to `max` items from main-thread iterable `iter`; answer `{ values, done }` for `call`. */
  | { id: number; kind: "pull"; call: number; iter: number; max: number }
  /** A transport part of the answer (e.g. a chunk of rows as bytes), consumed by the call's `onPart`. */
  | { id: number; kind: "part"; part: unknown };

/** A value standing for an object that lives in the worker. */
export interface HandleRef {
  __tscopgHandle: number;
  /** The async class of the object (set on answers; arguments only need the number). */
  kind?: KindName;
}

/** A main-thread function passed as an argument: the worker calls it through the bridge. */
export interface CallbackRef {
  __tscopgCallback: number;
}

/** A main-thread iterable passed as an argument: the worker pulls its items in chunks. */
export interface IterableRef {
  __tscopgIterable: number;
}

export function isHandleRef(v: unknown): v is HandleRef {
  return typeof v === "object" && v !== null && "__tscopgHandle" in v;
}

export function isCallbackRef(v: unknown): v is CallbackRef {
  return typeof v === "object" && v !== null && "__tscopgCallback" in v;
}

export function isIterableRef(v: unknown): v is IterableRef {
  return typeof v === "object" && v !== null && "__tscopgIterable" in v;
}
