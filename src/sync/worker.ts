/**
 * The synchronous facade's worker: owns the real AsyncDatabase objects and runs each request on its own
 * event loop while the main thread blocks in `Atomics.wait`.
 * @module
 */
import { serialize } from "node:v8";
import { receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { setDefaultQueryTimeout } from "../core/pg-session.js";
import { ambientTransaction } from "../core/scoped.js";
import type { AsyncTransaction } from "../core/async-transaction.js";
import { TscopgError, serializeError } from "../errors.js";
import { asyncKinds, kindOf } from "./kinds.js";
import { decodeConfig, encodeConfig, isHandleRef, type Request, type Response } from "./protocol.js";

const { port, state } = workerData as { port: MessagePort; state: Int32Array };

/**
 * The synchronous facade's answer limit for a Config whose `queryTimeout` is `null`. A blocked call would otherwise
 * wait forever for a server that stopped answering (this worker stays alive and keeps its heartbeat, so the bridge's
 * stall check never fires). Five minutes leaves room for long reports, migrations and index builds, and still lets
 * an unattended script fail instead of hanging; `queryTimeout: 0` lifts the limit, any other value replaces it.
 */
const SYNC_DEFAULT_QUERY_TIMEOUT_MS = 5 * 60_000;
setDefaultQueryTimeout(SYNC_DEFAULT_QUERY_TIMEOUT_MS);

const handles = new Map<number, object>();
let nextHandle = 1;

function toHandle(value: unknown): unknown {
  const kind = kindOf(value);
  if (kind === undefined) return encodeConfig(value);
  const id = nextHandle++;
  handles.set(id, value as object);
  return { __tscopgHandle: id, kind };
}

function get(id: number): Record<string | symbol, unknown> {
  const obj = handles.get(id);
  if (obj === undefined) throw new TscopgError("this object was already closed or released");
  return obj as Record<string | symbol, unknown>;
}

function decodeArg(a: unknown): unknown {
  return isHandleRef(a) ? get(a.__tscopgHandle) : decodeConfig(a);
}

async function dispatch(req: Request): Promise<unknown> {
  switch (req.op) {
    case "new": {
      const Cls = asyncKinds[req.kind as keyof typeof asyncKinds] as unknown as new (...a: unknown[]) => object;
      return new Cls(...req.args.map(decodeArg));
    }
    case "static": {
      const Cls = asyncKinds[req.kind as keyof typeof asyncKinds] as unknown as Record<string, (...a: unknown[]) => unknown>;
      return Cls[req.method]!(...req.args.map(decodeArg));
    }
    case "call": {
      const obj = get(req.handle);
      const fn = obj[req.method];
      if (typeof fn !== "function") throw new TscopgError(`${req.method} is not a method`);
      const args = req.args.map(decodeArg);
      const scope = req.scope ? (handles.get(req.scope) as AsyncTransaction | undefined) : undefined;
      return scope ? ambientTransaction.run(scope, () => fn.apply(obj, args)) : fn.apply(obj, args);
    }
    case "get":
      return get(req.handle)[req.prop];
    case "iterate": {
      const obj = get(req.handle) as Partial<AsyncIterable<unknown>>;
      if (typeof obj[Symbol.asyncIterator] !== "function") throw new TscopgError("this object is not iterable");
      return obj[Symbol.asyncIterator]!();
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

function reply(res: Response): void {
  let payload: Buffer;
  try {
    payload = serialize(res);
  } catch (err) {
    payload = serialize({ ok: false, error: serializeError(new TscopgError(`result cannot be sent to the main thread: ${String(err)}`)) });
  }
  port.postMessage(payload);
  Atomics.store(state, 0, 1);
  Atomics.notify(state, 0);
}

let busy = false;
process.on("uncaughtException", (err) => {
  if (busy) {
    busy = false;
    reply({ ok: false, error: serializeError(err) });
  }
});

/** Iterations the worker waits for the next request after answering, before yielding to its event loop. */
const POLL_LIMIT = Number(process.env.TSCOPG_SYNC_SPIN ?? 20_000);

function handle(req: Request): void {
  const isRelease = req.op === "release";
  if (!isRelease) busy = true;
  dispatch(req).then(
    (value) => {
      if (isRelease || !busy) return;
      busy = false;
      reply({ ok: true, value: toHandle(value) });
      pollNext();
    },
    (err: unknown) => {
      if (isRelease || !busy) return;
      busy = false;
      reply({ ok: false, error: serializeError(err) });
      pollNext();
    },
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
      if (msg !== undefined) handle(msg.message as Request);
      return;
    }
  }
}

port.on("message", (req: Request) => {
  Atomics.store(state, 2, 0);
  handle(req);
});

// Started, and a heartbeat: lets a blocked main thread tell a busy worker from a dead one.
Atomics.store(state, 3, 1);
setInterval(() => Atomics.add(state, 1, 1), 250).unref();
