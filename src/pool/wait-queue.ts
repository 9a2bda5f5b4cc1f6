/**
 * The calls waiting for a pool's connections, in arrival order, each with its own deadline.
 * @module
 */
import type { PgSession } from "../core/pg-session.js";

/** A call waiting for a shared connection (an independent statement) or to borrow one. */
export interface Waiter {
  readonly kind: "shared" | "lend";
  readonly since: number;
  resolve(session: PgSession): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/** The waiting calls. */
export class WaitQueue {
  readonly items: Waiter[] = [];
  /** The longest wait so far (ms), served or not. */
  longestMs = 0;

  get length(): number {
    return this.items.length;
  }

  /** Borrowers waiting. */
  get borrowers(): number {
    let n = 0;
    for (const w of this.items) if (w.kind === "lend") n++;
    return n;
  }

  /** A new waiting call, given up (`expire`) after `timeoutMs`. */
  add(kind: Waiter["kind"], timeoutMs: number, expire: (w: Waiter) => void): Promise<PgSession> {
    return new Promise<PgSession>((resolve, reject) => {
      const w: Waiter = { kind, since: performance.now(), resolve, reject, timer: undefined };
      w.timer = setTimeout(() => expire(w), timeoutMs);
      this.items.push(w);
    });
  }

  /** Takes `w` out of the queue; false when it was no longer there. */
  remove(w: Waiter): boolean {
    const i = this.items.indexOf(w);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.done(w);
    return true;
  }

  /** Stops `w`'s clock and records how long it waited. */
  done(w: Waiter): void {
    clearTimeout(w.timer);
    const waited = performance.now() - w.since;
    if (waited > this.longestMs) this.longestMs = waited;
  }

  /** Empties the queue, rejecting every call with `err`. */
  rejectAll(err: Error): void {
    for (const w of this.items.splice(0)) {
      this.done(w);
      w.reject(err);
    }
  }
}

/** Calls waiting until the pool has opened its `minSize` connections (`wait()`, `open()`). */
export class Readiness {
  private readonly waiting = new Set<() => void>();

  /** Resolves at the next {@link notify}; rejects with `timedOut()` after `timeoutMs`. */
  wait(timeoutMs: number, timedOut: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.delete(done);
        reject(timedOut());
      }, timeoutMs);
      this.waiting.add(done);
    });
  }

  /** The pool is ready: every waiting call resolves. */
  notify(): void {
    for (const done of this.waiting) done();
  }
}
