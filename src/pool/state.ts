/**
 * Words for a pool's state (in its timeout errors) and the classification of connection failures it retries.
 * @module
 */
import { isConnectionLevelCode, UNREACHABLE_ERRNOS } from "../errors.js";
import type { PoolStats } from "./stats.js";

/** The pool's state in words, e.g. for a `PoolTimeout`: sizes, what the connections do, who waits. */
export function describePool(s: PoolStats, stalledMs: number): string {
  const shared = s.size - s.lent;
  const parts = [
    `${s.size} of at most ${s.maxSize} connections open (min ${s.minSize})`,
    `${s.lent} lent to transactions, connections, COPY or cursors`,
    `${shared} running ${s.inFlight} independent statement(s)` +
      (stalledMs > 0 ? ` (one connection has not answered for ${(stalledMs / 1000).toFixed(1)} s)` : ""),
    `${s.opening} being opened`,
  ];
  return `${parts.join(", ")}; ${s.waiting} other call(s) waiting`;
}

/**
 * Whether a failure to open a connection may pass by itself (the server is restarting, unreachable, or full), so
 * that the pool keeps trying; not for authentication, a missing database, TLS or configuration errors.
 */
export function isTransientConnectError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") {
    const cause = (err as { cause?: { code?: unknown } }).cause;
    const errno = typeof cause?.code === "string" ? cause.code : undefined;
    return errno === undefined || UNREACHABLE_ERRNOS.has(errno) || errno === "ETIMEDOUT";
  }
  return isConnectionLevelCode(code) || code === "53300" || code === "57P03";
}
