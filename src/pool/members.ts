/**
 * The open connections of a pool and how one is chosen: for an independent statement (pipelines filled one after
 * the other, stalled connections skipped), for a borrower (one with nothing in flight), or to be drained for a
 * borrower who waits.
 * @module
 */
import type { PgSession } from "../core/pg-session.js";
import type { Member } from "./member.js";
import type { TunedConnections, TunerWindow } from "./spread-tuner.js";
import type { PoolState } from "./stats.js";

/** A pool's open connections, in the order they were opened. */
export class Members implements TunedConnections {
  readonly list: Member[] = [];
  /**
   * Set by {@link forStatement}: every connection that may take statements was full or stalled (one more would
   * help). A field, not part of an answer object: no allocation per statement.
   */
  crowded = false;
  private readonly bySession = new Map<PgSession, Member>();

  get size(): number {
    return this.list.length;
  }

  add(m: Member): void {
    this.list.push(m);
    this.bySession.set(m.session, m);
  }

  /** Removes `m`; false when it was not there. */
  remove(m: Member): boolean {
    const i = this.list.indexOf(m);
    if (i < 0) return false;
    this.list.splice(i, 1);
    this.bySession.delete(m.session);
    return true;
  }

  of(session: PgSession): Member | undefined {
    return this.bySession.get(session);
  }

  /**
   * A connection for an independent statement: the first one (in opening order) below its depth limit and not
   * stalled, so that pipelines fill one after the other; when all are full, the least loaded that is not stalled
   * (none with `overcommit` false: behind a transaction-mode pooler, one statement per connection).
   */
  forStatement(overcommit: boolean): Member | undefined {
    let fallback: Member | undefined;
    let fallbackLoad = Infinity;
    let now = 0;
    for (const m of this.list) {
      if (!m.shareable) continue;
      const load = m.session.inFlight + m.reserved;
      if (load === 0) return this.uncrowded(m);
      if (now === 0) now = performance.now();
      if (m.stalled(now)) continue;
      if (load < m.depthLimit) return this.uncrowded(m);
      if (load < fallbackLoad) {
        fallback = m;
        fallbackLoad = load;
      }
    }
    this.crowded = true;
    return overcommit ? fallback : undefined;
  }

  private uncrowded(m: Member): Member {
    this.crowded = false;
    return m;
  }

  /** A connection that can be lent now: the last one opened first (the first ones carry the shared statements). */
  forBorrower(): Member | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const m = this.list[i]!;
      if (m.free) return m;
    }
    return undefined;
  }

  /**
   * Keeps `count` connections draining for waiting borrowers (the least loaded shared ones first), and stops
   * draining those no longer needed.
   */
  drain(count: number): void {
    let need = count;
    for (const m of this.list) if (m.draining) need--;
    while (need > 0) {
      let pick: Member | undefined;
      for (const m of this.list) {
        if (m.shareable && (pick === undefined || m.session.inFlight < pick.session.inFlight)) pick = m;
      }
      if (pick === undefined) break;
      pick.draining = true;
      need--;
    }
    for (let i = this.list.length - 1; need < 0 && i >= 0; i--) {
      const m = this.list[i]!;
      if (m.draining) {
        m.draining = false;
        need++;
      }
    }
  }

  /**
   * Marks for retirement those past their lifetime, and returns what can be closed now: the quiet ones marked for
   * retirement, and (last opened first) those unused for longer than `maxIdleMs` beyond the first `minSize`.
   */
  toClose(now: number, minSize: number, maxIdleMs: number): Member[] {
    const out: Member[] = [];
    for (const m of this.list) {
      if (!m.lent && now >= m.expiresAt) m.retiring = true;
      if (m.retiring && m.quiet) out.push(m);
    }
    let left = this.list.length - out.length;
    for (let i = this.list.length - 1; i >= 0 && left > minSize; i--) {
      const m = this.list[i]!;
      if (!m.retiring && m.free && !m.draining && now - m.lastActivity > maxIdleMs) {
        out.push(m);
        left--;
      }
    }
    return out;
  }

  /** Marks for retirement the connections beyond `maxSize` (the last opened), and returns the quiet ones. */
  beyond(maxSize: number): Member[] {
    const out: Member[] = [];
    for (let i = this.list.length - 1; i >= maxSize; i--) {
      const m = this.list[i]!;
      m.retiring = true;
      if (m.quiet) out.push(m);
    }
    return out;
  }

  /**
   * The spread tuner's window since the last call (which starts a new one): how many connections answered, and
   * their answers and socket reads.
   */
  window(): TunerWindow {
    const w = { active: 0, answers: 0, reads: 0 };
    for (const m of this.list) {
      if (m.windowAnswers > 0) {
        w.active++;
        w.answers += m.windowAnswers;
        w.reads += m.windowReads;
      }
      m.windowAnswers = 0;
      m.windowReads = 0;
    }
    return w;
  }

  /** The most statements in flight on one shared connection (the backlog the spread tuner may spread). */
  backlog(): number {
    let most = 0;
    for (const m of this.list) if (!m.lent && m.session.inFlight > most) most = m.session.inFlight;
    return most;
  }

  /** Milliseconds the longest-stalled shared connection has gone without an answer (0: none stalled). */
  stalledFor(): number {
    const now = performance.now();
    let most = 0;
    for (const m of this.list) if (!m.lent && m.stalled(now)) most = Math.max(most, now - m.session.progressAt);
    return most;
  }

  /** What the connections are doing. */
  state(): Pick<PoolState, "size" | "available" | "inUse" | "lent" | "inFlight"> {
    let lent = 0;
    let inFlight = 0;
    let busy = 0;
    let available = 0;
    for (const m of this.list) {
      if (m.free) available++;
      if (m.lent) lent++;
      else {
        inFlight += m.session.inFlight;
        if (m.session.inFlight > 0) busy++;
      }
    }
    return { size: this.list.length, available, inUse: lent + busy, lent, inFlight };
  }
}
