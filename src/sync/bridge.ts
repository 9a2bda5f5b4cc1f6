/**
 * The main-thread end of the synchronous facade: one shared worker per process, and a blocking `call` that
 * posts a request and sleeps in `Atomics.wait` until the worker answers.
 * @module
 */
import { deserialize } from "node:v8";
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { ConnectionError, ParameterError, deserializeError } from "../errors.js";
import type { Request, Response } from "./protocol.js";

/** How long the worker may show no sign of life before a blocked call gives up. */
const STALL_LIMIT_MS = 60_000;
/** How long a new worker may take to start (load its modules) before a call gives up. */
const STARTUP_LIMIT_MS = 20_000;
/** Iterations of the busy-wait before blocking (override with TSCOPG_SYNC_SPIN; 0 disables). */
const SPIN_LIMIT = Number(process.env.TSCOPG_SYNC_SPIN ?? 20_000);

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

function start(): Bridge {
  const { port1, port2 } = new MessageChannel();
  const state = new Int32Array(new SharedArrayBuffer(16));
  const { entry, eval: isEval } = workerEntry();
  const worker = new Worker(entry, {
    eval: isEval,
    // Flags that only make sense for the main entry (e.g. --input-type) would stop the worker from starting.
    execArgv: process.execArgv.filter((a) => !a.startsWith("--input-type")),
    workerData: { port: port2, state },
    transferList: [port2],
    stderr: false,
  });
  worker.unref();
  port1.unref();
  worker.on("error", () => {
    bridge = undefined;
  });
  worker.on("exit", () => {
    bridge = undefined;
  });
  return { worker, port: port1, state };
}

/**
 * Sends a request and blocks until the answer arrives; returns the value or throws the same error class.
 * @throws {@link ParameterError} when an argument cannot be copied to the worker (a function or a promise inside an
 * options object, …), before anything is sent.
 */
export function callSync(req: Request): unknown {
  const b = (bridge ??= start());
  const { state, port } = b;
  Atomics.store(state, 0, 0);
  try {
    port.postMessage(req);
  } catch (err) {
    if ((err as { name?: unknown } | null)?.name !== "DataCloneError") throw err;
    throw new ParameterError(`an argument cannot be passed to the synchronous Database: ${(err as Error).message}`, { cause: err });
  }
  Atomics.store(state, 2, 1);
  // Most answers come within tens of microseconds: spin briefly before sleeping, which saves the futex
  // wake-up on the common path (measured: about +20% round trips per second on 2 cores).
  for (let spin = 0; spin < SPIN_LIMIT && Atomics.load(state, 0) === 0; spin++);
  let beat = Atomics.load(state, 1);
  let silentFor = 0;
  while (Atomics.load(state, 0) === 0) {
    if (Atomics.wait(state, 0, 0, 1000) === "timed-out") {
      const now = Atomics.load(state, 1);
      if (now === beat) {
        silentFor += 1000;
        const started = Atomics.load(state, 3) === 1;
        if (silentFor >= (started ? STALL_LIMIT_MS : STARTUP_LIMIT_MS)) {
          bridge = undefined;
          void b.worker.terminate();
          throw new ConnectionError(
            started ? "the tscopg synchronous worker stopped responding" : "the tscopg synchronous worker failed to start",
          );
        }
      } else {
        beat = now;
        silentFor = 0;
      }
    }
  }
  const msg = receiveMessageOnPort(port);
  if (msg === undefined) throw new ConnectionError("the tscopg synchronous worker answered nothing");
  const res = deserialize(msg.message as Uint8Array) as Response;
  if (res.ok) return res.value;
  throw deserializeError(res.error);
}

/** Fire-and-forget message (handle release); never blocks. */
export function postAsync(req: Request): void {
  bridge?.port.postMessage(req);
}
