/**
 * Running node-postgres "Submittables" on a plain session: the objects pg-cursor and pg-copy-streams build, which
 * `client.query(submittable)` hands the connection to so that they write their own protocol messages (COPY,
 * portals read in batches). They get a statement's bookkeeping (in flight, socket reference, answer clock, the
 * ReadyForQuery owed after a server error, a broken session on a connection error) and its error mapping.
 *
 * How the end of the exchange is detected: node-postgres calls the active submittable's `handleReadyForQuery`
 * when the server is ready for the next statement after it, and its `handleError` when it failed (a server error,
 * the connection lost). Both are wrapped on the instance, so completion does not depend on each kind's own events
 * (COPY FROM's `finish`, COPY TO's `end`, which comes before the server's last message, a cursor's callbacks).
 * @module
 */
import type { Client, Submittable as PgSubmittable } from "pg";
import { TscopgError, locateError } from "../errors.js";

/** A node-postgres Submittable, with the members node-postgres calls on it and the text it may expose. */
export interface Submittable extends PgSubmittable {
  /** The statement text, when the object exposes it (pg-cursor and pg-copy-streams do). */
  readonly text?: unknown;
  handleReadyForQuery?(...args: unknown[]): unknown;
  handleError?(err: unknown, ...rest: unknown[]): unknown;
}

/** What {@link runSubmittable} needs of the session. @internal */
export interface SubmitHost {
  readonly client: Client;
  /** Counts the submittable in flight. */
  _begin(): void;
  /** Accounts for its answer (`undefined`: success) and returns the driver's error mapped. */
  _answered(err: unknown): TscopgError | undefined;
  /** Closes the connection at once. */
  _cutOff(why: string, code: "ETIMEDOUT" | "ECONNRESET"): void;
}

/** The refusal on a pipelined session (node-postgres 8.23 refuses COPY and cursors in pipeline mode). @internal */
export function submitRefused(shared: boolean): TscopgError {
  return new TscopgError(
    shared
      ? "COPY, cursors and other submittables are refused on the database's shared pipelined connection: use a " +
        "dedicated one (a transaction, a connection)"
      : "COPY, cursors and other submittables are refused while an executeMany batch runs pipelined on this " +
        "connection: await it first",
  );
}

type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Runs `submittable` on `host` and resolves with what `drive(submittable)` resolves with, once both `drive` has
 * settled and the exchange is over.
 *
 * `drive` is called once the submittable is queued, and must take the exchange to its end: end the COPY FROM
 * stream (e.g. `await pipeline(source, stream)`), read the COPY TO stream to its end, read and close the cursor.
 * If it resolves first, the end of the exchange is awaited (a COPY TO stream ends just before the server's last
 * message).
 *
 * Errors: a server error rejects with a {@link DatabaseError} keeping its SQLSTATE and carrying the text as
 * `query`, also when `drive` rejected with the driver's raw error for it (pipeline() does); the session stays
 * usable. An error of `drive`'s own (a failing source stream, a throwing consumer) is re-thrown as it is, after
 * the exchange was ended: a writable stream (COPY FROM) is destroyed, which makes the server fail the COPY
 * (the session stays usable); an object with `close()` (pg-cursor) is closed; anything else still mid-exchange
 * (a COPY TO stream not read to its end) cannot be stopped half-way, so the connection is closed.
 * @internal
 */
export async function runSubmittable<S extends PgSubmittable, R>(
  host: SubmitHost,
  submittable: S,
  drive: (s: S) => R | PromiseLike<R>,
): Promise<R> {
  const s = submittable as unknown as Submittable;
  const onReady = s.handleReadyForQuery;
  const onError = s.handleError;
  if (typeof s.submit !== "function" || typeof onReady !== "function" || typeof onError !== "function") {
    throw new TscopgError("not a node-postgres submittable: submit(), handleReadyForQuery() and handleError() are required");
  }
  let over = false;
  let failure: { raw: unknown; mapped: TscopgError } | undefined;
  let exchangeOver!: () => void;
  const ended = new Promise<void>((resolve) => (exchangeOver = resolve));
  const finish = (err: unknown): void => {
    if (over) return;
    over = true;
    const mapped = host._answered(err);
    if (mapped !== undefined) failure = { raw: err, mapped };
    exchangeOver();
  };
  s.handleReadyForQuery = function (this: unknown, ...args: unknown[]) {
    try {
      return onReady.apply(this, args);
    } finally {
      finish(undefined);
    }
  };
  s.handleError = function (this: unknown, err: unknown, ...rest: unknown[]) {
    finish(err ?? new TscopgError("the driver reported an error without saying which"));
    try {
      return onError.call(this, err, ...rest);
    } catch (thrown) {
      // An 'error' event nobody listens to: the error is reported by the returned Promise instead.
      if (thrown !== err) throw thrown;
      return undefined;
    }
  };

  host._begin();
  try {
    host.client.query(submittable);
  } catch (err) {
    finish(err); // the driver threw before sending anything
    throw failure?.mapped ?? err;
  }
  let outcome: Outcome<R>;
  try {
    outcome = { ok: true, value: await drive(submittable) };
  } catch (error) {
    outcome = { ok: false, error };
    if (!over) abandon(host, s, error);
  }
  await ended;
  const text = typeof s.text === "string" ? s.text : "";
  if (failure !== undefined) {
    // The caller's own failure made the exchange fail (e.g. a source stream's error sent as CopyFail): its error
    // is the one to report.
    if (!outcome.ok && outcome.error !== failure.raw) throw outcome.error;
    throw locateError(failure.mapped, text, runSubmittable);
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

/** Ends an exchange whose driver failed half-way (see {@link runSubmittable}). */
function abandon(host: SubmitHost, s: Submittable, error: unknown): void {
  const obj = s as { destroy?: (e?: Error) => void; destroyed?: boolean; write?: unknown; close?: () => unknown };
  if (typeof obj.write === "function" && typeof obj.destroy === "function") {
    if (!obj.destroyed) obj.destroy(error instanceof Error ? error : new Error(String(error)));
    return;
  }
  if (typeof obj.close === "function") {
    Promise.resolve(obj.close()).catch(() => undefined);
    return;
  }
  host._cutOff(
    "a COPY TO (or other submittable) was abandoned before its end, so the connection was closed: nothing else can " +
      "run on it until the exchange ends",
    "ECONNRESET",
  );
}
