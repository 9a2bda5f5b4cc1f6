/**
 * What a pool reports about itself: counters since it was created, and its state at the moment of asking.
 * @module
 */

/** A pool's statistics (`pool.stats`). */
export interface PoolStats {
  /** The configured sizes. */
  minSize: number;
  maxSize: number;
  /** Connections open (LISTEN listeners not included: see {@link listeners}). */
  size: number;
  /** Open connections with nothing to do (could be lent at once). */
  available: number;
  /** Connections lent to a borrower or running independent statements. */
  inUse: number;
  /** Connections lent to a borrower (a transaction, a connection, COPY, a cursor), being reset included. */
  lent: number;
  /** Independent statements in flight on the shared connections. */
  inFlight: number;
  /** Connections being opened. */
  opening: number;
  /** Calls waiting for a connection. */
  waiting: number;
  /** LISTEN listeners' connections (each kept for one listener, outside `maxSize`). */
  listeners: number;
  /** Calls served (statements given a shared connection, and borrowers). */
  requests: number;
  /** Connections opened since the pool was created. */
  created: number;
  /** Connections closed (recycled, broken, resized away, or at close). */
  closed: number;
  /** Failed connection attempts and connections lost. */
  errors: number;
  /** Calls that gave up waiting (each raised `PoolTimeout`). */
  timeouts: number;
  /** The longest time (ms) a call waited for a connection, served or not. */
  longestWaitMs: number;
}

/** The state part of {@link PoolStats}. */
export type PoolState = Omit<PoolStats, "requests" | "created" | "closed" | "errors" | "timeouts" | "longestWaitMs">;

/** The counting part of {@link PoolStats}. */
export class PoolCounters {
  requests = 0;
  created = 0;
  closed = 0;
  errors = 0;
  timeouts = 0;

  /** The counters with `state` and the longest wait. */
  stats(state: PoolState, longestWaitMs: number): PoolStats {
    const { requests, created, closed, errors, timeouts } = this;
    return { ...state, requests, created, closed, errors, timeouts, longestWaitMs: Math.round(longestWaitMs) };
  }
}
