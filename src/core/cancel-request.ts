/**
 * The cancel request: PostgreSQL stops a running statement when asked on a NEW connection to the same server
 * (a 16-byte CancelRequest carrying the backend's process id and secret key, sent instead of a start-up
 * message; the server answers nothing and closes the socket). {@link requestCancel} sends one for a session and,
 * until the server has closed that socket, holds back everything the session would write: see its TSDoc for why.
 * @module
 */
import type { Writable } from "node:stream";
import pg from "pg";
import type { Client } from "pg";
import { streamOf } from "./connect.js";
import type { PgSession } from "./pg-session.js";

/** How long a cancel request may take (connect, TLS, send, the server closing) when no connect timeout is set. */
const DEFAULT_CANCEL_LIMIT_MS = 10_000;

/** What the driver's client knows about its connection (node-postgres 8.23 fields). */
interface ClientInternals {
  processID: number | null;
  secretKey: number | null;
  host: string;
  port: number;
  _connectionTimeoutMillis?: number;
  connection: { ssl: unknown; sslNegotiation?: string };
}

/** The driver's protocol connection, as used here (node-postgres 8.23's `Connection`, untyped in @types/pg). */
interface RawConnection extends NodeJS.EventEmitter {
  readonly stream: { destroy(): void };
  connect(portOrPath: number | string, host?: string): void;
  requestSsl(): void;
  cancel(processID: number, secretKey: number): void;
}
type RawConnectionClass = new (config: { ssl: unknown; sslNegotiation: string | undefined }) => RawConnection;

/**
 * Sends one CancelRequest for `client`'s backend on a new short-lived socket to the host and port `client` is
 * connected to, with its TLS settings (the same `ssl` options, certificate checks and negotiation, so a server
 * that accepts only TLS gets it); a Unix-domain socket for a socket directory. Resolves once the socket is
 * closed (the server closes it after it has signalled the backend), or failed, or after the connect timeout
 * (10 s when none is set); never rejects: a cancel that could not be delivered leaves the statement running
 * to its end, which is what its caller then reports.
 */
export function sendCancelRequest(client: Client): Promise<void> {
  const c = client as unknown as ClientInternals;
  const { processID, secretKey } = c;
  if (processID === null || secretKey === null) return Promise.resolve();
  const ssl = c.connection.ssl;
  const negotiation = c.connection.sslNegotiation;
  const con = new (pg.Connection as unknown as RawConnectionClass)({ ssl, sslNegotiation: negotiation });
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      con.stream.destroy();
      resolve();
    };
    const limit = c._connectionTimeoutMillis || DEFAULT_CANCEL_LIMIT_MS;
    const timer = setTimeout(finish, limit);
    timer.unref();
    con.once("connect", () => {
      if (!ssl) con.cancel(processID, secretKey);
      else if (negotiation !== "direct") con.requestSsl(); // then 'sslconnect' once upgraded
    });
    con.once("sslconnect", () => con.cancel(processID, secretKey));
    con.on("error", () => undefined); // a failed socket closes too: 'end' follows
    con.once("end", finish);
    try {
      if (c.host.startsWith("/")) con.connect(`${c.host}/.s.PGSQL.${c.port}`);
      else con.connect(c.port, c.host);
    } catch {
      finish();
    }
  });
}

/** Cancel requests under way, by session: at most one at a time per session. */
const pending = new WeakMap<PgSession, Promise<void>>();

/**
 * Asks the server to cancel what `session`'s backend runs now, and resolves when that is done (see
 * {@link sendCancelRequest}). The caller must have established that the statement to stop is the one running
 * (nothing written after it: a plain session that is not pipelining).
 *
 * The classic race, and how it is closed: the server cancels whatever the backend runs when the request
 * arrives, which may be a later statement if the one meant finished meanwhile and the client sent the next. So
 * from the moment the request is decided until the server has closed the cancel socket (it signals the backend
 * before closing it), the session's socket is corked: whatever the session would send next (a queued
 * statement, a `ROLLBACK`, the idle cache's reset) is held in memory and only written afterwards. A signal that
 * reaches an idle backend (waiting for the next command) is ignored by PostgreSQL, so the next statement runs
 * normally. psycopg and postgres.js also wait for the cancel connection to close before going on.
 */
export function requestCancel(session: PgSession): Promise<void> {
  const under = pending.get(session);
  if (under !== undefined) return under;
  const stream = streamOf(session.client) as unknown as Writable;
  stream.cork();
  const done = sendCancelRequest(session.client).finally(() => {
    pending.delete(session);
    stream.uncork();
  });
  pending.set(session, done);
  return done;
}

/** Whether the session's driver writes statements back to back now (the shared connection, an executeMany batch). */
export function isPipelining(session: PgSession): boolean {
  return session.pipelined || (session.client as unknown as { pipeline: boolean }).pipeline;
}
