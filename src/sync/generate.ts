/**
 * Generates the blocking classes from the asynchronous ones: every method of an async class's sync surface
 * (`surface.ts`: its prototype chain, features included) becomes a method of its sync twin that runs the async
 * method in the worker and blocks for the answer; every feature namespace becomes a main-side object whose
 * methods call the flat sync methods. Nothing is written twice: a method added to AsyncDatabase appears on
 * Database.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { inspect } from "node:util";
import type { QueryHook } from "../core/query-hooks.js";
import { splitRetry } from "../core/tx-options.js";
import { checkOutermost, retryingSync } from "../core/tx-retry.js";
import { TscopgError } from "../errors.js";
import { defineNamespace } from "../features/namespace.js";
import { encodeArgs, encodeReply } from "./args.js";
import { callSync, isThenable, postAsync, type CallContext } from "./bridge.js";
import { decodeValue } from "./codecs.js";
import { keepHooks, withHookRefs } from "./hooks.js";
import { batchedIterator } from "./iterator.js";
import { kindEntry, type KindName } from "./kinds.js";
import { isHandleRef, type RequestBody } from "./protocol.js";
import { unpackBatch, type BatchAnswer } from "./stream-batches.js";
import { sleepSync } from "./spin.js";
import { namespacesOf, surfaceOf } from "./surface.js";
import { transportTable } from "./transports.js";
// Registers the built-in transports before the classes below are generated.
import "./rows.js";
import "./copy.js";

const HANDLE = Symbol("tscopg.handle");

/** The base of every generated class: an object that stands for one living in the worker. */
export class SyncHandle {
  /** @internal */
  [HANDLE]: number;
  /** @internal */
  constructor(handle: number) {
    this[HANDLE] = handle;
    released.register(this, handle, this);
  }
}

const released = new FinalizationRegistry<number>((handle) => postAsync({ op: "release", handle }));

/** Sync transaction callbacks in progress: the innermost one is the ambient transaction of db calls. */
const scopeStack: number[] = [];

const syncClasses = new Map<KindName, new (handle: number) => SyncHandle>();

const handleOf = (v: unknown): number | undefined => (v instanceof SyncHandle ? v[HANDLE] : undefined);

/** Turns a worker answer into a main-thread value (handles become instances of generated classes). */
function decodeResult(v: unknown): unknown {
  return decodeValue(v, (x) => {
    if (!isHandleRef(x)) return x;
    if (x.kind === "AsyncIterator") return syncIterator(x.__tscopgHandle);
    const Cls = x.kind && syncClasses.get(x.kind);
    if (!Cls) throw new TscopgError(`no synchronous class for ${x.kind}`);
    return new Cls(x.__tscopgHandle);
  });
}

/** A call context: callbacks and iterables passed as arguments are served from here while the call blocks. */
function newContext(): CallContext {
  const ctx: CallContext = {
    callbacks: [],
    iterators: [],
    decode: decodeResult,
    encode: (v) => encodeReply(v, ctx, handleOf, "a value returned to the worker"),
  };
  return ctx;
}

function call(req: RequestBody, ctx: CallContext = newContext()): unknown {
  return decodeResult(callSync(req, ctx));
}

function syncIterator(handle: number): IterableIterator<unknown> & Disposable {
  const owner = new SyncHandle(handle);
  return batchedIterator(
    (max) => unpackBatch(call({ op: "next", handle: owner[HANDLE], max }) as BatchAnswer),
    (unread) => call({ op: "end", handle: owner[HANDLE], unread }),
    owner,
  );
}


const ASYNC_CALLBACK = "a callback given to the synchronous Database must not be async (use AsyncDatabase): it was refused, and what it started was rolled back";

/**
 * The callbacks given to sync callback forms, per async context. A callback that returned a Promise is refused,
 * and so is every later call from its continuations (they run after the refusal, outside any transaction: a
 * write there would commit on its own).
 */
const callbackScope = new AsyncLocalStorage<{ refused: boolean }>();

/** Throws when called from the continuation of a refused async callback. */
function assertNotRefused(): void {
  if (callbackScope.getStore()?.refused === true) throw new TscopgError(ASYNC_CALLBACK);
}

/**
 * Runs a sync callback over a scoped resource: success finishes it with commit, a throw with rollback. `check`, when
 * given, runs first (a throw refuses the callback, rolling back).
 */
function runScopedSync(resource: SyncHandle, fn: (r: unknown) => unknown, check?: (r: unknown) => void): unknown {
  const handle = resource[HANDLE];
  const isTransaction = resource instanceof (syncClasses.get("AsyncTransaction") ?? class {});
  if (isTransaction) scopeStack.push(handle);
  try {
    let result: unknown;
    try {
      // An async function is refused before it runs: nothing of it may happen outside the transaction.
      const kind = (fn as { constructor?: { name?: string } }).constructor?.name;
      if (kind === "AsyncFunction" || kind === "AsyncGeneratorFunction") throw new TscopgError(ASYNC_CALLBACK);
      check?.(resource);
      const scope = { refused: false };
      result = callbackScope.run(scope, () => fn(resource));
      if (isThenable(result)) {
        scope.refused = true;
        // Its rejection (e.g. a statement refused below) is this refusal's consequence, not an unhandled error.
        Promise.resolve(result).catch(() => undefined);
        throw new TscopgError(ASYNC_CALLBACK);
      }
    } catch (err) {
      try {
        call({ op: "call", handle, method: "_finish", args: [false], scope: 0 });
      } catch (cleanupErr) {
        if (err && typeof err === "object") Object.defineProperty(err, "suppressed", { value: cleanupErr, configurable: true });
      }
      throw err;
    }
    call({ op: "call", handle, method: "_finish", args: [true], scope: 0 });
    return result;
  } finally {
    if (isTransaction) scopeStack.pop();
    released.unregister(resource);
    postAsync({ op: "release", handle });
  }
}

/** Scoped methods whose callback form may retry (`retry` in their options): the main thread reruns the callback. */
const RETRYING = new Set(["transaction"]);

/** A scoped method's callback (its last argument, or its first, as in `transaction(fn, options)`), taken out of `args`. */
function takeCallback(args: unknown[]): ((r: unknown) => unknown) | undefined {
  if (typeof args[args.length - 1] === "function") return args.pop() as (r: unknown) => unknown;
  if (args.length > 1 && typeof args[0] === "function") return args.shift() as (r: unknown) => unknown;
  return undefined;
}

/** The depth of a sync transaction (a savepoint's is ≥ 1), checked for `retry`. */
const outermost = (tx: unknown): void => checkOutermost((tx as { depth: number }).depth);

/** The blocking form of method `m` (whose transport is `transport`) of sync class `name`. */
function syncMethod(name: string, m: string, transport: string): (this: SyncHandle, ...args: unknown[]) => unknown {
  const scoped = transport === "scoped";
  const receiver = transportTable[transport];
  const send = (self: SyncHandle, args: unknown[]): unknown => {
    const scope = scopeStack.length > 0 ? scopeStack[scopeStack.length - 1]! : 0;
    const ctx = newContext();
    const sent = encodeArgs(m, args, ctx, handleOf);
    const req: RequestBody = { op: "call", handle: self[HANDLE], method: m, args: sent, scope };
    if (receiver === undefined) return call(req, ctx);
    const r = receiver.main(m, args);
    ctx.onPart = (part) => r.onPart(part);
    const answer = callSync({ ...req, transport }, ctx);
    return r.finish(receiver.raw === true ? answer : decodeResult(answer));
  };
  /** The callback form: the resource opened by `m` with `args`, and `fn` run over it here, on the main thread. */
  const scopedRun = (self: SyncHandle, args: unknown[], fn: (r: unknown) => unknown, check?: (r: unknown) => void): unknown => {
    const result = send(self, args);
    if (!(result instanceof SyncHandle)) throw new TscopgError(`${name}.${m} has no callback form`);
    return runScopedSync(result, fn, check);
  };
  return function (this: SyncHandle, ...args: unknown[]) {
    assertNotRefused();
    const fn = scoped ? takeCallback(args) : undefined;
    if (fn === undefined) return send(this, args);
    if (!RETRYING.has(m) || args.length === 0) return scopedRun(this, args, fn);
    // The retry policy is the async side's (tx-retry.ts); the worker opens each attempt's transaction without it.
    const [retry, options] = splitRetry(args[0]);
    const rest = [options, ...args.slice(1)];
    if (retry === undefined) return scopedRun(this, rest, fn);
    return retryingSync(retry, () => scopedRun(this, rest, fn, outermost), sleepSync);
  };
}

/**
 * Builds the blocking twin of async class `kind`: same method names, same arguments, values instead of Promises.
 */
export function makeSyncClass(kind: KindName): new (...args: never[]) => SyncHandle {
  const entry = kindEntry(kind);
  if (entry === undefined) throw new TscopgError(`no async class registered as ${kind}`);
  const name = entry.sync;
  const Async = entry.cls as unknown as { prototype: object } & Record<string, unknown>;
  const module = entry.module;
  const Sync = {
    [name]: class extends SyncHandle {
      constructor(...args: unknown[]) {
        // Called with a bare handle number by decodeResult, or with the async constructor's arguments by users.
        const fromHandle = args.length === 2 && args[1] === HANDLE;
        const hooks: QueryHook[] = [];
        const handle = fromHandle
          ? (args[0] as number)
          : (callSync({ op: "new", kind, module, args: encodeArgs("constructor", withHookRefs(args, hooks), newContext(), handleOf) }) as { __tscopgHandle: number })
              .__tscopgHandle;
        super(handle);
        keepHooks(this, hooks);
      }
    },
  }[name]!;
  const surface = surfaceOf(Async.prototype);
  for (const [m, transport] of surface.methods) {
    Object.defineProperty(Sync.prototype, m, { configurable: true, writable: true, value: syncMethod(name, m, transport) });
  }
  for (const g of surface.getters) {
    Object.defineProperty(Sync.prototype, g, {
      configurable: true,
      get(this: SyncHandle) {
        return call({ op: "get", handle: this[HANDLE], prop: g });
      },
    });
  }
  for (const [ns, methods] of namespacesOf(Async.prototype)) defineNamespace(Sync.prototype, ns, methods);
  if (Symbol.asyncIterator in Async.prototype) {
    // `for await (… of asyncObj)` becomes `for (… of syncObj)`: the async iterator lives in the worker.
    Object.defineProperty(Sync.prototype, Symbol.iterator, {
      configurable: true,
      writable: true,
      value(this: SyncHandle) {
        return call({ op: "iterate", handle: this[HANDLE] });
      },
    });
  }
  if (Symbol.asyncDispose in Async.prototype) {
    Object.defineProperty(Sync.prototype, Symbol.dispose, {
      configurable: true,
      writable: true,
      value(this: SyncHandle) {
        released.unregister(this);
        call({ op: "dispose", handle: this[HANDLE] });
      },
    });
  }
  // The worker's object describes itself as `AsyncDatabase(…)`: its twin says `Database(…)`.
  Object.defineProperty(Sync.prototype, "toString", {
    configurable: true,
    writable: true,
    value(this: SyncHandle) {
      return String(call({ op: "call", handle: this[HANDLE], method: "toString", args: [], scope: 0 })).replace(/^Async/, "");
    },
  });
  Object.defineProperty(Sync.prototype, inspect.custom, {
    configurable: true,
    value(this: SyncHandle) {
      return (this as unknown as { toString(): string }).toString();
    },
  });
  for (const s of surface.statics(Async)) {
    Object.defineProperty(Sync, s, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => {
        const ctx = newContext();
        const hooks: QueryHook[] = [];
        const made = call({ op: "static", kind, module, method: s, args: encodeArgs(s, withHookRefs(args, hooks), ctx, handleOf) }, ctx);
        keepHooks(made, hooks);
        return made;
      },
    });
  }
  // Instances made from worker answers (`Database.fromUrl(…)`, `db.connect()`) are of this subclass, named like
  // its parent so that `constructor.name` reads `Database`, `Connection`, … either way.
  const FromHandle = class extends Sync {
    constructor(handle: number) {
      super(handle, HANDLE as never);
    }
  };
  Object.defineProperty(FromHandle, "name", { value: name });
  syncClasses.set(kind, FromHandle as never);
  return Sync as never;
}
