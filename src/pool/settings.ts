/**
 * The options of a connection pool, as pycopg names them (sizes in connections, times in seconds), checked once
 * and turned into the settings the pool runs on (times in milliseconds).
 * @module
 */
import { ConfigurationError } from "../errors.js";
import { checkOptions, type OptionKind } from "../core/options.js";

/** What happened outside any caller's call: a connection could not be opened, or one broke while idle. */
export interface PoolErrorEvent {
  /** `connect`: opening a connection failed; `broken`: an open connection was lost. */
  kind: "connect" | "broken";
  /** A `ConnectionError` saying why. */
  error: Error;
}

/** Sizes, times and hooks of a pool. Times are in seconds, as in pycopg. */
export interface PoolSettingsInit {
  /** Connections opened by {@link AsyncPooledDatabase.open} and kept open. Default 2. */
  minSize?: number | undefined;
  /** Most server connections open at once (LISTEN listeners aside). Default 10 (and at least `minSize`). */
  maxSize?: number | undefined;
  /** Seconds a connection beyond `minSize` may stay unused before it is closed. Default 300. */
  maxIdle?: number | undefined;
  /** Seconds after which a connection is replaced (±5 % so that they do not all go at once). Default 3600. */
  maxLifetime?: number | undefined;
  /**
   * Seconds a call may wait before it starts: for a free connection (transactions, `connect()`, COPY, cursors), or,
   * for an independent statement, for a connection it can be pipelined on without queueing behind a statement that
   * is taking long. It covers the whole wait: queue, connect, TLS and authentication. Then {@link PoolTimeout},
   * naming the pool's state. Default 30.
   */
  timeout?: number | undefined;
  /** Connections opened at the same time. Default 3. */
  numWorkers?: number | undefined;
  /**
   * Seconds the pool keeps trying to open its `minSize` connections when the server cannot be reached, before it
   * calls {@link reconnectFailed} (it goes on trying, more slowly). Default 300.
   */
  reconnectTimeout?: number | undefined;
  /**
   * Called once when the pool could not reach `minSize` connections within {@link reconnectTimeout}, with the last
   * connection error (pycopg passes the pool itself: here it is in your closure, and the event crosses to the
   * synchronous pool's thread the same way).
   */
  reconnectFailed?: ((event: { error: Error | undefined }) => void) | undefined;
  /**
   * Called for errors no caller sees (a connection that failed to open in the background, or broke while idle):
   * they are never left unhandled, and are counted in `stats.errors`. The synchronous pool calls it on its own
   * thread, during the next blocking call (its worker records the events).
   */
  onError?: ((event: PoolErrorEvent) => void) | undefined;
  /**
   * Independent statements pipelined on one connection before the next one is used (fewer when the server is slow
   * to answer each: then they spread so that a pipeline drains in a few milliseconds). Default 1024.
   */
  pipelineDepth?: number | undefined;
}

/** The settings the pool runs on. */
export interface PoolSettings {
  minSize: number;
  maxSize: number;
  maxIdleMs: number;
  maxLifetimeMs: number;
  timeoutMs: number;
  numWorkers: number;
  reconnectTimeoutMs: number;
  reconnectFailed: ((event: { error: Error | undefined }) => void) | undefined;
  onError: ((event: PoolErrorEvent) => void) | undefined;
  pipelineDepth: number;
  /** Waiting calls fail at once when a connection cannot be opened and none is open (a standby's pool). */
  failFast?: boolean | undefined;
}

/** The option keys of a pool and their kinds. */
export const POOL_OPTIONS = {
  minSize: "number",
  maxSize: "number",
  maxIdle: "number",
  maxLifetime: "number",
  timeout: "number",
  numWorkers: "number",
  reconnectTimeout: "number",
  reconnectFailed: "function",
  onError: "function",
  pipelineDepth: "number",
} as const satisfies Record<string, OptionKind>;

function count(value: number | undefined, fallback: number, name: string, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new ConfigurationError(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  return v;
}

/**
 * Seconds (`value`, else `fallback`) as milliseconds.
 * @throws `Err` (ConfigurationError for options, ParameterError for a method's argument) unless a number ≥ 0.
 */
export function seconds(
  value: number | undefined,
  fallback: number,
  name: string,
  Err: new (message: string) => Error = ConfigurationError,
): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new Err(`${name} must be a number of seconds ≥ 0, got ${String(value)}`);
  return Math.round(v * 1000);
}

/**
 * Checks a pool's options (`extra`: the keys other handle options add) and returns its settings.
 * @throws ParameterError for an unknown key or a value of the wrong type; ConfigurationError for a value out of range.
 */
export function poolSettings(init: PoolSettingsInit, extra: Record<string, OptionKind> = {}): PoolSettings {
  checkOptions("pool", init, { ...POOL_OPTIONS, ...extra });
  const minSize = init.minSize ?? 2;
  const maxSize = init.maxSize ?? Math.max(10, Number.isInteger(minSize) ? minSize : 0);
  checkSizes(minSize, maxSize);
  return {
    minSize,
    maxSize,
    maxIdleMs: seconds(init.maxIdle, 300, "maxIdle"),
    maxLifetimeMs: seconds(init.maxLifetime, 3600, "maxLifetime"),
    timeoutMs: seconds(init.timeout, 30, "timeout"),
    numWorkers: count(init.numWorkers, 3, "numWorkers", 1),
    reconnectTimeoutMs: seconds(init.reconnectTimeout, 300, "reconnectTimeout"),
    reconnectFailed: init.reconnectFailed,
    onError: init.onError,
    pipelineDepth: count(init.pipelineDepth, 1024, "pipelineDepth", 1),
  };
}

/** @throws ConfigurationError unless 0 ≤ minSize ≤ maxSize and maxSize ≥ 1. */
export function checkSizes(minSize: number, maxSize: number): void {
  for (const [name, v] of [["minSize", minSize], ["maxSize", maxSize]] as const) {
    if (!Number.isInteger(v) || v < (name === "maxSize" ? 1 : 0)) {
      throw new ConfigurationError(`${name} must be an integer ≥ ${name === "maxSize" ? 1 : 0}, got ${String(v)}`);
    }
  }
  if (minSize > maxSize) throw new ConfigurationError(`minSize (${minSize}) must not exceed maxSize (${maxSize})`);
}
