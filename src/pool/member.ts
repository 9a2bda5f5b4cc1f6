/**
 * One connection of a pool, with what the pool's scheduler knows about it: whether it is lent to one borrower or
 * shared by independent statements, how fast it answers, and when it must be replaced.
 * @module
 */
import { streamOf } from "../core/connect.js";
import type { PgSession } from "../core/pg-session.js";

/** A connection that has not answered for this long (ms, or 8 answer times if longer) is taking long. */
const STALL_FLOOR_MS = 5;
/**
 * Answers slower than this (ms apart, on average) mean the server spends real time on each statement: the depth limit
 * then keeps a pipeline's wait near {@link QUEUE_TARGET_MS}, so that such statements spread over more connections
 * (server processes). Faster answers mean the client is what limits: one deep pipeline is then best.
 */
const SLOW_ANSWER_MS = 0.5;
const QUEUE_TARGET_MS = 4;

/** A pool's connection. */
export class Member {
  /** Lent to one borrower (a transaction, a connection, COPY, a cursor): plain mode, no shared statements. */
  lent = false;
  /** Kept for a borrower who is waiting: no new shared statements; lent once the ones in flight have answered. */
  draining = false;
  /** To be closed once nothing is in flight (too old, or beyond the pool's size). */
  retiring = false;
  /** Shared callers handed this connection who have not sent their statement yet (they do within a microtask). */
  reserved = 0;
  /** When it was last given back by a borrower. */
  freedAt: number;
  /** When it must be replaced. */
  readonly expiresAt: number;
  /** Average time per answer (ms), over recent answers. */
  private answerMs = 0.1;
  /** Independent statements it takes before the pool looks for another connection. */
  depthLimit: number;

  constructor(
    readonly session: PgSession,
    maxLifetimeMs: number,
    /** The most independent statements it takes (`pipelineDepth`). */
    private readonly maxDepth: number,
    /** The pool's spread (see `SpreadTuner`): a factor on the depth limit. */
    private readonly spread: { readonly factor: number } = { factor: 1 },
  ) {
    this.depthLimit = maxDepth;
    // Answers arriving several per read mean the server is ahead of the client (see `SpreadTuner`).
    (streamOf(session.client) as unknown as NodeJS.EventEmitter).on("data", () => this.windowReads++);
    this.freedAt = performance.now();
    // ±5 %: connections opened together are not all replaced at once.
    this.expiresAt = this.freedAt + maxLifetimeMs * (0.95 + Math.random() * 0.1);
  }

  /** Answers, and socket reads that brought answers, since the spread tuner's window began (see `Members.window`). */
  windowAnswers = 0;
  windowReads = 0;

  /** Records an answer: the time it took updates the average, and the average the depth limit. */
  answered(): void {
    this.windowAnswers++;
    const ms = (this.answerMs += (Math.min(this.session.answerGap, 1000) - this.answerMs) * 0.05);
    const limit = ms > SLOW_ANSWER_MS ? Math.min(this.maxDepth, QUEUE_TARGET_MS / ms) : this.maxDepth;
    this.depthLimit = Math.max(1, Math.floor(limit * this.spread.factor));
  }

  /** Whether statements are in flight and none has answered for a while (a statement is taking long). */
  stalled(now: number): boolean {
    return this.session.inFlight > 0 && now - this.session.progressAt > Math.max(STALL_FLOOR_MS, 8 * this.answerMs);
  }

  /** Whether it can be lent at once: not lent, nothing in flight or promised, not broken, not retiring. */
  get free(): boolean {
    return this.quiet && !this.retiring && !this.session.broken;
  }

  /** Whether it can be closed now: not lent, nothing in flight or promised. */
  get quiet(): boolean {
    return !this.lent && this.reserved === 0 && this.session.inFlight === 0;
  }

  /** Whether it may take independent statements. */
  get shareable(): boolean {
    return !this.lent && !this.draining && !this.retiring && !this.session.broken;
  }

  /** When it was last used: given back, or answered a statement. */
  get lastActivity(): number {
    return Math.max(this.freedAt, this.session.progressAt);
  }
}
