/**
 * Liveness of the synchronous facade's worker, independent of the worker's event loop.
 *
 * The database worker is not started by the main thread but by a tiny supervisor thread (plain JavaScript,
 * evaluated, no TypeScript loader) whose event loop has nothing else to do. It receives the worker's `error` and
 * `exit` events, writes "dead" into the shared state, posts the reason on a control port and wakes the main
 * thread blocked in `Atomics.wait`. The main thread thus fails a blocked call only when the worker really died
 * (or never started): a worker that is merely busy, its event loop blocked by a huge result or a CPU-bound
 * conversion, is waited for as long as it takes.
 *
 * The supervisor beats a counter in the shared state: as its event loop is always free, a beat that stops for
 * {@link STALL_LIMIT_MS} means the supervisor itself is gone, and with it the worker.
 * @module
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { ConnectionError } from "../errors.js";

/** A duration in milliseconds from environment variable `name`, else `fallback`. */
function envMs(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw.trim() === "" ? NaN : Number(raw);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * How long the supervisor may show no sign of life before a blocked call gives up (env `TSCOPG_SYNC_STALL_MS`,
 * read once at load). Its event loop runs nothing but the beat, so only a supervisor that is gone stops beating;
 * a busy database worker never trips it.
 */
export const STALL_LIMIT_MS = envMs("TSCOPG_SYNC_STALL_MS", 60_000);
/**
 * How long a new worker may take to start (load its modules) before a call gives up (env
 * `TSCOPG_SYNC_STARTUP_MS`, read once at load). Counted in time spent waiting for it.
 */
export const STARTUP_LIMIT_MS = envMs("TSCOPG_SYNC_STARTUP_MS", 20_000);
/** How often the supervisor beats. */
const BEAT_MS = 250;
/** Longest single `Atomics.wait` of a blocked call: how often it looks at the liveness slots. */
const SLICE_MS = Math.max(1, Math.min(1000, STALL_LIMIT_MS / 4, STARTUP_LIMIT_MS / 4));

/**
 * Slots of the shared `Int32Array`: [0] messages the worker has posted (the counter the main thread waits on),
 * [1] the supervisor's beat, [2] set by the main thread when a request is posted (the worker polls it right
 * after answering), [3] 1 once the worker has started, [4] 1 once the worker is dead (set by the supervisor).
 */
export const SLOT = { posted: 0, beat: 1, requested: 2, started: 3, dead: 4 } as const;
/** Bytes of the shared state. */
export const STATE_BYTES = 8 * Int32Array.BYTES_PER_ELEMENT;

/**
 * The supervisor's source. Plain JavaScript that runs as a script or as a module (an inherited
 * `--input-type=module` makes evaluated worker code a module), so it uses `import()` only.
 */
const SUPERVISOR = `import("node:worker_threads").then(({ Worker, workerData }) => {
  const { source, data, state, control, slot, beatMs } = workerData;
  const beat = setInterval(() => Atomics.add(state, slot.beat, 1), beatMs);
  let error;
  const describe = (e) => ({ name: String((e && e.name) || "Error"), message: String(e && e.message !== undefined ? e.message : e), code: e && e.code !== undefined ? String(e.code) : undefined });
  const died = (code) => {
    clearInterval(beat);
    control.postMessage({ code, error });
    Atomics.store(state, slot.dead, 1);
    Atomics.notify(state, slot.posted);
  };
  let worker;
  try {
    worker = new Worker(source, { eval: true, workerData: data, transferList: [data.port], stderr: false });
  } catch (e) {
    error = describe(e);
    died(null);
    return;
  }
  worker.on("error", (e) => { error = describe(e); });
  worker.on("exit", died);
});`;

/** Why the worker died, as the supervisor saw it. */
interface Death {
  /** Its exit code; `null` when it could not be created. */
  code: number | null;
  error?: { name: string; message: string; code?: string | undefined } | undefined;
}

/** A database worker started under a supervisor. */
export interface Supervised {
  /** The supervisor thread: terminating it ends the worker too. */
  readonly thread: Worker;
  /** The port the supervisor posts the reason of the worker's death on. */
  readonly control: MessagePort;
  readonly state: Int32Array;
  /** Milliseconds waited, in total, while the worker had not started yet. */
  unstartedFor: number;
}

/**
 * Starts the supervisor, which starts the database worker from `entry` (a file URL, or code when `isEval`) with
 * `data` as its workerData; `data.port` is transferred on to the worker. Neither thread keeps the process alive.
 *
 * No `execArgv` is given to either: by Node's default a worker inherits the process's options, per-process and
 * V8 ones included (they apply to the whole process anyway: under `--max-old-space-size` the worker gets the
 * main thread's heap limit), whereas an explicit list containing them is refused (ERR_WORKER_INVALID_EXEC_ARGV).
 * Both threads run evaluated code, written to work as a script or as a module, because an inherited
 * `--input-type` makes evaluated code a module and refuses a file entry.
 */
export function superviseWorker(entry: string | URL, isEval: boolean, data: { port: MessagePort; state: Int32Array; firstHandle: number }): Supervised {
  const { port1: control, port2: controlEnd } = new MessageChannel();
  // A file entry is imported from evaluated code too: an inherited --input-type refuses file workers.
  const source = isEval ? String(entry) : `import(${JSON.stringify(String(entry))});`;
  const thread = new Worker(SUPERVISOR, {
    eval: true,
    workerData: { source, data, state: data.state, control: controlEnd, slot: SLOT, beatMs: BEAT_MS },
    transferList: [data.port, controlEnd],
    stderr: false,
  });
  thread.unref();
  control.unref();
  return { thread, control, state: data.state, unstartedFor: 0 };
}

/** Ends a supervised worker that is to be given up (the supervisor takes the worker with it). */
function giveUp(s: Supervised): void {
  void s.thread.terminate();
}

/** The error that fails the blocked call of a worker that died. */
function deathError(s: Supervised): ConnectionError {
  const death = receiveMessageOnPort(s.control)?.message as Death | undefined;
  const e = death?.error;
  const why = e !== undefined ? `: ${e.message}${e.code !== undefined ? ` (${e.code})` : ""}` : death?.code != null ? ` with exit code ${death.code}` : "";
  const cause = e !== undefined ? Object.assign(new Error(e.message), { name: e.name, code: e.code }) : undefined;
  return new ConnectionError(
    `the tscopg synchronous worker died${why}; the objects it held are gone, the next call starts a new worker`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Watches a supervised worker while a call sleeps waiting for its next message. Created per sleep: the
 * supervisor's silence is measured from the sleep's start.
 */
export class Watch {
  /** How long each `Atomics.wait` may last. */
  readonly slice = SLICE_MS;
  private beat: number;
  private silentFor = 0;

  constructor(private readonly s: Supervised) {
    this.beat = Atomics.load(s.state, SLOT.beat);
  }

  /**
   * Called after each wait that did not see the posted counter move past `seen` (`timedOut`: the wait lasted
   * its whole slice). Returns the error that ends the call when the worker died, did not start in time or lost
   * its supervisor (a worker given up is terminated), else undefined: keep waiting.
   */
  verdict(seen: number, timedOut: boolean): ConnectionError | undefined {
    const { state } = this.s;
    if (Atomics.load(state, SLOT.dead) !== 0) {
      // Everything it posted before dying is counted by now: read that first.
      return Atomics.load(state, SLOT.posted) === seen ? deathError(this.s) : undefined;
    }
    if (!timedOut) return undefined;
    if (Atomics.load(state, SLOT.started) === 0 && (this.s.unstartedFor += this.slice) >= STARTUP_LIMIT_MS) {
      giveUp(this.s);
      return new ConnectionError(`the tscopg synchronous worker did not start within ${STARTUP_LIMIT_MS} ms`);
    }
    const beat = Atomics.load(state, SLOT.beat);
    if (beat !== this.beat) {
      this.beat = beat;
      this.silentFor = 0;
    } else if ((this.silentFor += this.slice) >= STALL_LIMIT_MS) {
      giveUp(this.s);
      return new ConnectionError(`the tscopg synchronous worker's supervisor showed no sign of life for ${STALL_LIMIT_MS} ms`);
    }
    return undefined;
  }
}
