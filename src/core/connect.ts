/**
 * Opening a server connection: one attempt per host ({@link connectOnce}), failover across the configured hosts
 * and rounds with back-off ({@link connectClient}), and the classification of what went wrong.
 *
 * Like libpq, an attempt that fails for any reason moves on to the next host. Only when every host failed does
 * the round's outcome decide whether another round is worthwhile: only if some host failed at the connection level
 * (refused, reset, SQLSTATE class 08 or 57P01–57P03). Authentication and other server-reported errors, and
 * attempts that timed out (they already waited their full time), do not earn another round.
 *
 * `targetSessionAttrs` (see `target-session.ts`): a host that accepts but is not the kind wanted is closed and the
 * next one tried, like libpq; such a host is not a connection-level failure, so it earns no round by itself.
 * `prefer-standby` keeps the first host that accepted (a primary) open while it looks for a standby, and uses it
 * when no host is one (libpq reconnects to the first host that accepts instead: the same host, one connection
 * less). The check runs within the attempt's `connectTimeout`, like libpq's.
 *
 * A password function (`Config.password`) is called by the driver when a server asks for the password, once per
 * attempt; if it throws (or returns no string), connecting stops there with a `ConnectionError` whose `cause` is
 * its error: no other host or round is tried, since the function, not a host, failed.
 *
 * With `Config.pooler` set, nothing tscopg adds on its own goes into the start-up packet (no
 * `client_connection_check_interval`: PgBouncer refuses start-up parameters it does not know).
 * @module
 */
import pg from "pg";
import type { Client } from "pg";
import type { Config } from "../config.js";
import { displayHost } from "../config/url.js";
import {
  ConnectionError,
  DRIVER_CONNECT_TIMEOUT,
  DRIVER_CONNECTION_LOST,
  UNREACHABLE_ERRNOS,
  isConnectionLevelCode,
  redactSecrets,
  toTscopgError,
} from "../errors.js";
import { typeParsers } from "../sql/values.js";
import { mismatch, reportedState, type ServerRole } from "./target-session.js";

export type { ServerRole } from "./target-session.js";

/** Options for opening a session. */
export interface OpenOptions {
  /** Use node-postgres pipeline mode (independent statements; no COPY, no cursors). */
  pipeline: boolean;
  /**
   * Rounds over the configured hosts when connection-level failures (not authentication errors, not timeouts)
   * are all that stood in the way. Default 3.
   */
  attempts?: number | undefined;
  /** First back-off delay in ms between rounds, doubled after each round. Default 100. */
  backoffMs?: number | undefined;
}

/** What can hold the event loop open, and be torn down: a socket. */
export interface Refable {
  ref?(): unknown;
  unref?(): unknown;
  destroy?(error?: Error): unknown;
}

/** Sockets corked until the next tick. */
const corked = new WeakSet<object>();

/**
 * Holds a socket's writes until the next tick: the statements pipelined in this tick (many callers resumed at once)
 * leave in one write instead of one per statement.
 */
export function corkUntilNextTick(socket: Refable): void {
  const stream = socket as { cork?(): void; uncork?(): void };
  if (corked.has(stream) || stream.cork === undefined || stream.uncork === undefined) return;
  corked.add(stream);
  stream.cork();
  process.nextTick(() => {
    corked.delete(stream);
    stream.uncork!();
  });
}

/** The driver's socket (after a TLS upgrade, the TLS socket wrapping the raw one). */
export function streamOf(client: Client): Refable {
  return (client as unknown as { connection: { stream: Refable } }).connection.stream;
}

/**
 * How often (ms) the server checks, during a long statement, whether the client is still there. A process that
 * dies in the middle of a statement (Ctrl-C during a blocking sync call, a crash, `kill`) closes its sockets,
 * and the server then cancels the statement within this time instead of running it to the end.
 */
const DISCONNECT_CHECK_MS = 1000;
/** Configurations whose server refused `client_connection_check_interval` (PostgreSQL < 14). */
const noDisconnectCheck = new WeakSet<Config>();

/**
 * Adds `-c client_connection_check_interval=…` to the start-up options (PostgreSQL ≥ 14), unless the
 * configuration sets it itself or its server refused it before.
 */
function withDisconnectCheck(config: Config, params: pg.ClientConfig): pg.ClientConfig {
  if (config.pooler !== null) return params; // a pooler refuses the start-up options it does not track
  if (noDisconnectCheck.has(config) || config.options.client_connection_check_interval !== undefined) return params;
  const words = [params.options, `-c client_connection_check_interval=${DISCONNECT_CHECK_MS}`].filter(Boolean);
  return { ...params, options: words.join(" ") };
}

/**
 * A connected driver client, its raw socket (before a TLS upgrade wrapped it), and what is known of its server.
 *
 * `role` and `readOnly` describe the server when the connection was made (a standby promoted later still reads
 * `standby` here). PostgreSQL 14+ reports both at start-up (`in_hot_standby`, `default_transaction_read_only`), so
 * on those servers they are always set, at no cost. An older server tells only what `targetSessionAttrs` made
 * tscopg ask: `role` for `primary` / `standby` / `prefer-standby`, `readOnly` for `read-write` / `read-only`.
 * (The pool does not need them: its read routing asks each host for a standby, `targetSessionAttrs: "standby"`.)
 */
export interface Connected {
  client: Client;
  socket: Refable;
  /** `standby` when the server was in recovery (a hot standby), `primary` otherwise; `undefined` when unknown. */
  role?: ServerRole | undefined;
  /** Whether the session was read-only (a standby, or `default_transaction_read_only = on`); `undefined` when unknown. */
  readOnly?: boolean | undefined;
}

/** The password function failed (or gave no string): connecting stops, whatever the other hosts would do. */
class PasswordFunctionFailed extends Error {
  constructor(readonly raw: unknown) {
    super(`the password function failed: ${raw instanceof Error ? raw.message : String(raw)}`);
  }
}

/** The password for one attempt: the string, or a wrapper of the function that records its failure and its result. */
function passwordOf(config: Config, tokens: string[], failed: (err: unknown) => void): string | (() => Promise<string>) {
  const source = config.password;
  if (typeof source === "string") return source;
  return async () => {
    try {
      const value: unknown = await source();
      if (typeof value !== "string") throw new TypeError(`the password function returned ${value === null ? "null" : typeof value}, not a string`);
      if (value.includes("\0")) throw new TypeError("the password function returned a password containing a NUL character");
      tokens.push(value);
      return value;
    } catch (err) {
      failed(err);
      throw err;
    }
  };
}

/** Rejects with node-postgres's own timeout error when `promise` takes longer than `ms` (0 = no limit). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  if (!(ms > 0)) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(DRIVER_CONNECT_TIMEOUT)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An attempt's outcome: connected (and whether the server matched), or why it failed. */
type Attempt = { connected: Connected; mismatch: string | undefined } | { failure: HostFailure };

/**
 * One connection attempt to one host (again without the disconnect check if the server does not know it), then
 * the `targetSessionAttrs` check within the same connect timeout. A mismatching connection is returned open.
 * @throws PasswordFunctionFailed when the password function failed.
 */
async function connectOnce(config: Config, base: pg.ClientConfig, pipeline: boolean, tokens: string[]): Promise<Attempt> {
  const started = performance.now();
  const params = withDisconnectCheck(config, base);
  let passwordError: { err: unknown } | undefined;
  const password = passwordOf(config, tokens, (err) => (passwordError = { err }));
  const client = new pg.Client({ ...params, password, pipeline, types: typeParsers } as pg.ClientConfig);
  client.on("error", () => {});
  // The raw socket, before a TLS upgrade wraps it: its handle is what keeps the event loop alive.
  const socket = streamOf(client);
  const status = new Map<string, string>();
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  connection.on("parameterStatus", (msg: { parameterName: string; parameterValue: string }) => {
    status.set(msg.parameterName, msg.parameterValue);
  });
  try {
    await client.connect();
  } catch (err) {
    client.end().catch(() => {});
    if (passwordError !== undefined) throw new PasswordFunctionFailed(passwordError.err);
    const e = err as { code?: unknown; message?: unknown };
    if (params !== base && e.code === "42704" && /client_connection_check_interval/.test(String(e.message))) {
      // A server older than PostgreSQL 14 does not know the setting: connect without it from now on.
      noDisconnectCheck.add(config);
      return connectOnce(config, base, pipeline, tokens);
    }
    return { failure: describeFailure(base, err) };
  }
  const state = reportedState(status);
  try {
    const left = (base.connectionTimeoutMillis ?? 0) - (performance.now() - started);
    const wrong = await within(mismatch(client, state, config.targetSessionAttrs), base.connectionTimeoutMillis ? Math.max(1, left) : 0);
    return { connected: { client, socket, role: state.role, readOnly: state.readOnly }, mismatch: wrong };
  } catch (err) {
    socket.destroy?.();
    client.end().catch(() => {});
    return { failure: describeFailure(base, err) };
  }
}

/**
 * Why an attempt failed: `retryable` (the connection failed; a new one may succeed), `timeout` (no answer within
 * the connect timeout, or the operating system gave up) or `fatal` (authentication, a server-reported error such
 * as 3D000 or 53300, TLS, …).
 */
export type ConnectFailureKind = "retryable" | "timeout" | "fatal";

/** How a host failed in a round: one of {@link ConnectFailureKind}, or `mismatch` (it is not the kind of server wanted). */
type HostFailureKind = ConnectFailureKind | "mismatch";

/**
 * Classifies a raw error from `client.connect()`, before it is wrapped: by SQLSTATE, socket errno, and the driver's
 * own fixed messages compared whole — never by searching the text (which may contain names chosen by the user).
 */
export function classifyConnectError(err: unknown): ConnectFailureKind {
  const e = (err ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) return isConnectionLevelCode(code) ? "retryable" : "fatal";
  if (code === "ETIMEDOUT") return "timeout";
  if (code !== undefined && UNREACHABLE_ERRNOS.has(code)) return "retryable";
  if (code === undefined && err instanceof Error) {
    if (e.message === DRIVER_CONNECT_TIMEOUT) return "timeout";
    if (DRIVER_CONNECTION_LOST.has(err.message)) return "retryable";
  }
  return "fatal";
}

/** One host's failed attempt. */
interface HostFailure {
  /** `host:port` as shown in messages. */
  where: string;
  kind: HostFailureKind;
  /** The raw driver error. */
  raw: unknown;
  /** Why, for the message (secrets scrubbed). */
  reason: string;
  /** The server's SQLSTATE, if it sent one. */
  code: string | undefined;
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

function describeFailure(params: pg.ClientConfig, raw: unknown): HostFailure {
  const kind = classifyConnectError(raw);
  const mapped = toTscopgError(raw);
  const code = (mapped as { code?: string }).code;
  let reason = mapped.message;
  if (kind === "timeout" && reason === DRIVER_CONNECT_TIMEOUT) {
    reason = `timeout expired (no answer within ${(params.connectionTimeoutMillis ?? 0) / 1000} s, connectTimeout)`;
  }
  return { where: `${displayHost(String(params.host))}:${params.port}`, kind, raw, reason, code };
}

/**
 * The error after every host failed. It names each host and why it failed; its `code` (and `cause`) come from the
 * most meaningful failure: the first one the server reported with a SQLSTATE that is not merely connection-level
 * (authentication, 3D000, 53300, …), else the first one with any SQLSTATE, else the first failure.
 */
function finalError(config: Config, failures: HostFailure[], secrets: string[]): ConnectionError {
  const main =
    failures.find((f) => f.code !== undefined && !isConnectionLevelCode(f.code)) ??
    failures.find((f) => f.code !== undefined) ??
    failures[0]!;
  const hosts = failures.map((f) => f.where).join(",");
  const why = failures.length === 1 ? main.reason : failures.map((f) => `${f.where}: ${f.reason}`).join("; ");
  const message = `could not connect to ${config.user}@${hosts}/${config.database}: ${why}`;
  return new ConnectionError(redactSecrets(message, secrets), { cause: main.raw, code: main.code });
}

/** The passwords an error message must not show: the Config's, the password function's results, `sslpassword`. */
function secretsOf(config: Config, tokens: string[]): string[] {
  return [...(typeof config.password === "string" ? [config.password] : []), ...tokens, ...(config.options.sslpassword ? [config.options.sslpassword] : [])];
}

/** A host that accepted but is not the kind wanted, as a failure of the round. */
function mismatchFailure(params: pg.ClientConfig, reason: string): HostFailure {
  return { where: `${displayHost(String(params.host))}:${params.port}`, kind: "mismatch", raw: undefined, reason, code: undefined };
}

const close = (c: Connected | undefined) => c?.client.end().catch(() => {});

/**
 * Connects to the first host that accepts and matches `targetSessionAttrs`, in the configured order; see the module
 * description for the rules. The result tells which kind of server it reached when known ({@link Connected}).
 * @throws ConnectionError naming every host and why it failed (or did not match).
 */
export async function connectClient(config: Config, options: OpenOptions): Promise<Connected> {
  const rounds = Math.max(1, options.attempts ?? 3);
  let delay = options.backoffMs ?? 100;
  const hosts = config.connectParamsList();
  const preferStandby = config.targetSessionAttrs === "prefer-standby";
  const tokens: string[] = [];
  for (let round = 1; ; round++) {
    const failures: HostFailure[] = [];
    /** prefer-standby: the first host that accepted, used when no host is a standby. */
    let fallback: Connected | undefined;
    for (const params of hosts) {
      let attempt: Attempt;
      try {
        attempt = await connectOnce(config, params, options.pipeline, tokens);
      } catch (err) {
        void close(fallback);
        if (!(err instanceof PasswordFunctionFailed)) throw err;
        const message = `could not connect to ${config.user}@${displayHost(String(params.host))}:${params.port}/${config.database}: ${err.message}`;
        throw new ConnectionError(redactSecrets(message, secretsOf(config, tokens)), { cause: err.raw });
      }
      if ("failure" in attempt) {
        failures.push(attempt.failure);
      } else if (attempt.mismatch === undefined) {
        void close(fallback);
        return attempt.connected;
      } else if (preferStandby && fallback === undefined) {
        fallback = attempt.connected;
      } else {
        void close(attempt.connected);
        failures.push(mismatchFailure(params, attempt.mismatch));
      }
    }
    if (fallback !== undefined) return fallback;
    if (round >= rounds || !failures.some((f) => f.kind === "retryable")) throw finalError(config, failures, secretsOf(config, tokens));
    await sleep(delay);
    delay *= 2;
  }
}
