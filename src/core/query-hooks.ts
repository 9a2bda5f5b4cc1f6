/**
 * Query hooks: a database handle's `onQuery` option, called after each statement it runs (its query methods and
 * `executeMany`, on the database and on the transactions and connections it hands out).
 * @module
 */
import { locateError } from "../errors.js";
import { boundStatement } from "../sql/encode.js";
import type { QueryParams } from "../sql/placeholders.js";
import { checkOptions } from "./options.js";
import type { StatementResult } from "./statement-result.js";

/** What `onQuery` is told about one statement (or one `executeMany` batch). */
export interface QueryEvent {
  /** The statement's text, as the caller wrote it (`:name` placeholders included). */
  sql: string;
  /**
   * With `onQueryParams: true` only (parameters may hold secrets): the values bound to it, in `$1…$n` order,
   * encoded as they were sent (text, Buffers, `null`); for a batch, one such list per statement.
   */
  params?: readonly unknown[] | undefined;
  /** Milliseconds from the call to the answer (waiting for a connection included). */
  durationMs: number;
  /** Rows affected or returned (a batch: affected by all its statements); `null` when none is reported or it failed. */
  rowCount: number | null;
  /** The command tag's verb (`SELECT`, `INSERT`, …); `null` when it failed, and for a batch. */
  command: string | null;
  /** The error the statement failed with (the one the caller gets); absent when it succeeded. */
  error?: Error | undefined;
  /** For an `executeMany` batch (one event per chunk of parameter sets): how many statements it ran. */
  batch?: number | undefined;
}

/** A query hook. What it throws, or a Promise it returns rejects with, is reported apart (see {@link callHook}). */
export type QueryHook = (event: QueryEvent) => void;

/** The hook options every database handle takes. */
export interface HookOptions {
  /**
   * Called after each statement the handle runs through `query`, `execute`, `fetchOne`, `fetchVal`, `fetchAll`
   * and `executeMany` (one event per batch), on the handle itself and on its transactions and connections; also
   * for the statements feature methods run through those. Not for what tscopg sends itself (BEGIN, COMMIT,
   * savepoints), nor for cursors, streams, COPY and LISTEN. Unset, it costs one check per statement.
   */
  onQuery?: QueryHook | undefined;
  /** Include the bound parameter values in the events (`params`). Default `false`: they may hold secrets. */
  onQueryParams?: boolean | undefined;
}

/**
 * The options of a database handle that hold hooks: functions called during later calls (the synchronous facade
 * calls them on its own thread, with the events its worker recorded).
 */
export const HOOK_NAMES: readonly string[] = ["onQuery", "onError", "reconnectFailed"];

/** A handle's hooks, checked: what it and its transactions and connections call. @internal */
export interface QueryHooks {
  readonly onQuery: QueryHook;
  readonly params: boolean;
}

/** The kinds of the hook options (for a handle that checks all its options at once, as a pool does). */
export const HOOK_OPTION_KINDS = { onQuery: "function?", onQueryParams: "boolean?" } as const;

/** The hooks `options` ask for (none: `undefined`), checked. `what` names the handle's class in errors. */
export function queryHooks(what: string, options: HookOptions | undefined): QueryHooks | undefined {
  if (options === undefined || options === null) return undefined;
  const { onQuery, onQueryParams } = options;
  checkOptions(what, { onQuery, onQueryParams }, HOOK_OPTION_KINDS);
  return onQuery == null ? undefined : { onQuery, params: onQueryParams === true };
}

/**
 * Calls `hook`. A hook cannot break the statement it reports on: what it throws (or a Promise it returns rejects
 * with) is rethrown on its own, from a microtask, as an uncaught exception (`process.on("uncaughtException")`
 * sees it), as an event listener's error would be.
 */
export function callHook(hook: QueryHook, event: QueryEvent): void {
  try {
    const r = hook(event) as unknown;
    if (typeof (r as PromiseLike<unknown> | null)?.then === "function") (r as PromiseLike<unknown>).then(undefined, rethrowApart);
  } catch (err) {
    rethrowApart(err);
  }
}

function rethrowApart(err: unknown): void {
  queueMicrotask(() => {
    throw err; // the hook's own error: not the statement's
  });
}

/** The values `params` bind to `sql`, as sent (for `onQueryParams`); undefined when they cannot be bound. */
function boundValues(sql: string, params: QueryParams | null | undefined): unknown[] | undefined {
  try {
    return boundStatement(sql, params).values;
  } catch {
    return undefined; // the statement failed for it, and its event carries that error
  }
}

function report(hooks: QueryHooks, event: QueryEvent, start: number, params: () => readonly unknown[] | undefined, error: unknown): void {
  event.durationMs = performance.now() - start;
  if (hooks.params) {
    const values = params();
    if (values !== undefined) event.params = values;
  }
  if (error !== undefined) event.error = error as Error;
  callHook(hooks.onQuery, event);
}

/**
 * Runs one statement through `run` (given a `pick` that sees the statement's result) and reports it to `hooks`
 * once it has answered, before the caller gets its value or its error.
 */
export async function observed<T>(
  hooks: QueryHooks,
  sql: string,
  params: QueryParams | null | undefined,
  pick: (r: StatementResult) => T,
  run: (pick: (r: StatementResult) => T) => Promise<T>,
): Promise<T> {
  const start = performance.now();
  const event: QueryEvent = { sql, durationMs: 0, rowCount: null, command: null };
  const values = () => boundValues(sql, params);
  try {
    const value = await run((r) => {
      event.rowCount = r.rowCount;
      event.command = r.command;
      return pick(r);
    });
    report(hooks, event, start, values, undefined);
    return value;
  } catch (err) {
    event.rowCount = null;
    event.command = null;
    report(hooks, event, start, values, err ?? new Error(String(err)));
    throw locateError(err, sql, observed); // its stack from the caller's frames on, as without hooks
  }
}

/** Runs one `executeMany` batch of `values.length` statements through `run` and reports it to `hooks`. */
export async function observedBatch(hooks: QueryHooks, sql: string, values: readonly unknown[][], run: () => Promise<number>): Promise<number> {
  const start = performance.now();
  const event: QueryEvent = { sql, durationMs: 0, rowCount: null, command: null, batch: values.length };
  try {
    event.rowCount = await run();
    report(hooks, event, start, () => values, undefined);
    return event.rowCount;
  } catch (err) {
    report(hooks, event, start, () => values, err ?? new Error(String(err)));
    throw err;
  }
}
