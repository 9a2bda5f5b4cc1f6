/**
 * A dedicated connection handed out by `db.connect()`.
 * @module
 */
import { TscopgError } from "../errors.js";
import type { ConnectionApi, ExecuteOptions } from "./api.js";
import { AsyncCursor } from "./async-cursor.js";
import { AsyncTransaction } from "./async-transaction.js";
import type { PgSession } from "./pg-session.js";
import { Queryable } from "./queryable.js";
import { runScoped, type Finishable } from "./scoped.js";

/**
 * A connection of its own (not the database's shared one), able to run transactions, COPY and cursors.
 * With `autocommit: false` (the default) a transaction begins at the first statement and lasts until
 * {@link commit} or {@link rollback}. {@link close} (or `await using`) rolls back what was not committed and
 * gives the connection back.
 */
export class AsyncConnection extends Queryable implements ConnectionApi<"async">, Finishable, AsyncDisposable {
  #closed = false;
  #begun = false;

  /** @internal Use `db.connect()`. */
  constructor(
    private readonly session: PgSession,
    autocommit: boolean,
    private readonly release: (session: PgSession) => Promise<void>,
  ) {
    super();
    this.#autocommit = autocommit;
  }

  readonly #autocommit: boolean;

  /** Whether every statement commits at once. */
  get autocommit(): boolean {
    return this.#autocommit;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  private live(): PgSession {
    if (this.#closed) throw new TscopgError("this connection is closed");
    return this.session;
  }

  private get inTransaction(): boolean {
    return this.#begun || this.session.txStatus !== "I";
  }

  protected async sessionFor(_options?: ExecuteOptions): Promise<PgSession> {
    const session = this.live();
    if (!this.autocommit && !this.inTransaction) {
      this.#begun = true;
      await session.query("BEGIN");
    }
    return session;
  }

  transaction(): Promise<AsyncTransaction>;
  transaction<T>(fn: (tx: AsyncTransaction) => T | PromiseLike<T>): Promise<T>;
  async transaction<T>(fn?: (tx: AsyncTransaction) => T | PromiseLike<T>): Promise<AsyncTransaction | T> {
    const session = this.live();
    let tx: AsyncTransaction;
    if (this.inTransaction) {
      tx = new AsyncTransaction(session, undefined, 1, undefined);
      await session.query("SAVEPOINT tscopg_sp_1");
    } else {
      tx = await AsyncTransaction.begin(session, undefined);
    }
    return fn ? runScoped(tx, fn, tx) : tx;
  }

  /** A cursor over this connection (closing the cursor leaves the connection open). */
  async cursor(): Promise<AsyncCursor> {
    this.live();
    return new AsyncCursor(this, false);
  }

  /** Commits the current transaction (no-op when none is open). */
  async commit(): Promise<void> {
    const session = this.live();
    if (!this.inTransaction) return;
    this.#begun = false;
    await session.query("COMMIT");
  }

  /** Rolls back the current transaction (no-op when none is open). */
  async rollback(): Promise<void> {
    const session = this.live();
    if (!this.inTransaction) return;
    this.#begun = false;
    await session.query("ROLLBACK");
  }

  /** Rolls back anything uncommitted and gives the connection back. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      if (this.inTransaction && !this.session.broken) await this.rollback();
    } catch {
      /* the connection is dropped below */
    } finally {
      this.#closed = true;
      await this.release(this.session);
    }
  }

  /** @internal */
  async _finish(ok: boolean): Promise<void> {
    if (this.#closed) return;
    if (ok) {
      try {
        await this.commit();
      } catch (err) {
        await this.close();
        throw err;
      }
    }
    await this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal The raw session, for feature modules that need COPY or cursors. */
  get _session(): PgSession {
    return this.live();
  }

  override toString(): string {
    return `AsyncConnection(${this.autocommit ? "autocommit" : "transactional"}${this.#closed ? ", closed" : ""})`;
  }
}
