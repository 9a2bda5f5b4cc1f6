/**
 * A transaction or a savepoint on a dedicated connection.
 * @module
 */
import { TscopgError } from "../errors.js";
import type { ExecuteOptions, TransactionApi } from "./api.js";
import type { PgSession } from "./pg-session.js";
import { Queryable } from "./queryable.js";
import { runScoped, type Finishable } from "./scoped.js";

/**
 * A transaction (depth 0) or savepoint (depth ≥ 1). Statements run on its connection. End it with
 * {@link commit} or {@link rollback}; disposing it (`await using`) rolls back whatever was not committed.
 */
export class AsyncTransaction extends Queryable implements TransactionApi<"async">, Finishable, AsyncDisposable {
  #finished = false;
  #child: AsyncTransaction | undefined;

  /** @internal Use `db.transaction()`, `conn.transaction()` or `tx.transaction()`. */
  constructor(
    private readonly session: PgSession,
    /** The object whose `execute()` joins this transaction when it is ambient (a database handle), if any. @internal */
    readonly owner: object | undefined,
    depth: number,
    private readonly onEnd: (() => Promise<void>) | undefined,
  ) {
    super();
    this.#depth = depth;
  }

  readonly #depth: number;

  /** 0 for a top-level transaction, 1+ for savepoints. */
  get depth(): number {
    return this.#depth;
  }

  /** Sends BEGIN on `session` and returns the transaction. @internal */
  static async begin(session: PgSession, owner: object | undefined, onEnd?: () => Promise<void>): Promise<AsyncTransaction> {
    try {
      await session.query("BEGIN");
    } catch (err) {
      await onEnd?.();
      throw err;
    }
    return new AsyncTransaction(session, owner, 0, onEnd);
  }

  /** True once committed or rolled back. */
  get finished(): boolean {
    return this.#finished;
  }

  private get savepoint(): string {
    return `tscopg_sp_${this.depth}`;
  }

  protected sessionFor(_options?: ExecuteOptions): PgSession {
    if (this.#finished) throw new TscopgError("this transaction is already finished (committed or rolled back)");
    return this.session;
  }

  transaction(): Promise<AsyncTransaction>;
  transaction<T>(fn: (tx: AsyncTransaction) => T | PromiseLike<T>): Promise<T>;
  async transaction<T>(fn?: (tx: AsyncTransaction) => T | PromiseLike<T>): Promise<AsyncTransaction | T> {
    const session = this.sessionFor();
    if (this.#child && !this.#child.finished) throw new TscopgError("a savepoint of this transaction is still open");
    const child = new AsyncTransaction(session, this.owner, this.depth + 1, undefined);
    await session.query(`SAVEPOINT ${child.savepoint}`);
    this.#child = child;
    return fn ? runScoped(child, fn, child) : child;
  }

  /** Commits the transaction, or releases the savepoint. */
  async commit(): Promise<void> {
    const session = this.sessionFor();
    this.#finished = true;
    try {
      await session.query(this.depth === 0 ? "COMMIT" : `RELEASE SAVEPOINT ${this.savepoint}`);
    } finally {
      if (this.depth === 0) await this.onEnd?.();
    }
  }

  /** Rolls back the transaction, or back to the savepoint. */
  async rollback(): Promise<void> {
    const session = this.sessionFor();
    this.#finished = true;
    try {
      if (this.depth === 0) await session.query("ROLLBACK");
      else {
        await session.query(`ROLLBACK TO SAVEPOINT ${this.savepoint}`);
        await session.query(`RELEASE SAVEPOINT ${this.savepoint}`);
      }
    } finally {
      if (this.depth === 0) await this.onEnd?.();
    }
  }

  /** @internal */
  async _finish(ok: boolean): Promise<void> {
    if (this.#finished) return;
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
