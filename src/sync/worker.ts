/**
 * The synchronous facade's worker: owns the real AsyncDatabase objects and runs each request on its own
 * event loop while the main thread blocks. A request may ask the main thread for things while it runs (call a
 * callback, pull the next chunk of an iterable): the main thread serves those until the final answer.
 * @module
 */
import { serialize } from "node:v8";
import { receiveMessageOnPort, workerData, type MessagePort, type TransferListItem } from "node:worker_threads";
import { setDefaultQueryTimeout } from "../core/pg-session.js";
import { ambientTransaction } from "../core/scoped.js";
import type { AsyncTransaction } from "../core/async-transaction.js";
import { ConnectionError, TscopgError, deserializeError, serializeError } from "../errors.js";
import { takeAsync } from "./batch.js";
import { decodeValue, encodeShallow } from "./codecs.js";
import "./signal-codec.js"; // AbortSignal options (cancellation)
import { hookRecorder, isHookRef, takeEvents } from "./hooks.js";
import { kindEntry, kindOf } from "./kinds.js";
import { isCallbackRef, isHandleRef, isIterableRef, type Reply, type Request, type ToWorker, type WorkerMessage } from "./protocol.js";
import { hasBatches, nextBatch } from "./stream-batches.js";
import { transportTable, type WorkerCall } from "./transports.js";
// The built-in transports (the main thread registers the same ones).
import "./rows.js";
import "./copy.js";

const { port, state, firstHandle } = workerData as { port: MessagePort; state: Int32Array; firstHandle: number };

/**
 * The synchronous facade's answer limit for a Config whose `queryTimeout` is `null`. A blocked call would otherwise
 * wait forever for a server that stopped answering. Five minutes leaves room for long reports, migrations and index
 * builds, and still lets an unattended script fail instead of hanging; `queryTimeout: 0` lifts the limit, any other
 * value replaces it.
 */
const SYNC_DEFAULT_QUERY_TIMEOUT_MS = 5 * 60_000;
setDefaultQueryTimeout(SYNC_DEFAULT_QUERY_TIMEOUT_MS);

const handles = new Map<number, object>();
/** This worker's handle numbers start here (each worker of the process has its own range: see `bridge.ts`). */
let nextHandle = firstHandle;

/** A worker value for the main thread: objects of a handle kind stay here and travel as a handle. */
function toHandle(value: unknown): unknown {
  const kind = kindOf(value);
  if (kind === undefined) return encodeShallow(value);
  const id = nextHandle++;
  handles.set(id, value as object);
  return { __tscopgHandle: id, kind };
}

function get(id: number): Record<string | symbol, unknown> {
  const obj = handles.get(id);
  if (obj === undefined && id < firstHandle) {
    throw new ConnectionError(
      "this object belonged to the synchronous facade's previous worker, which died (its connections went with it): " +
        "make a new Database (or connection, transaction, cursor)",
    );
  }
  if (obj === undefined) throw new TscopgError("this object was already closed or released");
  return obj as Record<string | symbol, unknown>;
}

/**
 * Posts a message to the main thread and wakes it. Messages are v8-serialized, except those given a `transfer`
 * list (transport parts carrying e.g. an ArrayBuffer): those are posted as they are, the listed objects moved.
 */
function send(msg: WorkerMessage, transfer?: readonly TransferListItem[]): void {
  if (transfer !== undefined) {
    port.postMessage(msg, transfer);
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
    return;
  }
  let payload: Buffer;
  try {
    payload = serialize(msg);
  } catch (err) {
    if (msg.kind !== "done") throw err;
    const error = new TscopgError(`result cannot be sent to the main thread: ${String(err)}`);
    payload = serialize({ id: msg.id, kind: "done", ok: false, error: serializeError(error) } satisfies WorkerMessage);
  }
  port.postMessage(payload);
  Atomics.add(state, 0, 1);
  Atomics.notify(state, 0);
}

/** A request in progress, and what it asked the main thread that is not answered yet. */
class Call implements WorkerCall {
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  over = false;

  constructor(readonly id: number) {}

  /** Asks the main thread (run a callback, pull items) and resolves with its answer. */
  ask(body: { kind: "callback"; fn: number; args: unknown[] } | { kind: "pull"; iter: number; max: number }): Promise<unknown> {
    if (this.over) {
      return Promise.reject(new TscopgError("a callback or iterable of a synchronous call was used after that call returned"));
    }
    const call = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(call, { resolve, reject });
      send({ id: this.id, call, ...body } as WorkerMessage);
    });
  }

  /** Sends a transport part of the answer (see {@link WorkerCall.part}). */
  part(part: unknown, transfer?: readonly TransferListItem[]): void {
    if (!this.over) send({ id: this.id, kind: "part", part }, transfer);
  }

  answer(reply: Reply): void {
    const p = this.pending.get(reply.call);
    if (p === undefined) return;
    this.pending.delete(reply.call);
    if (reply.ok) p.resolve(reply.value);
    else p.reject(Object.assign(deserializeError(reply.error), { [MAIN_ERROR]: reply.ref }));
  }

  finish(msg: WorkerMessage & { kind: "done" }): void {
    if (this.over) return;
    this.over = true;
    for (const p of this.pending.values()) p.reject(new TscopgError("the synchronous call ended"));
    this.pending.clear();
    calls.delete(this.id);
    const events = takeEvents();
    send(events === undefined ? msg : { ...msg, events });
  }
}

/** Marks an error raised by a main-thread callback (its number there), so the caller gets its own object back. */
const MAIN_ERROR = Symbol("tscopg.mainError");

/** Requests in progress, by id (a main-thread callback may start a nested one). */
const calls = new Map<number, Call>();

/**
 * An iterable whose items the main thread hands over in chunks, as they are pulled. A plain iterator, not an async
 * generator: an item of the chunk in hand costs one resolved Promise, not a generator's resumption (a 100k-row
 * `insertBatch` from a sync generator pulls 100k items).
 */
function pulled(call: Call, iter: number): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<unknown> {
      let chunk: unknown[] = [];
      let pos = 0;
      let last = false;
      let max = 64;
      const it: AsyncIterator<unknown> = {
        next(): Promise<IteratorResult<unknown>> {
          try {
            if (pos < chunk.length) return Promise.resolve({ done: false, value: decodeArg(call, chunk[pos++]) });
          } catch (err) {
            return Promise.reject(err);
          }
          if (last) return Promise.resolve({ done: true, value: undefined });
          return call.ask({ kind: "pull", iter, max }).then((answer) => {
            const { values, done } = answer as { values: unknown[]; done: boolean };
            chunk = values;
            pos = 0;
            last = done;
            max = Math.min(max * 2, 4096);
            return it.next();
          });
        },
        return(): Promise<IteratorResult<unknown>> {
          last = true;
          chunk = [];
          return Promise.resolve({ done: true, value: undefined });
        },
      };
      return it;
    },
  };
}

function decodeArg(call: Call, a: unknown): unknown {
  return decodeValue(a, (v) => {
    if (isHandleRef(v)) return get(v.__tscopgHandle);
    if (isCallbackRef(v)) {
      const fn = v.__tscopgCallback;
      return (...args: unknown[]) => call.ask({ kind: "callback", fn, args: args.map(toHandle) }).then((r) => decodeArg(call, r));
    }
    if (isIterableRef(v)) return pulled(call, v.__tscopgIterable);
    if (isHookRef(v)) return hookRecorder(v);
    return v;
  });
}

/** The async class of kind `name`, loading the module that registers it the first time it is needed. */
async function classOf(name: string, module: string | undefined): Promise<unknown> {
  if (kindEntry(name) === undefined && module !== undefined) await import(module);
  const entry = kindEntry(name);
  if (entry === undefined) throw new TscopgError(`the synchronous worker knows no class ${name}`);
  return entry.cls;
}

async function dispatch(call: Call, req: Request): Promise<unknown> {
  const args = "args" in req ? req.args.map((a) => decodeArg(call, a)) : [];
  switch (req.op) {
    case "new": {
      const Cls = (await classOf(req.kind, req.module)) as new (...a: unknown[]) => object;
      return new Cls(...args);
    }
    case "static": {
      const Cls = (await classOf(req.kind, req.module)) as unknown as Record<string, (...a: unknown[]) => unknown>;
      return Cls[req.method]!(...args);
    }
    case "call": {
      const obj = get(req.handle);
      const special = req.transport === undefined ? undefined : transportTable[req.transport]?.worker;
      const fn = obj[req.method];
      if (typeof fn !== "function") throw new TscopgError(`${req.method} is not a method`);
      const run = () => (special ? special(call, obj, req.method, args) : fn.apply(obj, args));
      const scope = req.scope ? (handles.get(req.scope) as AsyncTransaction | undefined) : undefined;
      return scope ? ambientTransaction.run(scope, run) : run();
    }
    case "get":
      return get(req.handle)[req.prop];
    case "iterate": {
      const obj = get(req.handle) as Partial<AsyncIterable<unknown>>;
      if (typeof obj[Symbol.asyncIterator] !== "function") throw new TscopgError("this object is not iterable");
      return obj[Symbol.asyncIterator]!();
    }
    case "next": {
      const it = get(req.handle) as unknown as AsyncIterator<unknown>;
      if (hasBatches(it)) return nextBatch(it, req.max); // rows of a server cursor: packed
      // A live source (notifications) says how many items it holds: the batch then waits for one item, not `max`.
      const available = (it as { _available?: () => number })._available;
      return takeAsync(it, req.max, available?.bind(it));
    }
    case "end": {
      const it = get(req.handle) as unknown as AsyncIterator<unknown> & { _unread?: (n: number) => void };
      if (req.unread > 0) it._unread?.(req.unread);
      await it.return?.();
      return undefined;
    }
    case "dispose": {
      const obj = handles.get(req.handle) as Partial<AsyncDisposable> | undefined;
      handles.delete(req.handle);
      await obj?.[Symbol.asyncDispose]?.();
      return undefined;
    }
    case "release": {
      const obj = handles.get(req.handle) as Partial<AsyncDisposable> | undefined;
      handles.delete(req.handle);
      // A handle the main thread lost without closing: close it so no connection leaks.
      try {
        await obj?.[Symbol.asyncDispose]?.();
      } catch {
        /* nothing to report to: the owner is gone */
      }
      return undefined;
    }
  }
}

function failure(id: number, err: unknown): WorkerMessage & { kind: "done" } {
  const ref = (err as { [MAIN_ERROR]?: number } | null)?.[MAIN_ERROR];
  return { id, kind: "done", ok: false, error: serializeError(err), ref };
}

/** The innermost request in progress: an uncaught exception is reported to it. */
const stack: Call[] = [];
process.on("uncaughtException", (err) => {
  const call = stack.pop();
  call?.finish(failure(call.id, err));
});

/** Iterations the worker waits for the next request after answering, before yielding to its event loop. */
const POLL_LIMIT = Number(process.env.TSCOPG_SYNC_SPIN ?? 20_000);

function handle(msg: ToWorker): void {
  if (msg.op === "reply") {
    calls.get(msg.id)?.answer(msg);
    return;
  }
  if (msg.op === "release") {
    void dispatch(new Call(0), msg).catch(() => undefined);
    return;
  }
  const call = new Call(msg.id);
  calls.set(msg.id, call);
  stack.push(call);
  const done = (m: WorkerMessage & { kind: "done" }) => {
    const i = stack.indexOf(call);
    if (i >= 0) stack.splice(i, 1);
    call.finish(m);
    if (stack.length === 0) pollNext();
  };
  dispatch(call, msg).then(
    (value) => done({ id: msg.id, kind: "done", ok: true, value: toHandle(value) }),
    (err: unknown) => done(failure(msg.id, err)),
  );
}

/**
 * A blocking caller usually sends its next request a few microseconds after an answer: wait for it briefly
 * and take it straight off the port, skipping the event loop's wake-up (the main thread raises state[2]).
 */
function pollNext(): void {
  for (let i = 0; i < POLL_LIMIT; i++) {
    if (Atomics.load(state, 2) !== 0) {
      Atomics.store(state, 2, 0);
      const msg = receiveMessageOnPort(port);
      if (msg !== undefined) handle(msg.message as ToWorker);
      return;
    }
  }
}

port.on("message", (msg: ToWorker) => {
  if (msg.op !== "reply") Atomics.store(state, 2, 0);
  handle(msg);
});

// Started. No heartbeat: the supervisor that started this worker tells a blocked main thread when it dies
// (see supervisor.ts), so a busy event loop here is never taken for a dead worker.
Atomics.store(state, 3, 1);
