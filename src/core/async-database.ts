/**
 * AsyncDatabase: the asynchronous database handle, the root of the library.
 * @module
 */
import { inspect } from "node:util";
import { Config, type ConfigInit } from "../config.js";
import { DatabaseExists, TscopgError } from "../errors.js";
import { createDatabaseStatement } from "../sql/database-ddl.js";
import { transactionControl } from "../sql/placeholders.js";
import type { ConnectOptions, DatabaseApi, ExecuteOptions } from "./api.js";
import { AsyncConnection } from "./async-connection.js";
import { AsyncCursor } from "./async-cursor.js";
import { AsyncTransaction } from "./async-transaction.js";
import { ConnectionSource, type ConnectionSourceOptions } from "./connection-source.js";
import type { PgSession } from "./pg-session.js";
import { Queryable } from "./queryable.js";
import { HOOK_OPTION_KINDS, queryHooks, type HookOptions } from "./query-hooks.js";
import { ambientTransaction, runScoped, splitScopedArgs } from "./scoped.js";
import type { OwnSessionRunner, SessionSource } from "./session-source.js";
import type { BeginOptions } from "./tx-options.js";

/** Options every database handle takes, pooled or not (hooks). */
export interface HandleOptions extends HookOptions {}

/** The kinds of {@link HandleOptions}' keys, for `checkOptions` (a pool checks them with its own). */
export const HANDLE_OPTION_KINDS = HOOK_OPTION_KINDS;

/** Tuning of a database handle. */
export interface DatabaseOptions extends ConnectionSourceOptions, HandleOptions {}

/** Options of {@link AsyncDatabase.create}: where to connect, and how to create the database. */
export interface CreateDatabaseOptions extends ConfigInit {
  /** A base configuration (host, credentials, TLS, options); the other connection fields override it. */
  config?: Config | undefined;
  /** Owner role of the new database. */
  owner?: string | undefined;
  /** Template database. Default `template1`. */
  template?: string | undefined;
  /** Do nothing when the database exists (default). `false` raises {@link DatabaseExists}. */
  ifNotExists?: boolean | undefined;
  /** Handle options of the returned database. */
  databaseOptions?: DatabaseOptions | undefined;
}

/** Options of {@link AsyncDatabase.createFromEnv}. */
export interface CreateFromEnvOptions extends Omit<CreateDatabaseOptions, keyof ConfigInit | "config"> {
  dotenvPath?: string | null | undefined;
  loadDotenvFile?: boolean | undefined;
}

const CONNECT_OPTIONS = { autocommit: "boolean" } as const;

function toConfig(config: Config | ConfigInit | string | undefined): Config {
  if (config instanceof Config) return config;
  if (typeof config === "string") return Config.fromUrl(config);
  return new Config(config ?? {});
}

/**
 * The asynchronous database handle.
 *
 * Independent statements (`execute`, `fetchOne`, …) share one persistent, pipelined connection: concurrent
 * calls are written back to back without waiting for each other, and each statement commits on its own.
 * `transaction()`, `connect()` and `cursor()` use dedicated connections (reused through a small idle cache),
 * which can also COPY and stream. Inside a `transaction(async tx => …)` callback, this handle's own query
 * methods join that transaction.
 *
 * ```ts
 * await using db = AsyncDatabase.fromUrl("postgresql://postgres@localhost/app");
 * const users = await db.execute<{ id: number; name: string }>("SELECT id, name FROM users WHERE id = $1", [1]);
 * ```
 */
export class AsyncDatabase extends Queryable implements DatabaseApi<"async">, AsyncDisposable {
  readonly #config: Config;
  readonly #source: SessionSource;

  /** Creates a handle. No connection is opened until the first statement. */
  constructor(config?: Config | ConfigInit | string, options: DatabaseOptions = {}) {
    super();
    this._hooks = queryHooks(new.target.name, options);
    this.#config = toConfig(config);
    this.#source = this._createSessionSource(this.#config, options);
  }

  /**
   * Where this handle's sessions come from: by default a {@link ConnectionSource} (one shared pipelined
   * connection, dedicated plain ones in a small idle cache). A subclass overrides it to supply another
   * {@link SessionSource} (a pool). Called once, from the constructor, before the subclass's own fields are
   * initialised: use only the arguments. (Its leading underscore keeps it off the synchronous facade, whose
   * generator skips such names.)
   * @internal
   */
  protected _createSessionSource(config: Config, options: object): SessionSource {
    return new ConnectionSource(config, options as DatabaseOptions);
  }

  /** The connection configuration (its password is never printed). */
  get config(): Config {
    return this.#config;
  }

  /** A handle for a `postgresql://` URL (an instance of the class it is called on). */
  static fromUrl<T extends typeof AsyncDatabase>(this: T, url: string, options?: ConstructorParameters<T>[1]): InstanceType<T> {
    return new this(Config.fromUrl(url), options) as InstanceType<T>;
  }

  /** A handle configured from `DATABASE_URL`, `DB_*` or `PG*` variables (and a `.env` file). */
  static fromEnv<T extends typeof AsyncDatabase>(
    this: T,
    dotenvPath?: string | null,
    options?: { loadDotenvFile?: boolean | undefined } & ConstructorParameters<T>[1],
  ): InstanceType<T> {
    const { loadDotenvFile = true, ...rest } = options ?? {};
    return new this(Config.fromEnv(dotenvPath, { loadDotenvFile }), rest) as InstanceType<T>;
  }

  /**
   * Creates database `name` (unless it exists) by connecting to the `postgres` database, then returns a
   * handle on it (an instance of the class it is called on) that keeps every other setting of the configuration
   * (TLS, options, timeouts).
   */
  static async create<T extends typeof AsyncDatabase>(this: T, name: string, options: CreateDatabaseOptions = {}): Promise<InstanceType<T>> {
    const { config, owner, template = "template1", ifNotExists = true, databaseOptions, ...init } = options;
    const base = (config ?? new Config()).with(init);
    const statement = createDatabaseStatement(name, { owner, template }); // validates the names before connecting
    const admin = new AsyncDatabase(base.withDatabase("postgres"), { maxIdle: 0 });
    try {
      const exists = await admin.fetchVal<boolean>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", [name]);
      if (exists) {
        if (!ifNotExists) throw new DatabaseExists(`database ${JSON.stringify(name)} already exists`);
      } else {
        await admin.execute(statement.text);
      }
    } finally {
      await admin.close();
    }
    return new this(base.withDatabase(name), databaseOptions) as InstanceType<T>;
  }

  /** {@link create} with the connection taken from the environment (like {@link fromEnv}). */
  static async createFromEnv<T extends typeof AsyncDatabase>(
    this: T,
    name: string,
    options: CreateFromEnvOptions = {},
  ): Promise<InstanceType<T>> {
    const { dotenvPath, loadDotenvFile, ...rest } = options;
    const config = Config.fromEnv(dotenvPath, { loadDotenvFile: loadDotenvFile ?? true });
    return this.create(name, { ...rest, config });
  }

  /** @internal */
  _sessionFor(options: ExecuteOptions | undefined, sql: string): PgSession | Promise<PgSession> {
    if (options?.autocommit !== true) {
      const tx = ambientTransaction.getStore();
      // Inside a transaction callback (even one that has ended: running there in autocommit instead would
      // commit what the caller believes is part of the transaction).
      if (tx !== undefined && tx.owner === this) return tx._sessionFor(options, sql);
    }
    if (transactionControl(sql) !== 0) {
      throw new TscopgError(
        "BEGIN/COMMIT/ROLLBACK written as SQL are refused on the database's shared connection (its statements " +
          "are pipelined with everyone else's): use db.transaction() or db.connect() for explicit transactions",
      );
    }
    return this.#source.shared();
  }

  /** @inheritDoc Queryable._openTransaction */
  async _openTransaction(begin: BeginOptions | undefined, scoped: boolean): Promise<AsyncTransaction> {
    const ambient = ambientTransaction.getStore();
    // Inside one of its transaction callbacks: a savepoint of that transaction.
    if (ambient !== undefined && ambient.owner === this && !ambient.finished) return ambient._openTransaction(begin, scoped);
    const source = this.#source;
    const session = await source.acquire();
    const place = { owner: this, parent: undefined, depth: 0, slot: undefined, scoped, onEnd: () => source.release(session), own: this.#own, hooks: this._hooks };
    return AsyncTransaction.open(session, place, begin);
  }

  /** @inheritDoc Queryable._withPlainSession */
  async _withPlainSession<T>(fn: (session: PgSession) => Promise<T>, options?: ExecuteOptions): Promise<T> {
    if (options?.autocommit !== true) {
      const tx = ambientTransaction.getStore();
      if (tx !== undefined && tx.owner === this) return tx._withPlainSession(fn);
    }
    const source = this.#source;
    const session = await source.acquire();
    try {
      return await fn(session);
    } finally {
      source.release(session);
    }
  }

  /** @inheritDoc Queryable._inTransaction */
  _inTransaction(): boolean {
    const tx = ambientTransaction.getStore();
    return tx !== undefined && tx.owner === this;
  }

  /** @inheritDoc Queryable._withOwnSession */
  _withOwnSession<T>(fn: (session: PgSession) => Promise<T>): Promise<T> {
    return this._withPlainSession(fn, { autocommit: true });
  }

  /** @inheritDoc Queryable._openStandalone */
  _openStandalone(): Promise<PgSession | undefined> {
    return this.#source.standalone();
  }

  /** {@link _withOwnSession} and {@link _openStandalone}, bound, for the transactions and connections this database hands out. */
  readonly #own: OwnSessionRunner = Object.assign(<T>(fn: (session: PgSession) => Promise<T>) => this._withOwnSession(fn), {
    standalone: () => this._openStandalone(),
  });

  connect(options?: ConnectOptions): Promise<AsyncConnection>;
  connect<T>(fn: (conn: AsyncConnection) => T | PromiseLike<T>): Promise<T>;
  connect<T>(options: ConnectOptions, fn: (conn: AsyncConnection) => T | PromiseLike<T>): Promise<T>;
  async connect<T>(
    a?: ConnectOptions | ((conn: AsyncConnection) => T | PromiseLike<T>),
    b?: (conn: AsyncConnection) => T | PromiseLike<T>,
  ): Promise<AsyncConnection | T> {
    const [options, fn] = splitScopedArgs<ConnectOptions, (conn: AsyncConnection) => T | PromiseLike<T>>("connect", CONNECT_OPTIONS, a, b);
    const source = this.#source;
    const conn = new AsyncConnection(await source.acquire(), options?.autocommit ?? false, (s) => source.release(s), this.#own, this._hooks);
    return fn ? runScoped(conn, fn) : conn;
  }

  cursor(options?: ConnectOptions): Promise<AsyncCursor>;
  cursor<T>(fn: (cur: AsyncCursor) => T | PromiseLike<T>): Promise<T>;
  cursor<T>(options: ConnectOptions, fn: (cur: AsyncCursor) => T | PromiseLike<T>): Promise<T>;
  async cursor<T>(
    a?: ConnectOptions | ((cur: AsyncCursor) => T | PromiseLike<T>),
    b?: (cur: AsyncCursor) => T | PromiseLike<T>,
  ): Promise<AsyncCursor | T> {
    const [options, fn] = splitScopedArgs<ConnectOptions, (cur: AsyncCursor) => T | PromiseLike<T>>("cursor", CONNECT_OPTIONS, a, b);
    const cur = new AsyncCursor(await this.connect(options ?? {}), true);
    return fn ? runScoped(cur, fn) : cur;
  }

  /** Open connections of this handle (shared + idle + in use). */
  get connectionCount(): number {
    return this.#source.size;
  }

  /** Closes every connection. The handle cannot be used afterwards. */
  async close(): Promise<void> {
    await this.#source.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  override toString(): string {
    const c = this.config;
    return `${this.constructor.name}(${JSON.stringify(c.database)} @ ${c.host}:${c.port})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
