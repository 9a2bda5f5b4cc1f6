/**
 * Opening a pool's connections: at most `numWorkers` at a time, one round over the configured hosts per attempt,
 * and after a failure an exponential pause before the next attempt (100 ms doubling up to 10 s), so that a server
 * that is down is not hammered. It also keeps what the pool reports about failures: the last error, and since when
 * attempts have failed (for `reconnectTimeout`).
 * @module
 */
import type { Config } from "../config.js";
import { ConnectionError } from "../errors.js";
import { PgSession } from "../core/pg-session.js";

/** Longest pause (ms) between attempts while connections cannot be opened. */
const MAX_BACKOFF_MS = 10_000;

/** What the opener tells its pool. */
export interface OpenerEvents {
  opened(session: PgSession): void;
  failed(error: Error): void;
  /** The pause after a failure is over: the pool may try again. */
  retry(): void;
}

/** Opens a pool's connections. */
export class Opener {
  /** Attempts in progress. */
  opening = 0;
  /** The last failure, for the pool's timeout messages. */
  lastError: Error | undefined;
  /** Since when attempts have failed without a success in between. */
  failingSince: number | undefined;
  private backoffMs = 100;
  private pausedUntil = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Config,
    /** Open sessions in pipeline mode (not behind a transaction-mode pooler). */
    private readonly pipeline: boolean,
    private readonly events: OpenerEvents,
    /** Keeps a background task for the pool's close to wait for. */
    private readonly track: (task: Promise<void>) => void,
  ) {}

  /** Whether a new attempt may start now (not pausing after a failure, fewer than `workers` in progress). */
  canOpen(workers: number): boolean {
    return this.opening < workers && performance.now() >= this.pausedUntil;
  }

  /** Starts one attempt. */
  open(): void {
    this.opening++;
    const attempt = PgSession.open(this.config, { pipeline: this.pipeline, attempts: 1 }).then(
      (session) => {
        this.opening--;
        this.failingSince = undefined;
        this.backoffMs = 100;
        this.events.opened(session);
      },
      (err: unknown) => {
        this.opening--;
        const error = err instanceof Error ? err : new ConnectionError(String(err));
        this.lastError = error;
        this.failingSince ??= performance.now();
        this.pausedUntil = performance.now() + this.backoffMs;
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.events.retry(), this.backoffMs).unref();
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
        this.events.failed(error);
      },
    );
    this.track(attempt);
  }

  /** Stops the pending retry (the pool is closing). */
  stop(): void {
    clearTimeout(this.retryTimer);
  }
}
