/**
 * Where an {@link AsyncDatabase} gets its connections by default: one shared pipelined connection for independent
 * statements, and dedicated plain connections (kept in a small idle cache) for transactions, explicit
 * connections and cursors, which must be able to COPY and stream.
 * @module
 */
import type { Config } from "../config.js";
import { ConfigurationError, PoolTimeout, TscopgError } from "../errors.js";
import { PgSession } from "./pg-session.js";
import { callHook, isClean, resetForReuse, Standalones, Tasks } from "./session-care.js";
import type { BrokenListener, SessionSource } from "./session-source.js";

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

/**
 * Opens, hands out and recycles the sessions of one database handle: the default {@link SessionSource}.
 *
 * A dedicated session given back is reset only as far as needed, as pg-pool and psycopg_pool do, and off the
 * caller's path: a transaction left open is rolled back, and `DISCARD ALL` runs only when the session ran a
 * statement that may have changed session state (see `PgSession.stateChanged`). A session being reset still
 * counts against `maxConnections`; it goes to the next waiting request, or to the idle cache, once reset.
 */
export class ConnectionSource implements SessionSource {
  private sharedSession: PgSession | undefined;
  private sharedOpening: Promise<PgSession> | undefined;
  private readonly idle: PgSession[] = [];
  private readonly busy = new Set<PgSession>();
  /** Standalone sessions (see {@link standalone}) not ended yet. */
  private readonly standalones = new Standalones();
  /** Sessions given back and being reset. */
  private readonly resetting = new Set<PgSession>();
  /** Resets and closes in progress, which {@link close} waits for. */
  private readonly background = new Tasks();
  private readonly brokenListeners = new Set<BrokenListener>();
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

  private async open(pipeline: boolean): Promise<PgSession> {
    const session = await PgSession.open(this.config, { pipeline, attempts: this.options.connectAttempts ?? 3 });
    session.onBroken((reason) => this.broke(session, reason));
    return session;
  }

  /** A session broke: an idle one leaves the cache at once (freeing its slot); the listeners are told. */
  private broke(session: PgSession, reason: TscopgError): void {
    const i = this.idle.indexOf(session);
    if (i >= 0) {
      this.idle.splice(i, 1);
      this.discard(session);
    }
    for (const listener of this.brokenListeners) callHook(listener, session, reason);
  }

  /** {@inheritDoc SessionSource.onBroken} */
  onBroken(listener: BrokenListener): () => void {
    this.brokenListeners.add(listener);
    return () => this.brokenListeners.delete(listener);
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
    // Behind a transaction-mode pooler (PgBouncer, Supavisor) statements are not pipelined.
    this.sharedOpening ??= this.open(this.config.pooler !== "transaction").then(
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
      this.discard(session);
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
              `this handle are in use (${this.busy.size} busy, ${this.resetting.size} being reset) and ` +
              `${this.waiters.length + 1} request(s) were waiting. Close connections, cursors and transactions when ` +
              "done (a lost sync handle is only reclaimed by the garbage collector), or raise maxConnections",
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

  /** Closes a dedicated session for good and frees its slot at once. */
  private discard(session: PgSession): void {
    this.dedicated--;
    this.grantNext();
    this.background.add(session.close());
  }


  /**
   * Takes a dedicated session back and returns at once. A broken session is closed. A healthy one that is idle,
   * outside a transaction and changed no session state goes straight to the first waiting request or the idle
   * cache (at most `maxIdle`; beyond, it is closed). Otherwise it is reset first, off the caller's path: statements
   * in flight are waited for, an open transaction is rolled back, and `DISCARD ALL` runs if it changed session
   * state (settings, temporary tables, prepared statements, LISTEN, advisory locks, held cursors).
   */
  release(session: PgSession): void {
    if (!this.busy.delete(session)) return;
    if (this.closed || session.broken) {
      this.discard(session);
    } else if (isClean(session)) {
      this.recycle(session);
    } else {
      this.resetting.add(session);
      this.background.add(this.reset(session));
    }
  }

  private async reset(session: PgSession): Promise<void> {
    const ok = await resetForReuse(session);
    this.resetting.delete(session);
    if (ok && !this.closed) this.recycle(session);
    else this.discard(session);
  }

  /** A clean session: to the first waiting request, else the idle cache if it has room, else closed. */
  private recycle(session: PgSession): void {
    const next = this.waiters.shift();
    if (next !== undefined) {
      this.busy.add(session);
      next.grant(session);
    } else if (this.idle.length < this.maxIdle) {
      this.idle.push(session);
    } else {
      this.discard(session);
    }
  }

  /** {@inheritDoc SessionSource.standalone} */
  standalone(): Promise<PgSession | undefined> {
    return this.standalones.open(this.config, this.options.connectAttempts ?? 3, () => this.closed);
  }

  /** Number of open connections (shared + idle + in use + being reset + standalone). */
  get size(): number {
    const shared = this.sharedSession && !this.sharedSession.broken ? 1 : 0;
    return shared + this.idle.length + this.busy.size + this.resetting.size + this.standalones.size;
  }

  /**
   * Closes every connection. Statements in flight on the shared connection finish first, and so do resets in
   * progress (their sessions are then closed).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.fail(new TscopgError("the database handle is closed"));
    const all: PgSession[] = [...this.idle, ...this.busy];
    const listeners = this.standalones.close();
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
    await Promise.all([...all.map((s) => s.close()), ...listeners]);
    await this.background.drain();
  }
}
