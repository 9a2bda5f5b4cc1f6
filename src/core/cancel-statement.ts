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
import type { StatementResult } from "./statement-result.js";
import { abortedBeforeSending, type AbortWatch } from "./cancel.js";
import { isPipelining, requestCancel } from "./cancel-request.js";
import type { MakeQuery, PgSession } from "./pg-session.js";

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
 *   (the server's {@link QueryCanceled}, or its result if it completed first);
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
