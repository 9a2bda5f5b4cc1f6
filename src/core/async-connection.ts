/**
 * A dedicated connection handed out by `db.connect()`.
 * @module
 */
import { TscopgError } from "../errors.js";
import type { ConnectionApi, ExecuteOptions } from "./api.js";
import { AsyncCursor } from "./async-cursor.js";
import { AsyncTransaction, failedCommit } from "./async-transaction.js";
import type { PgSession } from "./pg-session.js";
import { closePortals } from "./server-cursor.js";
import type { OwnSessionRunner } from "./session-source.js";
import type { QueryHooks } from "./query-hooks.js";
import type { BeginOptions } from "./tx-options.js";
import { ChildSlot, endedWhileCallbackRuns } from "./child-slot.js";
import { Queryable } from "./queryable.js";
import type { Finishable } from "./scoped.js";

/**
 * A connection of its own (not the database's shared one), able to run transactions, COPY and cursors.
 * With `autocommit: false` (the default) a transaction begins at the first statement and lasts until
 * {@link commit} or {@link rollback}. {@link close} (or `await using`) rolls back what was not committed and
 * gives the connection back.
 */
export class AsyncConnection extends Queryable implements ConnectionApi<"async">, Finishable, AsyncDisposable {
  #closed = false;
  /** The implicit BEGIN being sent (so concurrent first statements send one). */
  #beginning: Promise<void> | undefined;
  /** The transaction opened by {@link transaction} while it lasts. */
  readonly #children = new ChildSlot();

  /** @internal Use `db.connect()`. */
  constructor(
    private readonly session: PgSession,
    autocommit: boolean,
    private readonly release: (session: PgSession) => void,
    private readonly own: OwnSessionRunner,
    hooks: QueryHooks | undefined,
  ) {
    super();
    this._hooks = hooks;
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

  #live(): PgSession {
    if (this.#closed) throw new TscopgError("this connection is closed");
    return this.session;
  }

  private get inTransaction(): boolean {
    return this.#beginning !== undefined || this.session.txStatus !== "I";
  }

  /** @internal */
  _sessionFor(options: ExecuteOptions | undefined, sql: string): PgSession | Promise<PgSession> {
    const session = this.#live();
    const wait = this.#children.wait();
    if (wait !== undefined) return wait.then(() => this._sessionFor(options, sql));
    return this.autocommit ? session : this.#begun(session);
  }

  /**
   * The session inside a transaction: with `autocommit: false` one begins whenever the server reports none
   * open, including after a `COMMIT` or `ROLLBACK` written as SQL (checked once statements in flight have
   * answered, so the status is current).
   */
  #begun(session: PgSession): PgSession | Promise<PgSession> {
    if (this.#beginning !== undefined) return this.#beginning.then(() => session);
    const settling = session.settled();
    if (settling !== undefined) return settling.then(() => this.#begun(session));
    if (session.txStatus !== "I") return session;
    const beginning = session.command("BEGIN").then(
      () => {
        this.#beginning = undefined;
      },
      (err: unknown) => {
        this.#beginning = undefined;
        throw err;
      },
    );
    this.#beginning = beginning;
    return beginning.then(() => session);
  }

  /** @inheritDoc Queryable._openTransaction */
  async _openTransaction(begin: BeginOptions | undefined, scoped: boolean): Promise<AsyncTransaction> {
    for (let wait = this.#children.wait(); wait !== undefined; wait = this.#children.wait()) await wait;
    const session = this.#live();
    // Inside the connection's own transaction this is a savepoint of it; else a transaction of its own.
    const depth = this.inTransaction ? 1 : 0;
    const place = { owner: undefined, parent: undefined, depth, slot: this.#children, scoped, onEnd: undefined, own: this.own, hooks: this._hooks };
    return AsyncTransaction.open(session, place, begin);
  }
  /** A cursor over this connection (closing the cursor leaves the connection open). */
  async cursor(): Promise<AsyncCursor> {
    this.#live();
    return new AsyncCursor(this, false);
  }

  /**
   * Commits the current transaction (no-op when none is open). If a statement in it failed, rolls it back
   * instead and raises {@link InFailedSqlTransaction}: nothing of it was committed. A transaction or savepoint
   * from {@link transaction} still open without a callback is committed with it; one whose callback is still
   * running makes the commit roll everything back and raise.
   */
  async commit(): Promise<void> {
    const session = this.#live();
    if (this.#children.callbackRunning) {
      await this.rollback();
      throw endedWhileCallbackRuns();
    }
    if (!(await this.#settle(session))) return;
    if (session.txStatus === "E") {
      await session.command("ROLLBACK");
      throw failedCommit("transaction");
    }
    await session.command("COMMIT");
  }

  /** Rolls back the current transaction (no-op when none is open). */
  async rollback(): Promise<void> {
    const session = this.#live();
    if (await this.#settle(session)) await session.command("ROLLBACK");
  }

  /**
   * Ends what {@link transaction} left open beneath the connection, waits for statements in flight, and says
   * whether a transaction is open.
   */
  async #settle(session: PgSession): Promise<boolean> {
    this.#children.abandon();
    if (this.#beginning !== undefined) await this.#beginning.catch(() => undefined);
    await session.settled();
    return session.txStatus !== "I";
  }

  /** Rolls back anything uncommitted and gives the connection back. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await closePortals(this.session); // a stream or cursor left open on it (issue 15)
      if (this.inTransaction && !this.session.broken) await this.rollback();
    } catch {
      /* the connection is dropped below */
    } finally {
      this.#closed = true;
      this.release(this.session);
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
    return this.#live();
  }

  /**
   * Runs `fn` with this connection's own session, with the checks its statements get (refused once closed; waits
   * while a transaction callback runs beneath it; with `autocommit: false`, a transaction begins first, so what
   * `fn` runs is committed or rolled back with the connection's).
   * @internal For feature modules (COPY, server-side cursors, LISTEN).
   */
  async _withPlainSession<T>(fn: (session: PgSession) => Promise<T>, options?: ExecuteOptions): Promise<T> {
    return fn(await this._sessionFor(options, ""));
  }

  /** @inheritDoc Queryable._inTransaction */
  _inTransaction(): boolean {
    return !this.autocommit || this.inTransaction;
  }

  /** @inheritDoc Queryable._withOwnSession */
  _withOwnSession<T>(fn: (session: PgSession) => Promise<T>): Promise<T> {
    return this.own(fn);
  }

  /** @inheritDoc Queryable._openStandalone */
  _openStandalone(): Promise<PgSession | undefined> {
    return this.own.standalone();
  }

  override toString(): string {
    return `AsyncConnection(${this.autocommit ? "autocommit" : "transactional"}${this.#closed ? ", closed" : ""})`;
  }
}
