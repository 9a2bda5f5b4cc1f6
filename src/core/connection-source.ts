/**
 * Where an {@link AsyncDatabase} gets its connections: one shared pipelined connection for independent
 * statements, and dedicated plain connections (kept in a small idle cache) for transactions, explicit
 * connections and cursors, which must be able to COPY and stream.
 * @module
 */
import type { Config } from "../config.js";
import { TscopgError } from "../errors.js";
import { PgSession } from "./pg-session.js";

/** Tuning for a {@link ConnectionSource}. */
export interface ConnectionSourceOptions {
  /** Dedicated connections kept open for reuse after release. Default 2. */
  maxIdle?: number | undefined;
  /**
   * Rounds over the configured hosts when connecting fails; a further round is tried only when some host failed at
   * the connection level (refused, reset, SQLSTATE class 08, 57P01–57P03). Default 3.
   */
  connectAttempts?: number | undefined;
}

/** Opens, hands out and recycles the sessions of one database handle. */
export class ConnectionSource {
  private sharedSession: PgSession | undefined;
  private sharedOpening: Promise<PgSession> | undefined;
  private readonly idle: PgSession[] = [];
  private readonly busy = new Set<PgSession>();
  private closed = false;
  private readonly maxIdle: number;

  constructor(
    readonly config: Config,
    private readonly options: ConnectionSourceOptions = {},
  ) {
    this.maxIdle = options.maxIdle ?? 2;
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

  /** A dedicated plain session, from the idle cache or newly opened. Give it back with {@link release}. */
  async acquire(): Promise<PgSession> {
    this.assertOpen();
    let session: PgSession | undefined;
    while ((session = this.idle.pop()) !== undefined) {
      if (!session.broken) break;
    }
    session ??= await this.open(false);
    if (this.closed) {
      void session.close();
      throw new TscopgError("the database handle is closed");
    }
    this.busy.add(session);
    return session;
  }

  /**
   * Takes a dedicated session back. A healthy idle session is reset with `DISCARD ALL` (session settings,
   * temporary tables, prepared statements, advisory locks) and cached; anything else is closed.
   */
  async release(session: PgSession): Promise<void> {
    this.busy.delete(session);
    if (this.closed || session.broken || session.txStatus !== "I" || this.idle.length >= this.maxIdle) {
      await session.close();
      return;
    }
    try {
      await session.query("DISCARD ALL");
      if (this.closed) await session.close();
      else this.idle.push(session);
    } catch {
      await session.close();
    }
  }

  /** Number of open connections (shared + idle + in use). */
  get size(): number {
    return (this.sharedSession && !this.sharedSession.broken ? 1 : 0) + this.idle.length + this.busy.size;
  }

  /** Closes every connection. Statements in flight on the shared connection finish first. */
  async close(): Promise<void> {
    this.closed = true;
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
