/**
 * A transaction or a savepoint on a dedicated connection.
 * @module
 */
import { InFailedSqlTransaction, TscopgError } from "../errors.js";
import { TX_BEGINS, transactionControl } from "../sql/placeholders.js";
import type { ExecuteOptions, TransactionApi } from "./api.js";
import { ChildSlot, endedWhileCallbackRuns, type Nested } from "./child-slot.js";
import type { PgSession } from "./pg-session.js";
import { closePortals } from "./server-cursor.js";
import type { OwnSessionRunner } from "./session-source.js";
import type { QueryHooks } from "./query-hooks.js";
import { Queryable } from "./queryable.js";
import type { Finishable } from "./scoped.js";
import { beginStatement, modesOnSavepoint, type BeginOptions } from "./tx-options.js";

/** The error of a commit that found a failed statement: what was to be committed was rolled back instead. */
export function failedCommit(what: "transaction" | "savepoint"): InFailedSqlTransaction {
  return new InFailedSqlTransaction(
    `the ${what} was rolled back because a statement in it failed; nothing of it was committed`,
    { code: "25P02" },
  );
}

/** How a transaction is tied to what it runs in. @internal */
interface Placement {
  /** The database handle whose `execute()` joins this transaction while its callback runs, if any. */
  owner: object | undefined;
  /** The transaction object this is a savepoint of (none for a savepoint of a connection's own transaction). */
  parent: AsyncTransaction | undefined;
  /** 0 for a transaction, 1+ for a savepoint. */
  depth: number;
  /** The slot this transaction occupies (its parent's, or its connection's), freed when it ends. */
  slot: ChildSlot | undefined;
  /** Whether it runs a callback (its end is then certain: the outer level may wait for it). */
  scoped: boolean;
  /** Called once when a top-level transaction has ended (gives the connection back, returning at once). */
  onEnd: (() => void) | undefined;
  /** Runs statements on a session of the database's source, outside this transaction. */
  own: OwnSessionRunner;
  /** The database handle's query hooks. */
  hooks: QueryHooks | undefined;
}

/**
 * A transaction (depth 0) or savepoint (depth ≥ 1). Statements run on its connection. End it with
 * {@link commit} or {@link rollback}; disposing it (`await using`) rolls back whatever was not committed.
 *
 * Guarantees: a commit that reports success committed (a transaction in which a statement failed is rolled
 * back and {@link commit} raises {@link InFailedSqlTransaction}); while a savepoint is open beneath it, this
 * transaction runs nothing itself (concurrent statements and savepoints wait for a savepoint's callback to
 * return, and are refused where waiting could never end); `COMMIT`/`ROLLBACK`/`BEGIN` written as SQL are
 * refused (use the methods), so the transaction's end is always the one this object reports.
 */
export class AsyncTransaction extends Queryable implements TransactionApi<"async">, Finishable, AsyncDisposable, Nested {
  #finished = false;
  /** Ended by its parent's end (not by itself). */
  #abandoned = false;
  readonly #children = new ChildSlot();
  readonly #depth: number;
  readonly #name: string;
  readonly #place: Placement;

  /** @internal Use `db.transaction()`, `conn.transaction()` or `tx.transaction()`. */
  constructor(
    private readonly session: PgSession,
    place: Placement,
  ) {
    super();
    this._hooks = place.hooks;
    this.#place = place;
    this.#depth = place.depth;
    this.#name = this.#depth === 0 ? "" : session.nextSavepointName();
  }

  /** 0 for a top-level transaction, 1+ for savepoints. */
  get depth(): number {
    return this.#depth;
  }

  /** The database handle whose query methods join this transaction inside its callback, if any. @internal */
  get owner(): object | undefined {
    return this.#place.owner;
  }

  /** The transaction this is a savepoint of. @internal */
  get parent(): AsyncTransaction | undefined {
    return this.#place.parent;
  }

  /**
   * Sends BEGIN (with `begin`'s modes), or SAVEPOINT for a savepoint, and returns the transaction, which then
   * occupies `place.slot`; on failure it is dropped (and `onEnd` called).
   * @internal
   */
  static async open(session: PgSession, place: Placement, begin?: BeginOptions): Promise<AsyncTransaction> {
    if (begin !== undefined && place.depth > 0) throw modesOnSavepoint();
    const tx = new AsyncTransaction(session, place);
    place.slot?.take(tx, place.scoped);
    try {
      await session.command(tx.#depth === 0 ? beginStatement(begin) : `SAVEPOINT ${tx.#name}`);
    } catch (err) {
      tx.#finished = true;
      place.slot?.release(tx);
      place.onEnd?.();
      throw err;
    }
    return tx;
  }

  /** True once committed or rolled back. */
  get finished(): boolean {
    return this.#finished;
  }

  #live(): PgSession {
    if (this.#finished) {
      throw new TscopgError(
        this.#abandoned
          ? "the transaction this savepoint belongs to has already ended"
          : "this transaction is already finished (committed or rolled back)",
      );
    }
    return this.session;
  }

  /** @internal The session a statement runs on (also used by the database's ambient-transaction path). */
  _sessionFor(_options: ExecuteOptions | undefined, sql: string): PgSession | Promise<PgSession> {
    const control = transactionControl(sql);
    if (control !== 0) {
      this.#live();
      const what = control & TX_BEGINS ? "BEGIN" : "COMMIT/ROLLBACK";
      throw new TscopgError(
        `${what} written as SQL is refused inside a transaction object: end it with commit() or rollback(), ` +
          "and nest with transaction() (savepoints)",
      );
    }
    return this.#ready();
  }

  /** The session once nothing is open beneath this transaction (see {@link ChildSlot.wait}). */
  #ready(): PgSession | Promise<PgSession> {
    const session = this.#live();
    const wait = this.#children.wait();
    return wait === undefined ? session : wait.then(() => this.#ready());
  }

  /**
   * Runs `fn` with this transaction's own session, with the checks its statements get (refused once finished;
   * waits while a savepoint callback runs beneath it). What `fn` runs (a COPY, a cursor) is part of the
   * transaction and rolls back with it.
   * @internal For feature modules (COPY, server-side cursors).
   */
  async _withPlainSession<T>(fn: (session: PgSession) => Promise<T>, _options?: ExecuteOptions): Promise<T> {
    return fn(await this.#ready());
  }

  /** @inheritDoc Queryable._inTransaction */
  _inTransaction(): boolean {
    return true;
  }

  /** @inheritDoc Queryable._withOwnSession */
  _withOwnSession<T>(fn: (session: PgSession) => Promise<T>): Promise<T> {
    return this.#place.own(fn);
  }

  /** @inheritDoc Queryable._openStandalone */
  _openStandalone(): Promise<PgSession | undefined> {
    return this.#place.own.standalone();
  }

  /** @inheritDoc Queryable._openTransaction */
  async _openTransaction(begin: BeginOptions | undefined, scoped: boolean): Promise<AsyncTransaction> {
    for (let wait = this.#children.wait(); wait !== undefined; wait = this.#children.wait()) await wait;
    const session = this.#live();
    const place = { ...this.#place, parent: this, depth: this.#depth + 1, slot: this.#children, scoped, onEnd: undefined };
    return AsyncTransaction.open(session, place, begin);
  }

  /**
   * Commits the transaction, or releases the savepoint. If a statement in it failed, rolls it back instead
   * and raises {@link InFailedSqlTransaction}: nothing of it was committed. A savepoint opened without a
   * callback and still open is committed with it; one whose callback is still running (a missing `await`)
   * makes the commit roll everything back and raise.
   */
  async commit(): Promise<void> {
    const session = this.#live();
    if (this.#children.callbackRunning) {
      await this.rollback();
      throw endedWhileCallbackRuns();
    }
    this.#finish();
    try {
      await closePortals(session); // a stream or cursor left open in it (issue 15)
      await session.settled();
      if (session.txStatus === "E") {
        await this.#undo(session);
        throw failedCommit(this.#depth === 0 ? "transaction" : "savepoint");
      }
      await session.command(this.#depth === 0 ? "COMMIT" : `RELEASE SAVEPOINT ${this.#name}`);
    } finally {
      await this.#ended();
    }
  }

  /** Rolls back the transaction, or back to the savepoint (and everything opened beneath it). */
  async rollback(): Promise<void> {
    const session = this.#live();
    this.#finish();
    try {
      await closePortals(session); // a stream or cursor left open in it (issue 15)
      await session.settled();
      await this.#undo(session);
    } finally {
      await this.#ended();
    }
  }

  /** Marks this transaction and everything open beneath it finished. */
  #finish(): void {
    this.#finished = true;
    this.#children.abandon();
  }

  /** Ended because the level it is nested in (a transaction, or a connection's transaction) ended. @internal */
  _abandon(): void {
    if (this.#finished) return;
    this.#abandoned = true;
    this.#finish();
    this.#place.slot?.release(this);
  }

  async #undo(session: PgSession): Promise<void> {
    await session.command(this.#depth === 0 ? "ROLLBACK" : `ROLLBACK TO SAVEPOINT ${this.#name}; RELEASE SAVEPOINT ${this.#name}`);
  }

  async #ended(): Promise<void> {
    this.#place.slot?.release(this);
    if (this.#depth === 0) this.#place.onEnd?.();
  }

  /** @internal */
  async _finish(ok: boolean): Promise<void> {
    if (this.#finished) {
      if (ok && this.#abandoned) this.#live(); // raises: its work went with the transaction it belonged to
      return;
    }
    if (ok) await this.commit();
    else await this.rollback();
  }

  /** Rolls back unless already committed or rolled back. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this._finish(false);
  }

  override toString(): string {
    return `AsyncTransaction(depth=${this.depth}${this.#finished ? ", finished" : ""})`;
  }
}
