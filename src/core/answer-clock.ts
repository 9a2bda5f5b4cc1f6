/**
 * The client-side answer limit (`Config.queryTimeout`): how long a session waits for the server while statements
 * are in flight before it presumes the server gone.
 * @module
 */
import type { Config } from "../config.js";

/**
 * The answer limit (ms) for configurations that set no `queryTimeout`; 0 = none. The synchronous facade's worker
 * sets one at start-up (see {@link setDefaultQueryTimeout}).
 */
let defaultQueryTimeoutMs = 0;

/**
 * Sets the client-side answer limit used when a Config's `queryTimeout` is `null` (for the sessions opened from
 * then on, in this thread). `0` = none, the default; the synchronous facade's worker sets its own default.
 */
export function setDefaultQueryTimeout(ms: number): void {
  defaultQueryTimeoutMs = ms;
}

/** The answer limit of a configuration's sessions: its `queryTimeout`, else the thread's default. */
export function queryTimeoutOf(config: Config): number {
  return config.queryTimeout ?? defaultQueryTimeoutMs;
}

/**
 * One session's answer clock: a single timer per session (not one per statement). When it fires it checks how
 * long the oldest statement in flight has waited, and either sleeps for the rest of the limit or gives up on the
 * server. It is left to lapse when the session goes idle, and the next statement reuses it if it is still pending.
 */
export class AnswerClock {
  private timer: NodeJS.Timeout | undefined;
  /** When the oldest statement in flight started waiting: sent on an idle connection, or the one before it answered. */
  private waitingSince = 0;

  constructor(
    /** The limit in ms; 0 = none (the clock then does nothing). */
    readonly limit: number,
    /** Whether anything is still in flight when the timer fires. */
    private readonly busy: () => boolean,
    /** Gives up on the server. */
    private readonly expire: () => void,
  ) {}

  /** The first statement was sent on an idle session. */
  start(): void {
    if (this.limit > 0) {
      this.waitingSince = performance.now();
      this.timer ??= this.arm(this.limit);
    }
  }

  /** An answer arrived: the clock restarts for the statements still in flight. */
  answered(): void {
    if (this.limit > 0) this.waitingSince = performance.now();
  }

  /** Stops the clock for good (the session is closed). */
  stop(): void {
    clearTimeout(this.timer);
  }

  private arm(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.busy()) return;
      const left = this.waitingSince + this.limit - performance.now();
      if (left > 0) this.timer = this.arm(left);
      else this.expire();
    }, ms);
    timer.unref(); // while statements are in flight the socket holds the process open
    return timer;
  }
}
