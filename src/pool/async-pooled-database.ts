/**
 * AsyncPooledDatabase: a database handle whose connections come from a pool. It is an {@link AsyncDatabase} with
 * another session source, so every method and namespace of the database works on it unchanged.
 * @module
 */
import type { Config, ConfigInit } from "../config.js";
import { ParameterError, TscopgError } from "../errors.js";
import { statementFlags } from "../sql/placeholders.js";
import { SESSION_STATE, TX_BEGINS, TX_ENDS } from "../sql/statement-kind.js";
import type { ConnectOptions, ExecuteOptions } from "../core/api.js";
import type { PgSession } from "../core/pg-session.js";
import type { AsyncConnection } from "../core/async-connection.js";
import { AsyncDatabase, HANDLE_OPTION_KINDS, type HandleOptions } from "../core/async-database.js";
import type { SessionSource } from "../core/session-source.js";
import { PoolSource } from "./pool-source.js";
import { ReplicaRouter, ReplicaView } from "./replicas.js";
import { poolSettings, seconds, type PoolSettingsInit } from "./settings.js";
import type { PoolStats } from "./stats.js";

/** Options of a pool: sizes, times (in seconds, as in pycopg) and hooks. */
export interface PoolOptions extends PoolSettingsInit, HandleOptions {}

/** A method's `timeout` argument (seconds) in ms. @throws ParameterError unless a number ≥ 0. */
const timeoutArg = (method: string, value: number | undefined, fallback: number): number =>
  seconds(value, fallback, `${method}(): timeout`, ParameterError);

/**
 * The asynchronous connection pool: `minSize` to `maxSize` server connections shared by every caller.
 *
 * Independent statements (`execute`, `fetchOne`, the CRUD and schema methods, …) are pipelined: they fill one
 * connection before the next is used, and never queue behind a statement that is taking long while another
 * connection can run them. Transactions, `connection()`, COPY, cursors and streams borrow a connection for
 * themselves. A call that cannot start within `timeout` seconds fails with {@link PoolTimeout}, which names the
 * pool's state. A connection that breaks is dropped and replaced, never handed out again; old and idle ones are
 * recycled (`maxLifetime`, `maxIdle`).
 *
 * ```ts
 * await using pool = new AsyncPooledDatabase(url, { minSize: 2, maxSize: 10 });
 * await pool.open();
 * const n = await pool.fetchVal<number>("SELECT $1::int + 1", [41]);
 * ```
 */
export class AsyncPooledDatabase extends AsyncDatabase {
  /** Set by {@link _createSessionSource} (during the base constructor: `declare` keeps it from being reset). */
  declare private pool: PoolSource;
  #replicas: { view: ReplicaView; router: ReplicaRouter } | undefined;

  /** Creates a pool. No connection is opened until {@link open} or the first call. */
  constructor(config?: Config | ConfigInit | string, options: PoolOptions = {}) {
    super(config, options as never);
  }

  /** @internal */
  protected override _createSessionSource(config: Config, options: object): SessionSource {
    // Given several hosts, the pool's own connections go to the one that takes writes (unless told otherwise);
    // read-only work can go to the others (see `replicas`).
    const primary = config.hosts.length > 1 && config.targetSessionAttrs === "any" ? config.with({ targetSessionAttrs: "read-write" }) : config;
    this.pool = new PoolSource(primary, poolSettings(options as PoolOptions, HANDLE_OPTION_KINDS));
    return this.pool;
  }

  /**
   * Where a statement runs: as on a database, but a statement that changes session state (`SET`, `LISTEN`, a
   * temporary table, `PREPARE`, a session advisory lock, …) is refused on the shared connections, where it would
   * change one of them only.
   * @internal
   */
  override _sessionFor(options: ExecuteOptions | undefined, sql: string): PgSession | Promise<PgSession> {
    const readOnly = options?.readOnly === true;
    const flags = statementFlags(sql);
    const stateful = (flags & SESSION_STATE) !== 0;
    if (!readOnly && !stateful) return super._sessionFor(options, sql); // the usual case, first
    const outside = options?.autocommit === true || !this._inTransaction();
    if (outside && readOnly && (flags & (TX_BEGINS | TX_ENDS | SESSION_STATE)) === 0) return this.#replicaRouter().shared();
    if (outside && stateful) {
      throw new TscopgError(
        "this statement changes session state, which on a pool would change one of its connections only (and the next " +
          "statement may run on another): use pool.connection() for session settings, listen() for LISTEN, or " +
          "Config.options for settings every connection should have",
      );
    }
    return super._sessionFor(options, sql);
  }

  /**
   * The pool's read replicas: every method of a database, with independent statements run on a standby of the
   * configured hosts (the least loaded one that is up), or on the primary when none is. Transactions, connections,
   * COPY, cursors, streams and LISTEN use the primary. The same as passing `{ readOnly: true }` to a query method.
   */
  get replicas(): AsyncDatabase {
    return this.#replicaView().view;
  }

  #replicaView(): { view: ReplicaView; router: ReplicaRouter } {
    if (this.#replicas === undefined) {
      const router = new ReplicaRouter(this.pool, { ...this.pool.settings });
      this.#replicas = { view: new ReplicaView(this.config, { router } as never), router };
    }
    return this.#replicas;
  }

  #replicaRouter(): ReplicaRouter {
    return this.#replicaView().router;
  }

  /**
   * Opens the pool's `minSize` connections and waits until they are ready (at most `timeout` seconds, default the
   * pool's `timeout`). Calls made before `open()` also open the pool; `open()` makes start-up failures visible early.
   * @throws PoolTimeout naming the pool's state and the last connection error.
   */
  async open(timeout?: number): Promise<void> {
    await this.pool.wait(timeout === undefined ? this.pool.timeoutMs : timeoutArg("open", timeout, 0));
  }

  /**
   * Waits until `minSize` connections are open (at most `timeout` seconds, default 30).
   * @throws PoolTimeout naming the pool's state and the last connection error.
   */
  async wait(timeout = 30): Promise<void> {
    await this.pool.wait(timeoutArg("wait", timeout, 30));
  }

  /**
   * A connection of the pool for the caller alone (like `connect()`): an `await using` resource, or with a callback
   * that gets it and gives it back when the callback settles (committing on success, rolling back on error).
   */
  connection(options?: ConnectOptions): Promise<AsyncConnection>;
  connection<T>(fn: (conn: AsyncConnection) => T | PromiseLike<T>): Promise<T>;
  connection<T>(options: ConnectOptions, fn: (conn: AsyncConnection) => T | PromiseLike<T>): Promise<T>;
  connection<T>(
    a?: ConnectOptions | ((conn: AsyncConnection) => T | PromiseLike<T>),
    b?: (conn: AsyncConnection) => T | PromiseLike<T>,
  ): Promise<AsyncConnection | T> {
    return (this.connect as (a?: unknown, b?: unknown) => Promise<AsyncConnection | T>)(a, b);
  }

  /** Changes the pool's sizes while it runs: connections beyond the new `maxSize` close once nothing runs on them. */
  resize(minSize: number, maxSize: number): void {
    this.pool.resize(minSize, maxSize);
  }

  /** Tests every connection nobody is using (one round trip each); broken ones are closed and replaced. */
  async check(): Promise<void> {
    await this.pool.check();
  }

  /** Sizes, what the connections are doing, and counters since the pool was created. */
  get stats(): PoolStats {
    return this.pool.snapshot();
  }

  /**
   * Closes the pool: calls waiting for a connection fail at once; transactions, borrowed connections and
   * statements in flight get up to `timeout` seconds (default 5) to finish; then every connection is closed.
   */
  override async close(timeout = 5): Promise<void> {
    const ms = timeoutArg("close", timeout, 5);
    await Promise.all([this.pool.closeWithin(ms), this.#replicas?.router.close()]);
  }
}
