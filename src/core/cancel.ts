/**
 * Cancellation: an `AbortSignal` (or a `timeout`) that stops a statement on the server with a real cancel
 * request (see `cancel-request.ts`), not only the Promise.
 *
 * The rules, for every operation that takes a `signal`:
 * - A signal already aborted: the operation is refused before anything is sent, with a client-side
 *   {@link QueryCanceled} (SQLSTATE 57014, {@link abortedBeforeSending}).
 * - An abort while the work runs on the server: a cancel request is sent; the server stops the statement and the
 *   operation rejects with the server's own {@link QueryCanceled} ("canceling statement due to user request").
 *   If the work finished before the request reached the server, its result stands (it was done: rejecting would
 *   misreport committed work).
 * - An abort after the operation settled: no effect (the listener is gone), and no later statement is touched.
 * - Listeners and timers are removed as soon as the operation settles (one long-lived signal may serve any
 *   number of operations).
 * @module
 */
import { ParameterError, QueryCanceled } from "../errors.js";
import { requestCancel } from "./cancel-request.js";
import type { PgSession } from "./pg-session.js";

/** The client-side error of an operation whose signal aborted before anything was sent (nothing ran). */
export function abortedBeforeSending(): QueryCanceled {
  return new QueryCanceled("canceling statement: its signal was aborted before it was sent to the server (nothing ran)", {
    code: "57014",
  });
}

/** One `abort` listener per signal, whatever the number of operations watching it (see {@link subscribe}). */
interface Fanout {
  readonly listener: () => void;
  readonly handlers: Set<() => void>;
}
const fanouts = new WeakMap<AbortSignal, Fanout>();

/**
 * Calls `handler` when `signal` aborts; returns the unsubscriber. A signal carries ONE listener of ours however
 * many operations watch it at once (thousands of concurrent statements sharing an application-wide signal would
 * otherwise add as many listeners, and Node would warn of a leak); it is removed when the last one unsubscribes.
 */
function subscribe(signal: AbortSignal, handler: () => void): () => void {
  let fanout = fanouts.get(signal);
  if (fanout === undefined) {
    const handlers = new Set<() => void>();
    const listener = (): void => {
      fanouts.delete(signal);
      for (const h of handlers) h();
    };
    fanout = { listener, handlers };
    fanouts.set(signal, fanout);
    signal.addEventListener("abort", listener, { once: true });
  }
  const mine = fanout;
  mine.handlers.add(handler);
  return () => {
    if (!mine.handlers.delete(handler) || mine.handlers.size > 0 || fanouts.get(signal) !== mine) return;
    fanouts.delete(signal);
    signal.removeEventListener("abort", mine.listener);
  };
}

/**
 * One operation's view of its abort sources: a signal and/or a timeout (ms, a client-side deadline). Call
 * {@link dispose} when the operation settles: the signal's listener and the timer go.
 * @internal
 */
export class AbortWatch {
  #aborted = false;
  #handlers: (() => void)[] = [];
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #fire = (): void => {
    if (this.#aborted) return;
    this.#aborted = true;
    this.dispose();
    const handlers = this.#handlers;
    this.#handlers = [];
    for (const h of handlers) h();
  };

  constructor(signal: AbortSignal | undefined, timeout: number | undefined) {
    if (signal?.aborted) {
      this.#aborted = true;
      return;
    }
    if (signal !== undefined) this.#unsubscribe = subscribe(signal, this.#fire);
    if (timeout !== undefined) this.#timer = setTimeout(this.#fire, timeout).unref();
  }

  /** Whether the signal aborted or the timeout ran out. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Calls `handler` once, on abort (at once if already aborted). */
  onAbort(handler: () => void): void {
    if (this.#aborted) handler();
    else this.#handlers.push(handler);
  }

  /** Removes the listener and the timer (idempotent); handlers are not called after it. */
  dispose(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#aborted) this.#handlers = [];
  }
}

/** The kinds of the cancellation options, for `checkOptions` shapes (`timeout`'s range is checked here). */
export const CANCEL_OPTIONS = { signal: "signal", timeout: "number" } as const;

/** The cancellation options of a call, as `execute`, `executeMany`, streams and COPY take them. */
export interface CancelOptions {
  signal?: AbortSignal | undefined;
  timeout?: number | undefined;
}

const prefix = (method: string | undefined): string => (method === undefined ? "" : `${method}(): `);

/**
 * The {@link AbortWatch} for `options` (`undefined` when they hold neither `signal` nor `timeout`); `method`
 * names the call in messages (the query methods share one message, the same whichever of them was called).
 * @throws {@link ParameterError} for a `signal` that is not an `AbortSignal` or a `timeout` that is not a
 *   positive finite number of milliseconds; {@link QueryCanceled} ({@link abortedBeforeSending}) when the signal
 *   is already aborted.
 * @internal
 */
export function watchAbort(method: string | undefined, options: CancelOptions | null | undefined): AbortWatch | undefined {
  const { signal, timeout } = checkCancelOptions(method, options);
  if (signal === undefined && timeout === undefined) return undefined;
  if (signal?.aborted) throw abortedBeforeSending();
  return new AbortWatch(signal, timeout);
}

/** `options`' `signal` and `timeout`, checked. @throws {@link ParameterError} as {@link watchAbort} says. */
function checkCancelOptions(method: string | undefined, options: CancelOptions | null | undefined): CancelOptions {
  if (options === undefined || options === null) return {};
  const { signal, timeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ParameterError(`${prefix(method)}option signal must be an AbortSignal, got ${signal === null ? "null" : typeof signal}`);
  }
  if (timeout !== undefined && (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0)) {
    throw new ParameterError(`${prefix(method)}option timeout must be a positive number of milliseconds, got ${String(timeout)}`);
  }
  return { signal, timeout };
}

/**
 * The one signal an operation of several round trips (a stream, a COPY) watches for its `signal` and `timeout`
 * options: the signal, `AbortSignal.timeout(timeout)` (a deadline counted from this call, over the whole
 * operation), or both combined; `undefined` for neither. Checked as {@link watchAbort} checks them; an aborted
 * signal is not refused here (pass the result to {@link cancellable}, which refuses it before sending).
 * @internal
 */
export function cancelSignal(method: string, options: CancelOptions | null | undefined): AbortSignal | undefined {
  const { signal, timeout } = checkCancelOptions(method, options);
  const deadline = timeout === undefined ? undefined : AbortSignal.timeout(timeout);
  if (signal === undefined || deadline === undefined) return signal ?? deadline;
  return AbortSignal.any([signal, deadline]);
}

/**
 * Runs `run` (which sends work on `session`) so that `signal` can stop it on the server. For feature modules
 * whose work is not one `execute`-style statement (COPY, server-side cursors): call it once per round trip, with
 * the session given by `_withPlainSession`, e.g. `cancellable(session, signal, () => session.submit(copy, drive))`
 * or, for a stream, around each batch read (an abort between two reads then refuses the next read before it is
 * sent; the cursor is closed by the caller's cleanup as on any error).
 *
 * Contract:
 * - No signal: simply `run()`.
 * - A signal already aborted: rejects with {@link abortedBeforeSending}'s client-side {@link QueryCanceled}
 *   (SQLSTATE 57014) and `run` is not called.
 * - An abort while `run` is pending and the session has work in flight: a cancel request is sent for the
 *   session's backend (see `requestCancel`: the session's later writes are held until the server has handled
 *   it, so the cancel never hits a later statement). The server fails the statement with its own
 *   {@link QueryCanceled}, which `run`'s Promise should report (a submittable's error is mapped by
 *   `PgSession.submit`). The returned Promise settles exactly as `run`'s does: if the work completed before the
 *   cancel arrived, its result stands.
 * - An abort while nothing is in flight (e.g. between two reads): no request is sent (there is nothing to
 *   cancel; the next call sees the aborted signal and refuses).
 * - Never on the database's shared pipelined session (a cancel there could stop another caller's statement):
 *   no request is sent on it. Use a plain session; during the call it must carry only `run`'s work (a
 *   concurrent statement of the caller's own on the same connection or transaction could be the one stopped).
 * - `onAbort`, when given, is called on abort while `run` is pending (after the request was decided): for what
 *   the server cannot see by itself. A COPY FROM STDIN waiting for data notices a cancel only when the next data
 *   arrives (measured on PostgreSQL 15): a COPY helper should end its side there, destroying the COPY stream with
 *   {@link abortedByClient}`("COPY")` (the driver sends CopyFail; `PgSession.submit` reports the caller's error).
 * - The signal's listener is removed when `run` settles.
 */
export function cancellable<T>(session: PgSession, signal: AbortSignal | undefined, run: () => Promise<T>, onAbort?: () => void): Promise<T> {
  if (signal === undefined) return run();
  if (signal.aborted) return Promise.reject(abortedBeforeSending());
  const watch = new AbortWatch(signal, undefined);
  return watched(session, watch, run, onAbort).finally(() => watch.dispose());
}

/**
 * The error for an exchange the client ends itself on abort (see `onAbort` of {@link cancellable}): a
 * client-side {@link QueryCanceled} (57014), like the server's.
 */
export function abortedByClient(what: string): QueryCanceled {
  return new QueryCanceled(`canceling statement: its signal was aborted, so the client ended the ${what}`, { code: "57014" });
}

/**
 * {@link cancellable} with an {@link AbortWatch} (a signal and/or a timeout) that the caller disposes of: for
 * operations made of several round trips under one watch (executeMany's chunks).
 * @internal
 */
export function watched<T>(session: PgSession, watch: AbortWatch, run: () => Promise<T>, onAbort?: () => void): Promise<T> {
  if (watch.aborted) return Promise.reject(abortedBeforeSending());
  let pending = true;
  watch.onAbort(() => {
    if (!pending) return;
    if (!session.pipelined && session.settled() !== undefined) void requestCancel(session);
    onAbort?.();
  });
  const done = run();
  done.then(
    () => (pending = false),
    () => (pending = false),
  );
  return done;
}
