/**
 * The pool's {@link SessionSource}: up to `maxSize` connections, each either shared by independent statements
 * (pipelined) or lent to one borrower (a transaction, a connection, COPY, a cursor, a check).
 *
 * Scheduling. Independent statements fill one connection's pipeline before the next is used: pipelining depth,
 * not connection count, is what makes small statements fast (one connection with 10 in flight beats 10 with one
 * each). A connection takes statements up to its depth limit, which shrinks when the server is slow to answer
 * each (so heavy statements spread over more connections and server processes), and takes none while it is
 * stalled (no answer for a while: a statement is taking long), so nothing queues behind a slow statement that
 * another connection could run now. When no connection can take a statement, it waits in the pool's queue, at
 * most `timeout`. Borrowers get a connection with nothing in flight; when none is free and the pool is full, one
 * connection is drained for them (it takes no new statements and is lent once the ones in flight have answered).
 * @module
 */
import type { Config } from "../config.js";
import { ConnectionError, PoolTimeout, TscopgError } from "../errors.js";
import { PgSession } from "../core/pg-session.js";
import type { BrokenListener, SessionSource } from "../core/session-source.js";
import { Member } from "./member.js";
import { checkSizes, type PoolSettings } from "./settings.js";
import { PoolCounters, type PoolStats } from "./stats.js";
import { isTransientConnectError, describePool } from "./state.js";

/** A call waiting for the pool: for a shared connection (an independent statement) or to borrow one. */
interface Waiter {
  kind: "shared" | "lend";
  resolve(session: PgSession): void;
  reject(err: unknown): void;
  since: number;
  timer: NodeJS.Timeout;
}

const CLOSED = "the pool is closed";
/** Longest pause (ms) between attempts to reach the server while connections are missing. */
const MAX_BACKOFF_MS = 10_000;

/** The connections of one pool. */
export class PoolSource implements SessionSource {
  private readonly members: Member[] = [];
  private readonly byId = new Map<PgSession, Member>();
  private readonly waiters: Waiter[] = [];
  private readonly readyWaiters = new Set<() => void>();
  private readonly standalones = new Set<PgSession>();
  private readonly background = new Set<Promise<void>>();
  private readonly brokenListeners = new Set<BrokenListener>();
  readonly counters = new PoolCounters();
  private opening = 0;
  private resetting = 0;
  private closed = false;
  private started = false;
  private serving = false;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs = 100;
  private backoffUntil = 0;
  private lastConnectError: Error | undefined;
  /** Since when opening connections has failed without a success (for `reconnectTimeout`). */
  private failingSince: number | undefined;
  private reconnectReported = false;
  /** Behind a transaction-mode pooler: no pipelining, one statement per connection at a time. */
  private readonly single: boolean;

  constructor(
    readonly config: Config,
    private readonly settings: PoolSettings,
    /** Given to `reconnectFailed`. */
    private readonly owner: unknown,
  ) {
    this.single = (config as { pooler?: unknown }).pooler === "transaction";
  }

  // ---- starting and growing -------------------------------------------------------------------------------------

  /** Starts the pool on first use: the upkeep timer and the `minSize` connections. */
  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const s = this.settings;
    const every = Math.min(1000, Math.max(50, Math.min(s.maxIdleMs, s.maxLifetimeMs) / 4));
    this.timer = setInterval(() => this.upkeep(), every).unref();
    this.grow(0);
  }

  /** Opens connections while there is demand (`extra`: statements no open connection can take well) and room. */
  private grow(extra: number): void {
    if (this.closed || performance.now() < this.backoffUntil) return;
    const s = this.settings;
    const want = Math.max(s.minSize - this.members.length, this.waiters.length + extra) - this.opening;
    for (let i = 0; i < want && this.members.length + this.opening < s.maxSize && this.opening < s.numWorkers; i++) {
      this.openOne();
    }
  }

  private openOne(): void {
    this.opening++;
    const task = PgSession.open(this.config, { pipeline: !this.single, attempts: 1 }).then(
      (session) => this.opened(session),
      (err: unknown) => this.openFailed(err),
    );
    this.track(task);
  }

  private opened(session: PgSession): void {
    this.opening--;
    this.counters.created++;
    this.failingSince = undefined;
    this.reconnectReported = false;
    this.backoffMs = 100;
    if (this.closed || this.members.length >= this.settings.maxSize) {
      this.forget(session);
      return;
    }
    const m = new Member(session, this.settings.maxLifetimeMs, this.single ? 1 : this.settings.pipelineDepth);
    session.onBroken((reason) => this.broke(m, reason));
    session.watch(() => this.answered(m));
    this.members.push(m);
    this.byId.set(session, m);
    if (this.members.length >= this.settings.minSize) {
      for (const ready of this.readyWaiters) ready();
    }
    this.serve();
  }

  private openFailed(err: unknown): void {
    this.opening--;
    const error = err instanceof Error ? err : new ConnectionError(String(err));
    this.lastConnectError = error;
    this.counters.errors++;
    this.failingSince ??= performance.now();
    this.report({ kind: "connect", error });
    if (!isTransientConnectError(error)) {
      // Authentication, a missing database, …: no wait will change that, so the callers waiting hear it now.
      for (const w of this.waiters.splice(0)) this.settle(w, error);
    }
    this.backoffUntil = performance.now() + this.backoffMs;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.grow(0), this.backoffMs).unref();
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
  }

  // ---- independent statements ------------------------------------------------------------------------------------

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

  /**
   * The first connection (in the order they were opened) that is below its depth limit and not stalled, so that
   * pipelines fill one after the other; when all are full, the least loaded of them that is not stalled (and a new
   * connection is opened if there is room). `undefined` when none can take a statement without waiting behind a
   * slow one.
   */
  private pickShared(): Member | undefined {
    let fallback: Member | undefined;
    let fallbackLoad = Infinity;
    let now = 0;
    for (const m of this.members) {
      if (!m.shareable) continue;
      const load = m.session.inFlight + m.reserved;
      if (load === 0) return m;
      if (now === 0) now = performance.now();
      if (m.stalled(now)) continue;
      if (load < m.depthLimit) return m;
      if (load < fallbackLoad) {
        fallback = m;
        fallbackLoad = load;
      }
    }
    this.grow(1);
    return this.single ? undefined : fallback;
  }

  /** After each answer on `m`: the pace statistics, then whatever the answer unblocked. */
  private answered(m: Member): void {
    m.answered();
    if (this.waiters.length > 0) this.serve();
    else if (m.session.inFlight === 0 && m.retiring && !m.lent) this.discard(m);
  }

  // ---- lending ---------------------------------------------------------------------------------------------------

  /** {@inheritDoc SessionSource.acquire} */
  acquire(): Promise<PgSession> {
    if (this.closed) return Promise.reject(new TscopgError(CLOSED));
    if (!this.started) this.start();
    const m = this.waiters.length === 0 ? this.freeMember() : undefined;
    if (m !== undefined) {
      this.counters.requests++;
      this.lend(m);
      return Promise.resolve(m.session);
    }
    return this.enqueue("lend");
  }

  /** A connection that can be lent now: the last one opened first (the first ones carry the shared statements). */
  private freeMember(): Member | undefined {
    for (let i = this.members.length - 1; i >= 0; i--) {
      const m = this.members[i]!;
      if (m.free) return m;
    }
    return undefined;
  }

  private lend(m: Member): void {
    m.lent = true;
    m.draining = false;
    m.session.setPipelined(false);
  }

  /** {@inheritDoc SessionSource.release} */
  release(session: PgSession): void {
    const m = this.byId.get(session);
    if (m === undefined || !m.lent) return;
    if (this.closed || session.broken || m.retiring || performance.now() >= m.expiresAt) {
      this.discard(m);
    } else if (session.settled() === undefined && session.txStatus === "I" && !session.stateChanged) {
      this.giveBack(m);
    } else {
      this.resetting++;
      this.track(this.reset(m));
    }
    this.serve();
  }

  /** Rolls back what a borrower left open and resets changed session state, off the borrower's path. */
  private async reset(m: Member): Promise<void> {
    const session = m.session;
    let ok = true;
    try {
      await session.settled();
      if (session.txStatus !== "I") await session.command("ROLLBACK");
      if (session.stateChanged) {
        await session.command("DISCARD ALL");
        session.stateChanged = false;
      }
    } catch {
      ok = false;
    }
    this.resetting--;
    if (ok && !this.closed && !session.broken) this.giveBack(m);
    else this.discard(m);
    this.serve();
  }

  /** A clean connection given back: shared again, or straight to the next borrower (see {@link serve}). */
  private giveBack(m: Member): void {
    m.lent = false;
    m.freedAt = performance.now();
    if (!this.single) m.session.setPipelined(true);
    if (this.members.length > this.settings.maxSize) m.retiring = true;
    if (m.retiring) this.discard(m);
  }

  // ---- waiting ---------------------------------------------------------------------------------------------------

  private enqueue(kind: Waiter["kind"]): Promise<PgSession> {
    if (this.closed) return Promise.reject(new TscopgError(CLOSED));
    return new Promise<PgSession>((resolve, reject) => {
      const w: Waiter = {
        kind,
        resolve,
        reject,
        since: performance.now(),
        timer: setTimeout(() => this.expire(w), this.settings.timeoutMs),
      };
      this.waiters.push(w);
      this.serve();
    });
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
      for (let i = 0; i < this.waiters.length && !(lendBlocked && sharedBlocked); ) {
        const w = this.waiters[i]!;
        const lend = w.kind === "lend";
        const m = lend ? (lendBlocked ? undefined : this.freeMember()) : sharedBlocked ? undefined : this.pickShared();
        if (m === undefined) {
          if (lend) {
            lendBlocked = true;
            lendWaiting++;
          } else sharedBlocked = true;
          i++;
          continue;
        }
        this.waiters.splice(i, 1);
        if (w.kind === "lend") this.lend(m);
        else {
          // The caller sends its statement within a microtask; until then the connection is promised to it.
          m.reserved++;
          queueMicrotask(() => m.reserved--);
        }
        this.settle(w, m.session);
      }
      if (lendBlocked) this.drainFor(this.waiters.filter((x) => x.kind === "lend").length);
      else if (lendWaiting === 0) this.drainFor(0);
      if (this.waiters.length > 0) this.grow(0);
    } finally {
      this.serving = false;
    }
  }

  /**
   * Keeps as many connections draining as borrowers wait without a connection to come (beyond those being opened):
   * the least loaded shared ones first. Stops draining those no longer needed.
   */
  private drainFor(borrowers: number): void {
    const room = Math.max(0, this.settings.maxSize - this.members.length);
    let need = borrowers - Math.min(room, borrowers);
    for (const m of this.members) if (m.draining) need--;
    while (need > 0) {
      let pick: Member | undefined;
      for (const m of this.members) {
        if (m.shareable && (pick === undefined || m.session.inFlight < pick.session.inFlight)) pick = m;
      }
      if (pick === undefined) break;
      pick.draining = true;
      need--;
    }
    for (let i = this.members.length - 1; need < 0 && i >= 0; i--) {
      const m = this.members[i]!;
      if (m.draining) {
        m.draining = false;
        need++;
      }
    }
  }

  /** A waiter's time ran out. */
  private expire(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    this.counters.timeouts++;
    const waited = performance.now() - w.since;
    this.counters.waited(waited);
    const what = w.kind === "lend" ? "no connection became free" : "no connection could take the statement";
    const state = describePool(this.snapshot(), this.stalledFor());
    const last = this.lastConnectError;
    w.reject(
      new PoolTimeout(`${what} within ${this.settings.timeoutMs / 1000} s: ${state}${last ? `; last connection error: ${last.message}` : ""}`, {
        cause: last,
      }),
    );
    this.serve(); // a borrower who gave up may leave a drained connection to shared statements
  }

  private settle(w: Waiter, outcome: PgSession | Error): void {
    clearTimeout(w.timer);
    this.counters.waited(performance.now() - w.since);
    if (outcome instanceof PgSession) {
      this.counters.requests++;
      w.resolve(outcome);
    } else w.reject(outcome);
  }

  /** Milliseconds the longest-stalled shared connection has gone without an answer (0: none stalled). */
  private stalledFor(): number {
    const now = performance.now();
    let most = 0;
    for (const m of this.members) if (!m.lent && m.stalled(now)) most = Math.max(most, now - m.session.progressAt);
    return most;
  }

  // ---- losing and retiring connections --------------------------------------------------------------------------

  private broke(m: Member, reason: TscopgError): void {
    this.counters.errors++;
    if (!m.lent) this.discard(m);
    this.report({ kind: "broken", error: reason });
    for (const listener of this.brokenListeners) {
      try {
        listener(m.session, reason);
      } catch (err) {
        queueMicrotask(() => {
          throw err; // a listener's own error is not the pool's to handle
        });
      }
    }
    this.grow(0);
    this.serve();
  }

  /** Closes a connection for good and forgets it. */
  private discard(m: Member): void {
    const i = this.members.indexOf(m);
    if (i < 0) return;
    this.members.splice(i, 1);
    this.byId.delete(m.session);
    this.forget(m.session);
    if (!this.closed) this.grow(0);
  }

  private forget(session: PgSession): void {
    this.counters.closed++;
    session.watch(undefined);
    this.track(session.close());
  }

  private report(event: { kind: "connect" | "broken"; error: Error }): void {
    const hook = this.settings.onError;
    if (hook === undefined) return;
    try {
      hook(event);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** Periodic upkeep: replaces old connections, closes idle ones beyond `minSize`, keeps `minSize` open. */
  private upkeep(): void {
    const now = performance.now();
    const s = this.settings;
    for (const m of [...this.members]) {
      if (!m.lent && now >= m.expiresAt) m.retiring = true;
      if (m.retiring && !m.lent && m.session.inFlight === 0 && m.reserved === 0) this.discard(m);
    }
    for (let i = this.members.length - 1; i >= 0 && this.members.length > s.minSize; i--) {
      const m = this.members[i]!;
      if (m.free && !m.draining && now - m.lastActivity > s.maxIdleMs) this.discard(m);
    }
    this.grow(0);
    if (this.failingSince !== undefined && !this.reconnectReported && now - this.failingSince > s.reconnectTimeoutMs) {
      this.reconnectReported = true;
      try {
        s.reconnectFailed?.(this.owner);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  // ---- the rest of SessionSource, and the pool's own operations --------------------------------------------------

  /** {@inheritDoc SessionSource.onBroken} */
  onBroken(listener: BrokenListener): () => void {
    this.brokenListeners.add(listener);
    return () => this.brokenListeners.delete(listener);
  }

  /** {@inheritDoc SessionSource.standalone} */
  async standalone(): Promise<PgSession | undefined> {
    if (this.closed) return undefined;
    const session = await PgSession.open(this.config, { pipeline: false, attempts: 3 });
    if (this.closed) {
      await session.close();
      return undefined;
    }
    this.standalones.add(session);
    session.client.once("end", () => this.standalones.delete(session));
    return session;
  }

  /** The pool's `timeout`, in ms. */
  get timeoutMs(): number {
    return this.settings.timeoutMs;
  }

  /** Open connections (LISTEN listeners included). */
  get size(): number {
    return this.members.length + this.standalones.size;
  }

  /** Resolves once `minSize` connections are open; rejects with {@link PoolTimeout} after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new TscopgError(CLOSED));
    this.start();
    if (this.members.length >= this.settings.minSize) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.readyWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.readyWaiters.delete(done);
        const last = this.lastConnectError;
        const state = describePool(this.snapshot(), 0);
        reject(
          new PoolTimeout(
            `the pool did not open its ${this.settings.minSize} connections within ${timeoutMs / 1000} s: ${state}` +
              (last ? `; last connection error: ${last.message}` : ""),
            { cause: last },
          ),
        );
      }, timeoutMs);
      this.readyWaiters.add(done);
    });
  }

  /** Changes the sizes: connections beyond the new maximum close once nothing runs on them. */
  resize(minSize: number, maxSize: number): void {
    checkSizes(minSize, maxSize);
    this.settings.minSize = minSize;
    this.settings.maxSize = maxSize;
    for (let i = this.members.length - 1, extra = this.members.length - maxSize; i >= 0 && extra > 0; i--, extra--) {
      const m = this.members[i]!;
      m.retiring = true;
      if (!m.lent && m.session.inFlight === 0 && m.reserved === 0) this.discard(m);
    }
    if (this.started) this.grow(0);
    this.serve();
  }

  /** Tests each connection nobody is using (one round trip each, lent while tested); broken ones are replaced. */
  async check(): Promise<void> {
    const idle = this.members.filter((m) => m.free && !m.draining);
    await Promise.all(
      idle.map(async (m) => {
        this.lend(m);
        try {
          await m.session.command("SELECT 1");
        } catch {
          /* broken: release() discards it */
        }
        this.release(m.session);
      }),
    );
    this.grow(0);
  }

  /** The counters and the state now. */
  snapshot(): PoolStats {
    let lent = 0;
    let inFlight = 0;
    let busy = 0;
    for (const m of this.members) {
      if (m.lent) lent++;
      else {
        inFlight += m.session.inFlight;
        if (m.session.inFlight > 0) busy++;
      }
    }
    return this.counters.stats({
      minSize: this.settings.minSize,
      maxSize: this.settings.maxSize,
      size: this.members.length,
      available: this.members.filter((m) => m.free).length,
      inUse: lent + busy,
      lent,
      inFlight,
      opening: this.opening,
      waiting: this.waiters.length,
      listeners: this.standalones.size,
    });
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
      while (this.background.size > 0) await Promise.all(this.background);
      return;
    }
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    for (const w of this.waiters.splice(0)) this.settle(w, new TscopgError(CLOSED));
    const deadline = performance.now() + graceMs;
    const busy = () => this.resetting > 0 || this.members.some((m) => m.lent || m.session.inFlight > 0);
    while (busy() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const m of this.members.splice(0)) {
      this.byId.delete(m.session);
      if (m.session.inFlight > 0 || m.lent) m.session._cutOff("the pool was closed", "ECONNRESET");
      this.forget(m.session);
    }
    for (const s of this.standalones) this.track(s.close());
    this.standalones.clear();
    while (this.background.size > 0) await Promise.all(this.background);
  }

  /** Keeps `task` (which never rejects) for {@link closeWithin} to wait for. */
  private track(task: Promise<void>): void {
    this.background.add(task);
    const done = () => void this.background.delete(task);
    task.then(done, done);
  }
}
