/**
 * The pool's {@link SessionSource}: up to `maxSize` connections, each either shared by independent statements
 * (pipelined) or lent to one borrower (a transaction, a connection, COPY, a cursor, a check).
 *
 * Independent statements fill one connection's pipeline (up to `pipelineDepth`) before the next is used: depth,
 * not connection count, makes small statements fast. A stalled connection (no answer for a while: a statement is
 * taking long) takes none, so nothing queues behind a slow statement that another connection could run now; when
 * no connection can take a statement, it waits in the pool's queue, at most `timeout`. Borrowers get a connection
 * with nothing in flight; when none is free and the pool is full, one is drained for them (it takes no new
 * statements and is lent once the ones in flight have answered).
 * @module
 */
import type { Config } from "../config.js";
import { PoolTimeout, TscopgError } from "../errors.js";
import { PgSession } from "../core/pg-session.js";
import { callHook, isClean, resetForReuse, Standalones, Tasks } from "../core/session-care.js";
import type { BrokenListener, SessionSource } from "../core/session-source.js";
import { Member } from "./member.js";
import { Members } from "./members.js";
import { checkSizes, type PoolSettings } from "./settings.js";
import { PoolCounters, type PoolStats } from "./stats.js";
import { isTransientConnectError, describePool } from "./state.js";
import { Opener } from "./opener.js";
import { SpreadTuner } from "./spread-tuner.js";
import { Readiness, WaitQueue, type Waiter } from "./wait-queue.js";

const CLOSED = "the pool is closed";

/** The connections of one pool. */
export class PoolSource implements SessionSource {
  private readonly members = new Members();
  private readonly waiters = new WaitQueue();
  private readonly ready = new Readiness();
  private readonly standalones = new Standalones();
  private readonly background = new Tasks();
  private readonly brokenListeners = new Set<BrokenListener>();
  private readonly opener: Opener;
  private readonly spread: SpreadTuner;
  private readonly counters = new PoolCounters();
  private resetting = 0;
  private closed = false;
  private started = false;
  private serving = false;
  private timer: NodeJS.Timeout | undefined;
  private reconnectReported = false;
  /** Behind a transaction-mode pooler: no pipelining, one statement per connection at a time. */
  private readonly single: boolean;

  constructor(
    readonly config: Config,
    /** Its settings (resized by {@link resize}). */
    readonly settings: PoolSettings,
  ) {
    this.single = config.pooler === "transaction";
    this.spread = new SpreadTuner(settings.pipelineDepth);
    // An attempt never outlives the wait it serves: without a connectTimeout of its own, the pool's timeout bounds it.
    const bounded = config.connectTimeout === null ? config.with({ connectTimeout: Math.max(1, Math.ceil(settings.timeoutMs / 1000)) }) : config;
    this.opener = new Opener(
      bounded,
      !this.single,
      { opened: (session) => this.opened(session), failed: (err) => this.openFailed(err), retry: () => this.grow(0) },
      (task) => this.background.add(task),
    );
  }

  /** Starts the pool on first use: the upkeep timer and the `minSize` connections. */
  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const s = this.settings;
    const every = Math.min(1000, Math.max(50, Math.min(s.maxIdleMs, s.maxLifetimeMs) / 4));
    this.timer = setInterval(() => this.upkeep(), every).unref();
    this.grow(0);
  }

  /** Opens connections while there is demand (at least `extra`: a statement no open one can take well) and room. */
  private grow(extra: number): void {
    if (this.closed) return;
    const s = this.settings;
    const o = this.opener;
    const want = Math.max(s.minSize - this.members.size, this.waiters.length, extra) - o.opening;
    for (let i = 0; i < want && this.members.size + o.opening < s.maxSize && o.canOpen(s.numWorkers); i++) o.open();
  }

  private opened(session: PgSession): void {
    this.counters.created++;
    this.reconnectReported = false;
    if (this.closed || this.members.size >= this.settings.maxSize) {
      this.forget(session);
      return;
    }
    const m = new Member(session, this.settings.maxLifetimeMs, this.single ? 1 : this.settings.pipelineDepth, this.spread);
    session.onBroken((reason) => this.broke(m, reason));
    session.watch(() => this.answered(m));
    this.members.add(m);
    if (this.members.size >= this.settings.minSize) this.ready.notify();
    this.serve();
  }

  private openFailed(error: Error): void {
    this.counters.errors++;
    callHook(this.settings.onError, { kind: "connect", error });
    // Authentication, a missing database, …: no wait will change that, so the callers waiting hear it now. So do
    // they, on a pool that fails fast (a standby's, whose callers have somewhere else to go), when it has nothing.
    const empty = this.members.size === 0 && this.opener.opening === 0;
    if (!isTransientConnectError(error) || (this.settings.failFast && empty)) this.waiters.rejectAll(error);
  }

  /** Whether the pool has no connection and its last attempt to open one failed. */
  get down(): boolean {
    return this.members.size === 0 && this.opener.failingSince !== undefined;
  }

  /** Tries to open a connection in the background (once the pause after a failure is over). */
  wake(): void {
    this.start();
    this.grow(1);
  }

  /** How busy it is: statements in flight, connections lent, calls waiting. */
  get load(): number {
    const s = this.members.state();
    return s.inFlight + s.lent + this.waiters.length;
  }

  /** A connection for an independent statement: at once when one can take it well, else after waiting in line. */
  shared(): PgSession | Promise<PgSession> {
    if (!this.started) this.start();
    const m = this.pickShared();
    if (m !== undefined) {
      this.counters.requests++;
      return m.session;
    }
    return this.enqueue("shared");
  }

  /** {@link Members.forStatement}, opening one more connection when all are crowded. */
  private pickShared(): Member | undefined {
    const m = this.members.forStatement(!this.single);
    if (this.members.crowded) this.grow(1);
    return m;
  }

  /** After each answer on `m`: the pace statistics, then whatever the answer unblocked. */
  private answered(m: Member): void {
    m.answered();
    if (!m.lent) this.spread.answered(this.members);
    if (this.waiters.length > 0) this.serve();
    else if (m.retiring && m.quiet) this.discard(m);
  }

  /** {@inheritDoc SessionSource.acquire} */
  acquire(): Promise<PgSession> {
    if (this.closed) return Promise.reject(new TscopgError(CLOSED));
    if (!this.started) this.start();
    const m = this.waiters.length === 0 ? this.members.forBorrower() : undefined;
    if (m !== undefined) {
      this.counters.requests++;
      this.lend(m);
      return Promise.resolve(m.session);
    }
    return this.enqueue("lend");
  }

  private lend(m: Member): void {
    m.lent = true;
    m.draining = false;
    m.session.setPipelined(false);
  }

  /** {@inheritDoc SessionSource.release} */
  release(session: PgSession): void {
    const m = this.members.of(session);
    if (m === undefined || !m.lent) return;
    if (this.closed || session.broken || m.retiring || performance.now() >= m.expiresAt) {
      this.discard(m);
    } else if (isClean(session)) {
      this.giveBack(m);
    } else {
      this.resetting++;
      this.background.add(this.reset(m));
    }
    this.serve();
  }

  /** Rolls back what a borrower left open and resets changed session state, off the borrower's path. */
  private async reset(m: Member): Promise<void> {
    const ok = await resetForReuse(m.session);
    this.resetting--;
    if (ok && !this.closed) this.giveBack(m);
    else this.discard(m);
    this.serve();
  }

  /** A clean connection given back: shared again, or straight to the next borrower (see {@link serve}). */
  private giveBack(m: Member): void {
    m.lent = false;
    m.freedAt = performance.now();
    if (!this.single) m.session.setPipelined(true);
    if (this.members.size > this.settings.maxSize) m.retiring = true;
    if (m.retiring) this.discard(m);
  }

  private enqueue(kind: Waiter["kind"]): Promise<PgSession> {
    if (this.closed) return Promise.reject(new TscopgError(CLOSED));
    const p = this.waiters.add(kind, this.settings.timeoutMs, (w) => this.expire(w));
    this.serve();
    return p;
  }

  /** Hands connections to waiting calls, in arrival order, as far as they can be served now. */
  private serve(): void {
    if (this.serving || this.closed) return;
    this.serving = true;
    try {
      // Once one call of a kind cannot be served, no later one of that kind can: each answer costs O(1), not O(queue).
      let lendBlocked = false;
      let sharedBlocked = false;
      let lendWaiting = 0;
      const queue = this.waiters.items;
      for (let i = 0; i < queue.length && !(lendBlocked && sharedBlocked); ) {
        const w = queue[i]!;
        const lend = w.kind === "lend";
        const m = lend ? (lendBlocked ? undefined : this.members.forBorrower()) : sharedBlocked ? undefined : this.pickShared();
        if (m === undefined) {
          if (lend) {
            lendBlocked = true;
            lendWaiting++;
          } else sharedBlocked = true;
          i++;
          continue;
        }
        queue.splice(i, 1);
        this.waiters.done(w);
        this.counters.requests++;
        if (w.kind === "lend") this.lend(m);
        else {
          // The caller sends its statement within a microtask; until then the connection is promised to it.
          m.reserved++;
          queueMicrotask(() => m.reserved--);
        }
        w.resolve(m.session);
      }
      if (lendBlocked) this.drainFor(this.waiters.borrowers);
      else if (lendWaiting === 0) this.drainFor(0);
      if (this.waiters.length > 0) this.grow(0);
    } finally {
      this.serving = false;
    }
  }

  /** Keeps as many connections draining as borrowers wait without a connection to come (opened in the room left). */
  private drainFor(borrowers: number): void {
    const room = Math.max(0, this.settings.maxSize - this.members.size);
    this.members.drain(borrowers - Math.min(room, borrowers));
  }

  /** A waiter's time ran out. */
  private expire(w: Waiter): void {
    if (!this.waiters.remove(w)) return;
    this.counters.timeouts++;
    const what = w.kind === "lend" ? "no connection became free" : "no connection could take the statement";
    w.reject(this.timeoutError(`${what} within ${this.settings.timeoutMs / 1000} s`, this.members.stalledFor()));
    this.serve(); // a borrower who gave up may leave a drained connection to shared statements
  }

  /** A {@link PoolTimeout}: `what` happened, then the pool's state and the last connection error. */
  private timeoutError(what: string, stalledMs: number): PoolTimeout {
    const last = this.opener.lastError;
    const state = describePool(this.snapshot(), stalledMs);
    return new PoolTimeout(`${what}: ${state}${last ? `; last connection error: ${last.message}` : ""}`, { cause: last });
  }

  private broke(m: Member, reason: TscopgError): void {
    this.counters.errors++;
    if (!m.lent) this.discard(m);
    callHook(this.settings.onError, { kind: "broken", error: reason });
    for (const listener of this.brokenListeners) callHook(listener, m.session, reason);
    this.grow(0);
    this.serve();
  }

  /** Closes a connection for good and forgets it. */
  private discard(m: Member): void {
    if (!this.members.remove(m)) return;
    this.forget(m.session);
    if (!this.closed) this.grow(0);
  }

  private forget(session: PgSession): void {
    this.counters.closed++;
    session.watch(undefined);
    this.background.add(session.close());
  }

  /** Periodic upkeep: replaces old connections, closes idle ones beyond `minSize`, keeps `minSize` open. */
  private upkeep(): void {
    const now = performance.now();
    const s = this.settings;
    for (const m of this.members.toClose(now, s.minSize, s.maxIdleMs)) this.discard(m);
    this.grow(0);
    const failingSince = this.opener.failingSince;
    if (failingSince !== undefined && !this.reconnectReported && now - failingSince > s.reconnectTimeoutMs) {
      this.reconnectReported = true;
      callHook(s.reconnectFailed, { error: this.opener.lastError });
    }
  }

  /** {@inheritDoc SessionSource.onBroken} */
  onBroken(listener: BrokenListener): () => void {
    this.brokenListeners.add(listener);
    return () => this.brokenListeners.delete(listener);
  }

  /** {@inheritDoc SessionSource.standalone} */
  standalone(): Promise<PgSession | undefined> {
    return this.standalones.open(this.config, 3, () => this.closed);
  }

  /** The pool's `timeout`, in ms. */
  get timeoutMs(): number {
    return this.settings.timeoutMs;
  }

  /** Open connections (LISTEN listeners included). */
  get size(): number {
    return this.members.size + this.standalones.size;
  }

  /** Resolves once `minSize` connections are open; rejects with {@link PoolTimeout} after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new TscopgError(CLOSED));
    this.start();
    if (this.members.size >= this.settings.minSize) return Promise.resolve();
    const what = `the pool did not open its ${this.settings.minSize} connections within ${timeoutMs / 1000} s`;
    return this.ready.wait(timeoutMs, () => this.timeoutError(what, 0));
  }

  /** Changes the sizes: connections beyond the new maximum close once nothing runs on them. */
  resize(minSize: number, maxSize: number): void {
    checkSizes(minSize, maxSize);
    this.settings.minSize = minSize;
    this.settings.maxSize = maxSize;
    for (const m of this.members.beyond(maxSize)) this.discard(m);
    if (this.started) this.grow(0);
    this.serve();
  }

  /** Tests each connection nobody is using (one round trip each, lent while tested); broken ones are replaced. */
  async check(): Promise<void> {
    const idle = this.members.list.filter((m) => m.free && !m.draining);
    const test = async (m: Member) => {
      this.lend(m);
      await m.session.command("SELECT 1").catch(() => undefined); // a broken one is discarded by release()
      this.release(m.session);
    };
    await Promise.all(idle.map(test));
    this.grow(0);
  }

  /** The counters and the state now. */
  snapshot(): PoolStats {
    const s = this.settings;
    const state = { minSize: s.minSize, maxSize: s.maxSize, ...this.members.state(), opening: this.opener.opening };
    return this.counters.stats({ ...state, waiting: this.waiters.length, listeners: this.standalones.size }, this.waiters.longestMs);
  }

  /** {@inheritDoc SessionSource.close} Waits up to 5 s for borrowers and statements in flight. */
  close(): Promise<void> {
    return this.closeWithin(5000);
  }

  /**
   * Closes the pool: waiting calls fail at once; borrowers and statements in flight get up to `graceMs` to finish;
   * then every connection is closed (those still busy at once, failing what runs on them with `ConnectionError`).
   */
  async closeWithin(graceMs: number): Promise<void> {
    if (this.closed) {
      await this.background.drain();
      return;
    }
    this.closed = true;
    clearInterval(this.timer);
    this.opener.stop();
    this.waiters.rejectAll(new TscopgError(CLOSED));
    const deadline = performance.now() + graceMs;
    const busy = () => this.resetting > 0 || this.members.list.some((m) => m.lent || m.session.inFlight > 0);
    while (busy() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const m of [...this.members.list]) {
      this.members.remove(m);
      if (m.session.inFlight > 0 || m.lent) m.session._cutOff("the pool was closed", "ECONNRESET");
      this.forget(m.session);
    }
    for (const closing of this.standalones.close()) this.background.add(closing);
    await this.background.drain();
  }

}
