/**
 * Retrying a transaction callback that failed with a serialization failure or a deadlock: the one policy (which
 * errors, how many attempts, how long to wait between them) of `transaction(fn, { retry })`, used by the async
 * classes and by the synchronous facade (which reruns the callback on its own thread, sleeping with its own sleep).
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ParameterError, TscopgError } from "../errors.js";
import { checkOptions } from "./options.js";

/** The `retry` option of `transaction()` as an object. */
export interface RetryOptions {
  /** Times the callback may run in all, the first included (an integer ≥ 1). Default 5. */
  attempts?: number | undefined;
  /** Milliseconds of the wait before the first retry; it doubles with every retry. Default 10. */
  baseDelay?: number | undefined;
  /** The longest wait between two attempts, in milliseconds. Default 1000. */
  maxDelay?: number | undefined;
}

/** The `retry` option: `true` (the defaults), the number of attempts, or {@link RetryOptions}. */
export type RetryOption = boolean | number | RetryOptions;

/** A checked retry option. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
}

/**
 * `retry: true`: five attempts in all, the waits between them 10, 20, 40 and 80 ms (each drawn between half and
 * all of that), under a second each at most. A conflict between serializable transactions usually clears once the
 * transaction that won has committed, which takes milliseconds; five attempts let several contenders through.
 */
export const RETRY_DEFAULTS: RetryPolicy = Object.freeze({ attempts: 5, baseDelay: 10, maxDelay: 1000 });

/** SQLSTATEs after which running the transaction again can succeed: serialization_failure, deadlock_detected. */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(["40001", "40P01"]);

const RETRY_SHAPE = { attempts: "number", baseDelay: "number", maxDelay: "number" } as const;

/**
 * The policy asked for by `retry` (`undefined`: no retrying), checked.
 * @throws {@link ParameterError} naming `method` for a value of the wrong kind or out of range.
 */
export function retryPolicy(method: string, retry: unknown): RetryPolicy | undefined {
  checkOptions(method, { retry }, { retry: "boolean|number|object?" });
  if (retry === undefined || retry === null || retry === false) return undefined;
  if (retry === true) return RETRY_DEFAULTS;
  const o = typeof retry === "number" ? { attempts: retry } : checkOptions(method, retry as RetryOptions, RETRY_SHAPE);
  const attempts = o.attempts ?? RETRY_DEFAULTS.attempts;
  const baseDelay = o.baseDelay ?? RETRY_DEFAULTS.baseDelay;
  const maxDelay = o.maxDelay ?? Math.max(RETRY_DEFAULTS.maxDelay, baseDelay);
  if (!Number.isInteger(attempts) || attempts < 1) throw new ParameterError(`${method}(): retry attempts must be an integer ≥ 1, got ${attempts}`);
  for (const [name, ms] of [["baseDelay", baseDelay], ["maxDelay", maxDelay]] as const) {
    if (!Number.isFinite(ms) || ms < 0) throw new ParameterError(`${method}(): retry ${name} must be a number of milliseconds ≥ 0, got ${ms}`);
  }
  return { attempts, baseDelay, maxDelay };
}

/** Whether running the whole transaction again may succeed where `err` ended it (SQLSTATE 40001 or 40P01). */
export function isRetryable(err: unknown): boolean {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && RETRYABLE_SQLSTATES.has(code);
}

/**
 * The wait before retry number `retry` (1 = the second attempt): exponential (`baseDelay · 2^(retry-1)`, at most
 * `maxDelay`), with jitter: drawn between half and all of it, so that transactions that failed together do not
 * meet again.
 */
export function retryDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelay, policy.baseDelay * 2 ** (retry - 1));
  return cap / 2 + (random() * cap) / 2;
}

/** The error a `retry` on a savepoint is refused with (a retry cannot help: the outer transaction is aborted). */
export function checkOutermost(depth: number): void {
  if (depth !== 0) {
    throw new ParameterError(
      "transaction(): retry only on an outermost transaction: this one is a savepoint, and after a serialization " +
        "failure or a deadlock the transaction it belongs to is aborted (retry that one instead)",
    );
  }
}

/** The attempts of one retrying transaction. */
export class RetryRun {
  #attempt = 1;

  constructor(private readonly policy: RetryPolicy) {}

  /**
   * The wait (ms) before the next attempt, now that `err` ended the current one; rethrows `err` (with the attempts
   * made as its `attempts`) when it is not retryable or no attempt is left.
   */
  failed(err: unknown): number {
    if (!isRetryable(err) || this.#attempt >= this.policy.attempts) {
      if (err instanceof TscopgError) err.attempts = this.#attempt;
      throw err;
    }
    return retryDelay(this.policy, this.#attempt++);
  }
}

/** Runs `attempt` until it succeeds, under `policy` (none: once). */
export async function retrying<T>(policy: RetryPolicy | undefined, attempt: () => Promise<T>): Promise<T> {
  if (policy === undefined) return attempt();
  const run = new RetryRun(policy);
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      await sleep(run.failed(err));
    }
  }
}

/** {@link retrying} for a blocking `attempt`, waiting with the blocking `sleepSync`. */
export function retryingSync<T>(policy: RetryPolicy | undefined, attempt: () => T, sleepSync: (ms: number) => void): T {
  if (policy === undefined) return attempt();
  const run = new RetryRun(policy);
  for (;;) {
    try {
      return attempt();
    } catch (err) {
      sleepSync(run.failed(err));
    }
  }
}
