/**
 * Where an {@link AsyncDatabase} gets its connections: one shared pipelined connection for independent
 * statements, and dedicated plain connections (kept in a small idle cache) for transactions, explicit
 * connections and cursors, which must be able to COPY and stream.
 * @module
 */
import type { Config } from "../config.js";
import { ConfigurationError, PoolTimeout, TscopgError } from "../errors.js";
import { PgSession } from "./pg-session.js";

/** Tuning for a {@link ConnectionSource}. */
export interface ConnectionSourceOptions {
  /** Dedicated connections kept open for reuse after release. Default 2. */
  maxIdle?: number | undefined;
  /**
   * Most dedicated connections (for `transaction()`, `connect()`, `cursor()`) open at once, idle ones
   * included; the shared pipelined connection is one more. Beyond it, requests wait in line (first come, first
   * served) up to {@link acquireTimeout}. Default 10.
   */
  maxConnections?: number | undefined;
  /**
   * Milliseconds a request for a dedicated connection may wait for one to become free before failing with
   * {@link PoolTimeout}. Default 30000.
   */
  acquireTimeout?: number | undefined;
  /**
   * Rounds over the configured hosts when connecting fails; a further round is tried only when some host failed at
   * the connection level (refused, reset, SQLSTATE class 08, 57P01–57P03). Default 3.
   */
  connectAttempts?: number | undefined;
}

/** A request waiting for a dedicated connection: given a session, or (with `undefined`) a slot to open one. */
interface Waiter {
  grant(session: PgSession | undefined): void;
  fail(err: unknown): void;
}

function checkCount(value: number | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Opens, hands out and recycles the sessions of one database handle. */
export class ConnectionSource {
  private sharedSession: PgSession | undefined;
  private sharedOpening: Promise<PgSession> | undefined;
  private readonly idle: PgSession[] = [];
  private readonly busy = new Set<PgSession>();
  /** Dedicated connections open or being opened (idle, busy, being reset, connecting): at most maxConnections. */
  private dedicated = 0;
  private readonly waiters: Waiter[] = [];
  private closed = false;
  private readonly maxIdle: number;
  private readonly maxConnections: number;
  private readonly acquireTimeout: number;

  constructor(
    readonly config: Config,
    private readonly options: ConnectionSourceOptions = {},
  ) {
    this.maxIdle = checkCount(options.maxIdle, 2, "maxIdle", 0);
    this.maxConnections = checkCount(options.maxConnections, 10, "maxConnections", 1);
    this.acquireTimeout = checkCount(options.acquireTimeout, 30_000, "acquireTimeout", 0);
  }

  private assertOpen(): void {
    if (this.closed) throw new TscopgError("the database handle is closed");
  }

  private open(pipeline: boolean): Promise<PgSession> {
    return PgSession.open(this.config, { pipeline, attempts: this.options.connectAttempts ?? 3 });
  }

  /** The shared pipelined session, opened on first use and reopened if it broke. */
  shared(): PgSession | Promise<PgSession> {
    const s = this.sharedSession;
    if (s !== undefined && !s.broken) return s;
    this.assertOpen();
    if (s !== undefined) {
      this.sharedSession = undefined;
      void s.close();
    }
    this.sharedOpening ??= this.open(true).then(
      (session) => {
        this.sharedOpening = undefined;
        if (this.closed) {
          void session.close();
          throw new TscopgError("the database handle is closed");
        }
        this.sharedSession = session;
        return session;
      },
      (err: unknown) => {
        this.sharedOpening = undefined;
        throw err;
      },
    );
    return this.sharedOpening;
  }

  /**
   * A dedicated plain session: an idle one, a new one while fewer than `maxConnections` are open, else the
   * next one given back (waiting at most `acquireTimeout`). Give it back with {@link release}.
   */
  async acquire(): Promise<PgSession> {
    this.assertOpen();
    let session: PgSession | undefined;
    while ((session = this.idle.pop()) !== undefined) {
      if (!session.broken) break;
      this.dedicated--;
      void session.close();
    }
    if (session === undefined) {
      if (this.dedicated < this.maxConnections) this.dedicated++;
      else session = await this.wait();
    }
    if (session === undefined) {
      try {
        session = await this.open(false);
      } catch (err) {
        this.dedicated--;
        this.grantNext();
        throw err;
      }
    }
    if (this.closed) {
      this.dedicated--;
      void session.close();
      throw new TscopgError("the database handle is closed");
    }
    this.busy.add(session);
    return session;
  }

  /** Waits in line for a session given back (or a slot freed, then `undefined`: open one). */
  private wait(): Promise<PgSession | undefined> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(
          new PoolTimeout(
            `no connection became free within ${this.acquireTimeout} ms: all ${this.maxConnections} connections of ` +
              `this handle are in use (${this.busy.size} busy) and ${this.waiters.length + 1} request(s) were ` +
              "waiting. Close connections, cursors and transactions when done (a lost sync handle is only " +
              "reclaimed by the garbage collector), or raise maxConnections",
          ),
        );
      }, this.acquireTimeout);
      const waiter: Waiter = {
        grant: (session) => {
          clearTimeout(timer);
          resolve(session);
        },
        fail: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** A dedicated connection was closed: its slot goes to the first waiter, which opens a new one. */
  private grantNext(): void {
    if (this.dedicated < this.maxConnections) {
      const next = this.waiters.shift();
      if (next !== undefined) {
        this.dedicated++;
        next.grant(undefined);
      }
    }
  }

  /** Closes a dedicated session for good and frees its slot. */
  private async discard(session: PgSession): Promise<void> {
    this.dedicated--;
    this.grantNext();
    await session.close();
  }

  /**
   * Takes a dedicated session back. A healthy idle session is reset with `DISCARD ALL` (session settings,
   * temporary tables, prepared statements, advisory locks), then handed to the first waiting request or kept
   * in the idle cache (at most `maxIdle`); anything else is closed.
   */
  async release(session: PgSession): Promise<void> {
    if (!this.busy.delete(session)) return;
    if (this.closed || session.broken || session.txStatus !== "I") {
      await this.discard(session);
      return;
    }
    try {
      await session.query("DISCARD ALL");
    } catch {
      await this.discard(session);
      return;
    }
    // Decided after the reset: releases that happen together must not all see room in the cache.
    const next = this.closed ? undefined : this.waiters.shift();
    if (next !== undefined) {
      this.busy.add(session);
      next.grant(session);
    } else if (!this.closed && this.idle.length < this.maxIdle) {
      this.idle.push(session);
    } else {
      await this.discard(session);
    }
  }

  /** Number of open connections (shared + idle + in use). */
  get size(): number {
    return (this.sharedSession && !this.sharedSession.broken ? 1 : 0) + this.idle.length + this.busy.size;
  }

  /** Closes every connection. Statements in flight on the shared connection finish first. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.fail(new TscopgError("the database handle is closed"));
    const all: PgSession[] = [...this.idle, ...this.busy];
    this.idle.length = 0;
    this.busy.clear();
    if (this.sharedSession) all.push(this.sharedSession);
    this.sharedSession = undefined;
    if (this.sharedOpening) {
      try {
        all.push(await this.sharedOpening);
      } catch {
        /* never opened */
      }
    }
    await Promise.all(all.map((s) => s.close()));
  }
}
