/**
 * Handle hooks across the worker boundary. A hook option given to a synchronous handle (`new Database(url,
 * { onQuery })`, see `HOOK_NAMES`) must run on the calling thread, during later calls, but its handle lives in the
 * worker. So the function stays here, in a table, and the worker's handle gets a recorder in its place: each event
 * is queued in the worker and sent back with the answer of the call in progress (or of the next one), and the main
 * thread calls the hook with it before that call returns. Same events, same order and same fields as on the async
 * side (an event's error crosses as the same class); nothing of this runs for a handle without hooks.
 * @module
 */
import { callHook, HOOK_NAMES, type QueryEvent, type QueryHook } from "../core/query-hooks.js";
import { deserializeError, serializeError, type SerializedError } from "../errors.js";

/** An event on its way to the main thread: the hook's number, and the event (its error serialized). */
export type HookEvent = [hook: number, event: QueryEvent & { error?: unknown }];

/** A main-thread hook given as an option: the worker records its events. */
export interface HookRef {
  __tscopgHook: number;
}

export function isHookRef(v: unknown): v is HookRef {
  return typeof v === "object" && v !== null && "__tscopgHook" in v;
}

// ---- main thread ----------------------------------------------------------------------------------------------

/** The hooks by number (held weakly: the handles given them keep them alive, see {@link withHookRefs}). */
const hooks = new Map<number, WeakRef<QueryHook>>();
const numbers = new WeakMap<QueryHook, number>();
const forgotten = new FinalizationRegistry<number>((n) => hooks.delete(n));
let nextHook = 1;

function refOf(fn: QueryHook): HookRef {
  let n = numbers.get(fn);
  if (n === undefined) {
    n = nextHook++;
    numbers.set(fn, n);
    hooks.set(n, new WeakRef(fn));
    forgotten.register(fn, n);
  }
  return { __tscopgHook: n };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/**
 * The arguments of a handle's creation with each hook option (a function under one of `HOOK_NAMES`, in a plain
 * object, nested ones included: `create(name, { databaseOptions: { onQuery } })`) replaced by a {@link HookRef};
 * the functions are pushed onto `found` (to be kept alive with the handle). Arguments without any come back as
 * they are.
 */
export function withHookRefs(args: unknown[], found: QueryHook[]): unknown[] {
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 4 || !isPlainObject(v)) return v;
    let out: Record<string, unknown> | undefined;
    for (const [key, x] of Object.entries(v)) {
      let y = x;
      if (typeof x === "function" && HOOK_NAMES.includes(key)) {
        found.push(x as QueryHook);
        y = refOf(x as QueryHook);
      } else y = walk(x, depth + 1);
      if (y !== x) (out ??= { ...v })[key] = y;
    }
    return out ?? v;
  };
  return args.map((a) => walk(a, 0));
}

/** Handles that were given hooks, and their hooks (alive as long as the handle). */
const kept = new WeakMap<object, QueryHook[]>();

/** Keeps hooks `found` by {@link withHookRefs} alive as long as `owner` (the handle made with them). */
export function keepHooks(owner: unknown, found: QueryHook[]): void {
  if (found.length > 0 && typeof owner === "object" && owner !== null) kept.set(owner, found);
}

/** Calls the hooks with the events a call's answer brought (never throws: see `callHook`). */
export function deliverEvents(events: readonly HookEvent[]): void {
  for (const [n, event] of events) {
    const hook = hooks.get(n)?.deref();
    if (hook === undefined) continue;
    if (event.error !== undefined) event.error = deserializeError(event.error as SerializedError);
    callHook(hook, event);
  }
}

// ---- worker ---------------------------------------------------------------------------------------------------

/** Events recorded since the last answer. */
let outbox: HookEvent[] = [];

/** The worker's stand-in for main-thread hook `ref`: records each event for the next answer. */
export function hookRecorder(ref: HookRef): QueryHook {
  const n = ref.__tscopgHook;
  return (event) => {
    outbox.push([n, event.error === undefined ? event : { ...event, error: serializeError(event.error) }]);
  };
}

/** The events recorded since the last answer (taken: the next answer starts afresh), if any. */
export function takeEvents(): HookEvent[] | undefined {
  if (outbox.length === 0) return undefined;
  const events = outbox;
  outbox = [];
  return events;
}
