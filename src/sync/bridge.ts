/**
 * The main-thread end of the synchronous facade: one shared worker per process, and a blocking `callSync` that
 * posts a request and then serves the worker until the final answer comes: it runs the callbacks the worker asks
 * for, hands it chunks of the iterables it pulls, and passes transport parts (e.g. chunks of rows) to the call,
 * sleeping in `Atomics.wait` in between.
 * @module
 */
import { deserialize } from "node:v8";
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from "node:worker_threads";
import { ParameterError, TscopgError, deserializeError, serializeError } from "../errors.js";
import type { Reply, RequestBody, ToWorker, WorkerMessage } from "./protocol.js";
import { takeSync } from "./batch.js";
import { deliverEvents, type HookEvent } from "./hooks.js";
import { SpinPolicy } from "./spin.js";
import { STATE_BYTES, Watch, superviseWorker, type Supervised } from "./supervisor.js";

/**
 * The worker (`worker`: its supervisor thread, see `supervisor.ts`), the port to it, and the shared state, in
 * 32-bit slots (`SLOT` in `supervisor.ts`): [0] messages the worker has posted (a counter the main thread waits
 * on), [1] the supervisor's beat, [2] set by the main thread when a request is posted (the worker polls it right
 * after answering), [3] 1 once the worker has started, [4] 1 once it is dead.
 */
interface Bridge {
  worker: Worker;
  port: MessagePort;
  state: Int32Array;
}

let bridge: Bridge | undefined;

/**
 * The worker's entry. Built code runs `worker.js` directly; running from TypeScript sources (tests, tsx), the
 * worker first registers tsx's loader, which worker threads do not inherit.
 */
function workerEntry(): { entry: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith(".ts")) return { entry: new URL("./worker.js", import.meta.url), eval: false };
  const api = import.meta.resolve("tsx/esm/api");
  const target = new URL("./worker.ts", import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return { entry: code, eval: true };
}

/** Workers started by this thread so far (the current one's number). */
let generation = 0;

/**
 * The first handle number of worker number `gen`: each worker numbers its objects from its own base, so a handle
 * of a worker that died (a sync object made before) never names an object of the worker that replaced it (whose
 * numbers would otherwise start at 1 again): the new worker recognises it as an earlier worker's (see `worker.ts`).
 */
function firstHandleOf(gen: number): number {
  return gen * 2 ** 32 + 1;
}

/** The supervision of each bridge's worker. */
const supervision = new WeakMap<Bridge, Supervised>();

/**
 * Starts a worker under a supervisor (see `supervisor.ts`), which tells a blocked call when the worker dies; a
 * dead worker's bridge is dropped, so the next call starts a new one. Neither the threads nor the port keep the
 * process alive: a script that never closes its Database still exits.
 */
function start(): Bridge {
  const { port1, port2 } = new MessageChannel();
  const state = new Int32Array(new SharedArrayBuffer(STATE_BYTES));
  const { entry, eval: isEval } = workerEntry();
  const supervised = superviseWorker(entry, isEval, { port: port2, state, firstHandle: firstHandleOf(++generation) });
  port1.unref();
  const b: Bridge = { worker: supervised.thread, port: port1, state };
  supervision.set(b, supervised);
  const drop = () => {
    if (bridge === b) bridge = undefined;
  };
  // Seen when this thread's event loop runs (between calls); a blocked call learns it from the shared state.
  b.worker.on("error", drop);
  b.worker.on("exit", drop);
  return b;
}

/** What a blocking call does with the worker's requests and parts while it waits. */
export interface CallContext {
  /** The callbacks passed as arguments (by number). */
  callbacks: ((...args: unknown[]) => unknown)[];
  /** The iterators of the iterables passed as arguments (by number), yielding items ready for the worker. */
  iterators: Iterator<unknown>[];
  /** Turns a value from the worker into a main-thread value (handles become sync objects). */
  decode(v: unknown): unknown;
  /** Turns a main-thread value into one for the worker (an item pulled from an iterable, a callback's result). */
  encode(v: unknown): unknown;
  /** Consumes a transport part of the answer. */
  onPart?: ((part: unknown) => void) | undefined;
}

let nextId = 1;
/** The ids of the calls in progress on this thread, innermost last (a callback may make a nested call). */
const awaited: number[] = [];
/** Messages that arrived for an outer call while a nested one was waiting. */
const stashed = new Map<number, WorkerMessage[]>();
/** Whether blocked calls spin before sleeping: on while spinning catches answers, off on a loaded machine. */
const spinning = new SpinPolicy();

function post(b: Bridge, msg: ToWorker): void {
  try {
    b.port.postMessage(msg);
  } catch (err) {
    if ((err as { name?: unknown } | null)?.name !== "DataCloneError") throw err;
    throw new ParameterError(`an argument cannot be passed to the synchronous Database: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Sends a request and blocks until the final answer arrives, serving the worker's callback and pull requests
 * meanwhile; returns the value or throws the same error class.
 * @throws {@link ParameterError} when an argument cannot be copied to the worker, before anything is sent.
 */
export function callSync(body: RequestBody, ctx?: CallContext): unknown {
  const b = (bridge ??= start());
  const id = nextId++;
  post(b, { ...body, id } as ToWorker);
  Atomics.store(b.state, 2, 1);
  awaited.push(id);
  /** Errors raised by this call's callbacks, by number: the caller gets its own error object back. */
  const raised = new Map<number, unknown>();
  /** Events of handle hooks that came with the answer: their hooks run once the call is over, before it returns. */
  let events: HookEvent[] | undefined;
  try {
    for (;;) {
      const msg = nextMessage(b, id);
      switch (msg.kind) {
        case "done":
          events = msg.events;
          if (msg.ok) return msg.value;
          if (msg.ref !== undefined && raised.has(msg.ref)) throw raised.get(msg.ref);
          throw deserializeError(msg.error);
        case "callback":
          serve(b, msg.id, msg.call, raised, () => runCallback(ctx, msg.fn, msg.args));
          break;
        case "pull":
          serve(b, msg.id, msg.call, raised, () => pull(ctx, msg.iter, msg.max));
          break;
        case "part":
          if (ctx?.onPart === undefined) throw new TscopgError("the synchronous worker sent a part nobody expected");
          ctx.onPart(msg.part);
          break;
      }
    }
  } finally {
    awaited.pop();
    stashed.delete(id);
    if (events !== undefined) deliverEvents(events);
  }
}

export function isThenable(v: unknown): boolean {
  return (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as { then?: unknown }).then === "function";
}

function runCallback(ctx: CallContext | undefined, n: number, args: unknown[]): unknown {
  const fn = ctx?.callbacks[n];
  if (fn === undefined) throw new TscopgError(`the synchronous worker asked for unknown callback #${n}`);
  const result = fn(...args.map((a) => ctx!.decode(a)));
  if (isThenable(result)) {
    Promise.resolve(result).catch(() => undefined);
    throw new TscopgError("a callback given to the synchronous Database must not be async or return a Promise (use AsyncDatabase)");
  }
  return ctx!.encode(result);
}

/** Chunks of an iterable handed to the worker. */
function pull(ctx: CallContext | undefined, n: number, max: number): { values: unknown[]; done: boolean } {
  const it = ctx?.iterators[n];
  if (it === undefined) throw new TscopgError(`the synchronous worker asked for unknown iterable #${n}`);
  return takeSync(it, max);
}

/** Runs `work` for the worker's request `call` and posts its value or its error back. */
function serve(b: Bridge, id: number, call: number, raised: Map<number, unknown>, work: () => unknown): void {
  let reply: Reply;
  try {
    reply = { op: "reply", id, call, ok: true, value: work() };
  } catch (err) {
    const ref = raised.size + 1;
    raised.set(ref, err);
    reply = { op: "reply", id, call, ok: false, error: serializeError(err), ref };
  }
  try {
    post(b, reply);
  } catch (err) {
    const ref = raised.size + 1;
    raised.set(ref, err);
    post(b, { op: "reply", id, call, ok: false, error: serializeError(err), ref });
  }
}

/** The next message for call `id` (stashing those for outer calls, dropping late ones), waiting as needed. */
function nextMessage(b: Bridge, id: number): WorkerMessage {
  const mine = stashed.get(id);
  if (mine !== undefined && mine.length > 0) return mine.shift()!;
  for (;;) {
    const seen = Atomics.load(b.state, 0);
    const raw = receiveMessageOnPort(b.port);
    if (raw !== undefined) {
      // v8-serialized bytes, or (a part posted with a transfer list) the message itself.
      const msg = (raw.message instanceof Uint8Array ? deserialize(raw.message) : raw.message) as WorkerMessage;
      if (msg.id === id) return msg;
      if (awaited.includes(msg.id)) {
        let list = stashed.get(msg.id);
        if (list === undefined) stashed.set(msg.id, (list = []));
        list.push(msg);
      }
      continue; // a late message for a call that is over: dropped
    }
    waitForWorker(b, seen);
  }
}

/**
 * Blocks until the worker posts another message (its counter moves past `seen`). Spins first while spinning
 * catches answers (which saves the futex wake-up), not on a machine whose cores are taken (see `spin.ts`); fails
 * with ConnectionError when the worker dies meanwhile (see `supervisor.ts`).
 */
function waitForWorker(b: Bridge, seen: number): void {
  const { state } = b;
  const budget = spinning.budget();
  for (let spin = 0; spin < budget && Atomics.load(state, 0) === seen; spin++);
  const caught = Atomics.load(state, 0) !== seen;
  if (budget > 0) spinning.spun(caught);
  if (caught) return;
  // Liveness comes from the supervisor, not from the worker's event loop: a busy worker is waited for.
  const watch = new Watch(supervision.get(b)!);
  let timedOut = false;
  while (Atomics.load(state, 0) === seen) {
    const dead = watch.verdict(seen, timedOut);
    if (dead !== undefined) {
      if (bridge === b) bridge = undefined;
      throw dead;
    }
    timedOut = Atomics.wait(state, 0, seen, watch.slice) === "timed-out";
  }
}

/** Fire-and-forget message (handle release); never blocks. */
export function postAsync(body: RequestBody): void {
  bridge?.port.postMessage({ ...body, id: 0 });
}
