/**
 * Read scaling: a pool's read-only work goes to its standbys. One small pool per configured host, each connecting
 * only to a standby (`targetSessionAttrs: "standby"`; a host that is not one simply stays down); an independent
 * statement goes to the least loaded standby that is up, and to the primary when none is. Borrowers (transactions,
 * connections, COPY, cursors, streams) and LISTEN always get the primary's connections.
 * @module
 */
import type { Config } from "../config.js";
import { TscopgError } from "../errors.js";
import { AsyncDatabase } from "../core/async-database.js";
import type { PgSession } from "../core/pg-session.js";
import type { BrokenListener, SessionSource } from "../core/session-source.js";
import { PoolSource } from "./pool-source.js";
import type { PoolSettings } from "./settings.js";

/** Routes read-only work over the standbys' pools, falling back to the primary's. */
export class ReplicaRouter implements SessionSource {
  private readonly standbys: PoolSource[];

  constructor(
    /** The primary's source (owned by the pool, not closed here). */
    private readonly primary: SessionSource,
    settings: PoolSettings,
  ) {
    const base = primary.config;
    const config = base.hosts.length > 1 ? base : undefined;
    this.standbys =
      config === undefined
        ? []
        : config.hosts.map(
            (h) =>
              new PoolSource(
                config.with({ hosts: [{ ...h }], targetSessionAttrs: "standby" }),
                { ...settings, minSize: 0, failFast: true, onError: undefined, reconnectFailed: undefined },
              ),
          );
  }

  get config(): Config {
    return this.primary.config;
  }

  /**
   * A connection for a read-only statement: on the least loaded standby that is up (one not tried yet counts as
   * up); if its pool cannot open a connection, the next; the primary's when none can. A standby found down is
   * tried again in the background, never in a caller's path.
   */
  shared(): PgSession | Promise<PgSession> {
    const order: PoolSource[] = [];
    for (const p of this.standbys) {
      if (p.down) p.wake();
      else order.push(p);
    }
    order.sort((a, b) => a.load - b.load);
    const attempt = (i: number): PgSession | Promise<PgSession> => {
      const pool = order[i];
      if (pool === undefined) return this.primary.shared();
      let got: PgSession | Promise<PgSession>;
      try {
        got = pool.shared();
      } catch {
        return attempt(i + 1);
      }
      return got instanceof Promise ? got.catch(() => attempt(i + 1)) : got;
    };
    return attempt(0);
  }

  /** Borrowers always get the primary's connections. */
  acquire(): Promise<PgSession> {
    return this.primary.acquire();
  }

  release(session: PgSession): void {
    this.primary.release(session);
  }

  standalone(): Promise<PgSession | undefined> {
    return this.primary.standalone();
  }

  /** The standbys' connections. */
  get size(): number {
    return this.standbys.reduce((n, p) => n + p.size, 0);
  }

  onBroken(listener: BrokenListener): () => void {
    const offs = this.standbys.map((p) => p.onBroken(listener));
    return () => offs.forEach((off) => off());
  }

  /** Closes the standbys' pools (the primary's belongs to the pool). */
  async close(): Promise<void> {
    await Promise.all(this.standbys.map((p) => p.close()));
  }
}

/**
 * `pool.replicas`: every method of a database, with independent statements run on the standbys (see
 * {@link ReplicaRouter}). Statements that write fail there (the server refuses them) unless no standby is up.
 */
export class ReplicaView extends AsyncDatabase {
  /** @internal */
  protected override _createSessionSource(_config: Config, options: object): SessionSource {
    const router = (options as { router?: ReplicaRouter }).router;
    if (router === undefined) throw new TscopgError("a replica view is made by a pool (pool.replicas)");
    return router;
  }
}
