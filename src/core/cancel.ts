/**
 * Cancellation: an `AbortSignal` that stops a statement on the server (a real cancel request), not only the
 * Promise. (Stub: issue 15's cancellation helper implements it; the other modules call {@link cancellable}.)
 * @module
 */
import { TscopgError } from "../errors.js";
import type { PgSession } from "./pg-session.js";

/**
 * Runs `run` (which sends work on `session`); if `signal` aborts before it settles, the server is asked to cancel
 * what `session` runs, and the Promise rejects with a `QueryCanceled`-family error. A signal already aborted
 * rejects before `run` is called. Without a signal, simply `run()`.
 */
export function cancellable<T>(session: PgSession, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  void session;
  if (signal?.aborted) return Promise.reject(new TscopgError("the operation was aborted before it started"));
  return run();
}
