/**
 * Nesting rules for transactions: a connection or transaction has at most one transaction or savepoint open
 * directly beneath it, and nothing runs on the outer level while it is open. Otherwise a statement issued on
 * the outer level would be undone by the inner savepoint's rollback (and reported as done), and two
 * savepoints opened at once would roll back each other's work.
 * @module
 */
import { TscopgError } from "../errors.js";
import { ambientTransaction } from "./scoped.js";

/** What a slot holds: a transaction or savepoint, knowing the transaction it is nested in. */
export interface Nested {
  /** The transaction this one is a savepoint of (undefined for a top-level transaction). @internal */
  readonly parent: Nested | undefined;
  /** Marks it (and what is open beneath it) ended by the end of the level it is nested in. @internal */
  _abandon(): void;
}

/**
 * The error of a commit that found an inner transaction's callback still running (a missing `await`): the
 * caller rolls everything back first.
 */
export function endedWhileCallbackRuns(): TscopgError {
  return new TscopgError(
    "the transaction was ended while a transaction() or savepoint callback inside it was still running (a " +
      "missing await?): everything in it was rolled back",
  );
}

/**
 * The transaction or savepoint open directly beneath a connection or transaction. Work on the outer level
 * waits while it is open when that is safe (the inner one runs a callback elsewhere, so it will end by
 * itself), and is refused when waiting could never end: the inner one was opened without a callback (only
 * its owner can end it), or the caller is inside the inner one's callback.
 */
export class ChildSlot {
  #child: Nested | undefined;
  #scoped = false;
  #ended: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  /** The open inner transaction or savepoint, if any. */
  get child(): Nested | undefined {
    return this.#child;
  }

  /** True when the open inner one runs a callback (`transaction(async tx => …)`) that has not returned yet. */
  get callbackRunning(): boolean {
    return this.#child !== undefined && this.#scoped;
  }

  /** Ends the open inner one without sending anything: the outer level's end ends it (and frees the slot). */
  abandon(): void {
    this.#child?._abandon();
  }

  /**
   * `undefined` when nothing is open beneath (go ahead, synchronously); else a Promise that resolves when
   * the inner one ends (then check again).
   * @throws {@link TscopgError} when waiting could never end (see the class description).
   */
  wait(): Promise<void> | undefined {
    const child = this.#child;
    if (child === undefined) return undefined;
    if (!this.#scoped) {
      throw new TscopgError(
        "a savepoint (or transaction) opened without a callback is still open beneath this one: run statements " +
          "through it, and commit or roll it back before using the outer level again",
      );
    }
    for (let t: Nested | undefined = ambientTransaction.getStore(); t !== undefined; t = t.parent) {
      if (t === child) {
        throw new TscopgError(
          "the outer transaction (or connection) was used from inside its savepoint's callback: use the " +
            "transaction the callback received (db.* methods follow it), or wait until the callback has returned",
        );
      }
    }
    return this.#ended;
  }

  /** Occupies the slot with `child` (the slot must be free: call {@link wait} until it returns undefined). */
  take(child: Nested, scoped: boolean): void {
    this.#child = child;
    this.#scoped = scoped;
    this.#ended = new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  /** Frees the slot if `child` holds it, waking everything that waits for it. */
  release(child: Nested): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#ended = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
