/**
 * Generates the blocking classes from the asynchronous ones: every method found on an async class's
 * prototype chain becomes a method of its sync twin that runs the async method in the worker and blocks for
 * the answer. Nothing is written twice: a method added to AsyncDatabase appears on Database.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { inspect } from "node:util";
import { TscopgError } from "../errors.js";
import { callSync, postAsync } from "./bridge.js";
import { asyncKinds, type KindName } from "./kinds.js";
import { paramsForWorker } from "./params.js";
import { decodeConfig, encodeConfig, isHandleRef, type Request } from "./protocol.js";

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

function encodeArg(a: unknown): unknown {
  if (a instanceof SyncHandle) return { __tscopgHandle: a[HANDLE] };
  if (typeof a === "function") throw new TscopgError("functions cannot be passed to the synchronous facade here");
  if (typeof a === "object" && a !== null && !Array.isArray(a) && !ArrayBuffer.isView(a) && Symbol.iterator in a) {
    return Array.from(a as Iterable<unknown>); // generators and other iterables cannot be cloned
  }
  return encodeConfig(a);
}

/** Turns a worker answer into a main-thread value (handles become instances of generated classes). */
function decodeResult(v: unknown): unknown {
  if (isHandleRef(v)) {
    if (v.kind === "AsyncIterator") return syncIterator(v.__tscopgHandle);
    const Cls = v.kind && syncClasses.get(v.kind);
    if (!Cls) throw new TscopgError(`no synchronous class for ${v.kind}`);
    return new Cls(v.__tscopgHandle);
  }
  return decodeConfig(v);
}

function call(req: Request): unknown {
  return decodeResult(callSync(req));
}

function syncIterator(handle: number): IterableIterator<unknown> & Disposable {
  const owner = new SyncHandle(handle);
  const it = {
    next(): IteratorResult<unknown> {
      return call({ op: "call", handle: owner[HANDLE], method: "next", args: [], scope: 0 }) as IteratorResult<unknown>;
    },
    return(value?: unknown): IteratorResult<unknown> {
      call({ op: "call", handle: owner[HANDLE], method: "return", args: [value], scope: 0 });
      return { done: true, value };
    },
    [Symbol.iterator]() {
      return it;
    },
    [Symbol.dispose]() {
      it.return();
    },
  };
  return it;
}

function isThenable(v: unknown): boolean {
  return (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as { then?: unknown }).then === "function";
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

/** Runs a sync callback over a scoped resource: success finishes it with commit, a throw with rollback. */
function runScopedSync(resource: SyncHandle, fn: (r: unknown) => unknown): unknown {
  const handle = resource[HANDLE];
  const isTransaction = resource instanceof (syncClasses.get("AsyncTransaction") ?? class {});
  if (isTransaction) scopeStack.push(handle);
  try {
    let result: unknown;
    try {
      // An async function is refused before it runs: nothing of it may happen outside the transaction.
      const kind = (fn as { constructor?: { name?: string } }).constructor?.name;
      if (kind === "AsyncFunction" || kind === "AsyncGeneratorFunction") throw new TscopgError(ASYNC_CALLBACK);
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

function methodNames(proto: object): { methods: Set<string>; getters: Set<string> } {
  const methods = new Set<string>();
  const getters = new Set<string>();
  for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === "constructor" || name === "toString" || methods.has(name) || getters.has(name)) continue;
      if (name.startsWith("_") && name !== "_finish") continue;
      const d = Object.getOwnPropertyDescriptor(p, name)!;
      if (d.get) getters.add(name);
      else if (typeof d.value === "function") methods.add(name);
    }
  }
  return { methods, getters };
}

/**
 * Builds the blocking twin of an async class: same method names, same arguments, values instead of Promises.
 * A trailing function argument selects the callback form (the resource is finished when it returns).
 */
export function makeSyncClass(kind: KindName, name: string): new (...args: never[]) => SyncHandle {
  const Async = asyncKinds[kind as keyof typeof asyncKinds] as unknown as { prototype: object } & Record<string, unknown>;
  const Sync = {
    [name]: class extends SyncHandle {
      constructor(...args: unknown[]) {
        // Called with a bare handle number by decodeResult, or with the async constructor's arguments by users.
        const fromHandle = args.length === 2 && args[1] === HANDLE;
        const handle = fromHandle
          ? (args[0] as number)
          : (callSync({ op: "new", kind, args: args.map(encodeArg) }) as { __tscopgHandle: number }).__tscopgHandle;
        super(handle);
      }
    },
  }[name]!;
  const { methods, getters } = methodNames(Async.prototype);
  for (const m of methods) {
    Object.defineProperty(Sync.prototype, m, {
      configurable: true,
      writable: true,
      value: function (this: SyncHandle, ...args: unknown[]) {
        assertNotRefused();
        const fn = typeof args[args.length - 1] === "function" ? (args.pop() as (r: unknown) => unknown) : undefined;
        const scope = scopeStack.length > 0 ? scopeStack[scopeStack.length - 1]! : 0;
        // A statement method's argument after the SQL text holds its parameters: encoded here like the async API does.
        const sent = args.map((a, i) => (i === 1 && typeof args[0] === "string" ? paramsForWorker(m, a) : encodeArg(a)));
        const result = call({ op: "call", handle: this[HANDLE], method: m, args: sent, scope });
        if (fn === undefined) return result;
        if (!(result instanceof SyncHandle)) throw new TscopgError(`${name}.${m} has no callback form`);
        return runScopedSync(result, fn);
      },
    });
  }
  for (const g of getters) {
    Object.defineProperty(Sync.prototype, g, {
      configurable: true,
      get(this: SyncHandle) {
        return call({ op: "get", handle: this[HANDLE], prop: g });
      },
    });
  }
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
  for (const s of Object.getOwnPropertyNames(Async)) {
    if (["length", "name", "prototype"].includes(s) || typeof Async[s] !== "function") continue;
    Object.defineProperty(Sync, s, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => call({ op: "static", kind, method: s, args: args.map(encodeArg) }),
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
