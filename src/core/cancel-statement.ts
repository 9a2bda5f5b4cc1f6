/**
 * One statement that an abort can stop, precisely: the query methods' path when a `signal` or `timeout` is given.
 *
 * Precision: a cancel request stops whatever the backend runs when it arrives, so it is only sent while this
 * statement is the one running on a session that is not pipelining (`statementOn` tracks when the driver hands
 * it to the connection and when its answer is in). A statement still queued behind others of the same session is
 * dropped from the queue instead (nothing is sent; it rejects at once). The database's shared pipelined
 * connection runs many callers' statements back to back, so the query methods never run a cancellable statement
 * there: they take a dedicated session for it (see `Queryable`).
 * @module
 */
import pg from "pg";
import { boundStatement } from "../sql/encode.js";
import type { QueryParams } from "../sql/placeholders.js";
import type { ExecuteOptions } from "./api.js";
import type { StatementResult } from "./statement-result.js";
import { abortedBeforeSending, watchAbort, type AbortWatch } from "./cancel.js";
import { isPipelining, requestCancel } from "./cancel-request.js";
import { PgSession, type MakeQuery } from "./pg-session.js";

/** node-postgres' own query object for `{ text, values }` (what `client.query(config, callback)` builds). */
const driverQuery: MakeQuery = (config, callback) =>
  new pg.Query({ text: config.text, values: config.values } as pg.QueryConfig, undefined, callback as never) as unknown as pg.Submittable;

/** What the driver's query object is given when it becomes the active one. */
type SubmitFn = (connection: unknown) => Error | undefined;

/**
 * Runs a statement on `session` (like `session.query(text, values, pick, make)`) under `watch`:
 * - aborted before it is sent (still queued behind the session's other statements): dropped from the queue
 *   (the driver skips it when its turn comes) and rejected at once with {@link abortedBeforeSending};
 * - aborted while it runs: a cancel request (see `requestCancel`); the Promise settles as the statement does
 *   (the server's `QueryCanceled`, or its result if it completed first);
 * - aborted after its answer came: nothing.
 * On a session that is pipelining (a plain connection while an `executeMany` batch runs on it), the statement
 * that is running cannot be told apart, so no request is sent: the statement runs to its end.
 * @internal
 */
export function statementOn<T>(
  session: PgSession,
  watch: AbortWatch,
  text: string,
  values: unknown[] | undefined,
  pick: (r: StatementResult) => T,
  make: MakeQuery = driverQuery,
): Promise<T> {
  if (watch.aborted) return Promise.reject(abortedBeforeSending());
  let sent = false;
  let answered = false;
  let dropped = false;
  const tracked: MakeQuery = (config, callback) => {
    const query = make(config, (err, res) => {
      answered = true;
      callback(err, res);
    }) as unknown as { submit: SubmitFn };
    const submit = query.submit;
    query.submit = function (this: unknown, connection: unknown) {
      // A plain Error (not a server error): the driver reports it through the callback without expecting a
      // ReadyForQuery, and goes on with the next statement. Nobody sees it (the caller already got its error).
      if (dropped) return new Error("statement dropped from the queue: its signal aborted");
      sent = true;
      return submit.call(this, connection);
    };
    return query as unknown as pg.Submittable;
  };
  const result = session.query(text, values, pick, tracked);
  return new Promise<T>((resolve, reject) => {
    result.then(resolve, reject);
    watch.onAbort(() => {
      if (answered) return;
      if (!sent) {
        dropped = true;
        reject(abortedBeforeSending());
      } else if (!isPipelining(session)) {
        void requestCancel(session);
      }
    });
  });
}

/** The seams of an executor that {@link runCancellable} uses (see `Queryable`). */
interface Executor {
  _sessionFor(options: ExecuteOptions | undefined, sql: string): PgSession | Promise<PgSession>;
  _withOwnSession<T>(fn: (session: PgSession) => Promise<T>): Promise<T>;
}

/**
 * The query methods' path for a statement with a `signal` or a `timeout` (the same checks, session and errors as
 * the plain path, then {@link statementOn}). On the database's shared pipelined connection a cancel request could
 * stop another caller's statement, so such a statement runs on a dedicated session instead (as `autocommit`
 * statements do; inside a transaction, on its session as usual). An abort while the session is not at hand yet
 * (waiting for a free connection, a `BEGIN`, a savepoint beneath) rejects at once; the statement is then never
 * sent.
 * @internal
 */
export function runCancellable<T>(
  executor: Executor,
  sql: string,
  params: QueryParams | null | undefined,
  options: ExecuteOptions,
  pick: (r: StatementResult) => T,
  make?: MakeQuery,
): Promise<T> {
  let watch: AbortWatch;
  let text: string;
  let values: unknown[] | undefined;
  let session: PgSession | Promise<PgSession>;
  try {
    ({ text, values } = boundStatement(sql, params));
    watch = watchAbort(undefined, options)!;
  } catch (err) {
    return Promise.reject(err);
  }
  try {
    session = executor._sessionFor(options, sql);
  } catch (err) {
    watch.dispose();
    return Promise.reject(err);
  }
  let reached = false;
  const on = (s: PgSession): Promise<T> => {
    reached = true;
    return statementOn(s, watch, text, values, pick, make);
  };
  const run = (s: PgSession): Promise<T> => (s.pipelined ? executor._withOwnSession(on) : on(s));
  // Sent in the same tick when the session is at hand, as the plain path does (statements keep the calls' order).
  const work = session instanceof PgSession ? run(session) : session.then(run);
  return new Promise<T>((resolve, reject) => {
    work.then(resolve, reject);
    watch.onAbort(() => {
      if (!reached) reject(abortedBeforeSending());
    });
  }).finally(() => watch.dispose());
}
