/**
 * Opening a server connection: one attempt per host ({@link connectOnce}), failover across the configured hosts
 * and rounds with back-off ({@link connectClient}), and the classification of what went wrong.
 *
 * Like libpq, an attempt that fails for any reason moves on to the next host. Only when every host failed does
 * the round's outcome decide whether another round is worthwhile: only if some host failed at the connection level
 * (refused, reset, SQLSTATE class 08 or 57P01–57P03). Authentication and other server-reported errors, and
 * attempts that timed out (they already waited their full time), do not earn another round.
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
  if (noDisconnectCheck.has(config) || config.options.client_connection_check_interval !== undefined) return params;
  const words = [params.options, `-c client_connection_check_interval=${DISCONNECT_CHECK_MS}`].filter(Boolean);
  return { ...params, options: words.join(" ") };
}

/** A connected driver client and its raw socket (before a TLS upgrade wrapped it). */
export interface Connected {
  client: Client;
  socket: Refable;
}

/** One connection attempt to one host (again without the disconnect check if the server does not know it). */
async function connectOnce(config: Config, base: pg.ClientConfig, pipeline: boolean): Promise<Connected> {
  const params = withDisconnectCheck(config, base);
  const client = new pg.Client({ ...params, password: config.password, pipeline, types: typeParsers } as pg.ClientConfig);
  client.on("error", () => {});
  // The raw socket, before a TLS upgrade wraps it: its handle is what keeps the event loop alive.
  const socket = streamOf(client);
  try {
    await client.connect();
  } catch (err) {
    client.end().catch(() => {});
    const e = err as { code?: unknown; message?: unknown };
    if (params !== base && e.code === "42704" && /client_connection_check_interval/.test(String(e.message))) {
      // A server older than PostgreSQL 14 does not know the setting: connect without it from now on.
      noDisconnectCheck.add(config);
      return connectOnce(config, base, pipeline);
    }
    throw err;
  }
  return { client, socket };
}

/**
 * Why an attempt failed: `retryable` (the connection failed; a new one may succeed), `timeout` (no answer within
 * the connect timeout, or the operating system gave up) or `fatal` (authentication, a server-reported error such
 * as 3D000 or 53300, TLS, …).
 */
export type ConnectFailureKind = "retryable" | "timeout" | "fatal";

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
  kind: ConnectFailureKind;
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
function finalError(config: Config, failures: HostFailure[]): ConnectionError {
  const main =
    failures.find((f) => f.code !== undefined && !isConnectionLevelCode(f.code)) ??
    failures.find((f) => f.code !== undefined) ??
    failures[0]!;
  const hosts = failures.map((f) => f.where).join(",");
  const why = failures.length === 1 ? main.reason : failures.map((f) => `${f.where}: ${f.reason}`).join("; ");
  const message = `could not connect to ${config.user}@${hosts}/${config.database}: ${why}`;
  return new ConnectionError(redactSecrets(message, [config.password, config.options.sslpassword]), { cause: main.raw, code: main.code });
}

/**
 * Connects to the first host that accepts, in the configured order; see the module description for the rules.
 * @throws ConnectionError naming every host and why it failed.
 */
export async function connectClient(config: Config, options: OpenOptions): Promise<Connected> {
  const rounds = Math.max(1, options.attempts ?? 3);
  let delay = options.backoffMs ?? 100;
  const hosts = config.connectParamsList();
  for (let round = 1; ; round++) {
    const failures: HostFailure[] = [];
    for (const params of hosts) {
      try {
        return await connectOnce(config, params, options.pipeline);
      } catch (err) {
        failures.push(describeFailure(params, err));
      }
    }
    if (round >= rounds || !failures.some((f) => f.kind === "retryable")) throw finalError(config, failures);
    await sleep(delay);
    delay *= 2;
  }
}
