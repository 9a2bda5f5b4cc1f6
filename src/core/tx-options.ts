/**
 * The options of `transaction()`: how the transaction begins (isolation level, read only, deferrable) and whether
 * its callback is retried (see `tx-retry.ts`).
 * @module
 */
import { ParameterError } from "../errors.js";
import type { AsyncTransaction } from "./async-transaction.js";
import { checkOptions } from "./options.js";
import { runScoped } from "./scoped.js";
import { checkOutermost, retrying, retryPolicy, type RetryOption, type RetryPolicy } from "./tx-retry.js";

/** A transaction isolation level (PostgreSQL runs `read uncommitted` as `read committed`). */
export type IsolationLevel = "serializable" | "repeatable read" | "read committed" | "read uncommitted";

const ISOLATION_LEVELS: readonly string[] = ["serializable", "repeatable read", "read committed", "read uncommitted"];

/** How a transaction begins: the modes of its `BEGIN`. A savepoint takes none (it refuses them). */
export interface BeginOptions {
  /** The isolation level (default: the server's `default_transaction_isolation`, normally `read committed`). */
  isolation?: IsolationLevel | undefined;
  /** `true`: `READ ONLY`; `false`: `READ WRITE` (default: the server's `default_transaction_read_only`). */
  readOnly?: boolean | undefined;
  /** `DEFERRABLE` (meaningful for a serializable read-only transaction: it waits for a safe snapshot, then never fails to serialize). */
  deferrable?: boolean | undefined;
}

/** Options of `transaction()`. */
export interface TransactionOptions extends BeginOptions {
  /**
   * Runs the callback again when the transaction fails with a serialization failure (SQLSTATE 40001) or a deadlock
   * (40P01), raised by a statement inside it or by its COMMIT, after a growing, jittered wait; any other error ends
   * it at once. `true`: 5 attempts in all, waits from 10 ms doubling up to 1 s; a number: that many attempts; or
   * {@link RetryOptions}. When the attempts are spent, the last attempt's error is raised, with the number of
   * attempts as its `attempts`. The callback form of an outermost transaction only (a savepoint cannot be retried:
   * the transaction it belongs to is aborted); the callback must throw the error (catching it and returning would
   * commit nothing, and raise `InFailedSqlTransaction`), and should do nothing outside the database that cannot run
   * twice. Mostly useful with `isolation: "serializable"` or `"repeatable read"`.
   */
  retry?: RetryOption | undefined;
}

const TRANSACTION_SHAPE = {
  isolation: "string",
  readOnly: "boolean",
  deferrable: "boolean",
  retry: "boolean|number|object?",
} as const;

/** What a call of `transaction()` asks for. */
export interface TransactionCall<F> {
  /** The callback, in the callback forms. */
  fn: F | undefined;
  /** How it begins, when any mode was given. */
  begin: BeginOptions | undefined;
  /** The retry policy, when asked for (callback forms only). */
  retry: RetryPolicy | undefined;
}

/**
 * Reads the arguments of `transaction()`, `transaction(options)`, `transaction(fn)`, `transaction(fn, options)` and
 * `transaction(options, fn)` (the order of `connect()` and `cursor()`), checked.
 * @throws {@link ParameterError} for a wrong option, or `retry` without a callback.
 */
export function transactionArgs<F>(a: unknown, b: unknown): TransactionCall<F> {
  let fn: unknown;
  let options: unknown;
  if (typeof a === "function") [fn, options] = [a, b];
  else if (typeof b === "function" || b === undefined) [fn, options] = [b, a];
  else throw new ParameterError(`transaction(): after the options comes the callback, got ${typeof b}`);
  const { retry, ...begin } = checkOptions("transaction", options as TransactionOptions | undefined, TRANSACTION_SHAPE);
  if (begin.isolation !== undefined && !ISOLATION_LEVELS.includes(begin.isolation)) {
    throw new ParameterError(`transaction(): isolation must be one of ${ISOLATION_LEVELS.map((l) => JSON.stringify(l)).join(", ")}, got ${JSON.stringify(begin.isolation)}`);
  }
  const policy = retryPolicy("transaction", retry);
  if (policy !== undefined && fn === undefined) {
    throw new ParameterError("transaction(): retry needs the callback form, transaction(fn, { retry }): only a callback can be run again");
  }
  const modes = begin.isolation !== undefined || begin.readOnly !== undefined || begin.deferrable !== undefined;
  return { fn: fn as F | undefined, begin: modes ? begin : undefined, retry: policy };
}

/**
 * Splits a callback form's options (as the synchronous facade receives them) into its retry policy and the rest,
 * which the transaction is opened with. The caller keeps the callback and reruns it itself.
 */
export function splitRetry(options: unknown): [RetryPolicy | undefined, unknown] {
  if (typeof options !== "object" || options === null || !("retry" in options)) return [undefined, options];
  const { retry, ...rest } = options as TransactionOptions;
  return [retryPolicy("transaction", retry), rest];
}

/** The `BEGIN` that opens a transaction with `begin`'s modes. */
export function beginStatement(begin: BeginOptions | undefined): string {
  if (begin === undefined) return "BEGIN";
  const modes: string[] = [];
  if (begin.isolation !== undefined) modes.push(`ISOLATION LEVEL ${begin.isolation.toUpperCase()}`);
  if (begin.readOnly !== undefined) modes.push(begin.readOnly ? "READ ONLY" : "READ WRITE");
  if (begin.deferrable !== undefined) modes.push(begin.deferrable ? "DEFERRABLE" : "NOT DEFERRABLE");
  return `BEGIN ${modes.join(", ")}`;
}

/** The error of modes given to a nested `transaction()`, which is a savepoint. */
export function modesOnSavepoint(): ParameterError {
  return new ParameterError(
    "transaction(): isolation, readOnly and deferrable set how a transaction begins: a nested transaction() is a savepoint, which cannot change them",
  );
}

/** A `transaction()` callback. */
type TransactionCallback = (tx: AsyncTransaction) => unknown;

/**
 * The body of `transaction()` (see `Queryable.transaction`): reads its arguments, then opens the transaction with
 * `open` and returns it, or runs the callback in it (again, with `retry`, after a serialization failure or a
 * deadlock: see `tx-retry.ts`).
 * @internal
 */
export function startTransaction(
  a: unknown,
  b: unknown,
  open: (begin: BeginOptions | undefined, scoped: boolean) => Promise<AsyncTransaction>,
): Promise<unknown> {
  const { fn, begin, retry } = transactionArgs<TransactionCallback>(a, b);
  if (fn === undefined) return open(begin, false);
  const body: TransactionCallback =
    retry === undefined
      ? fn
      : (tx) => {
          checkOutermost(tx.depth);
          return fn(tx);
        };
  return retrying(retry, async () => {
    const tx = await open(begin, true);
    return runScoped(tx, body, tx);
  });
}
