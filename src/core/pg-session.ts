/**
 * One server connection: a node-postgres client plus what tscopg needs around it (error mapping,
 * transaction-status guard, pipelined batches, health).
 * @module
 */
import type pg from "pg";
import type { Client, QueryResult as DriverResult, Submittable } from "pg";
import type { Config } from "../config.js";
import { ConnectionError, DatabaseError, TscopgError, toTscopgError } from "../errors.js";
import { connectClient, streamOf, type OpenOptions, type Refable } from "./connect.js";

/** What a statement produced: rows plus the command tag's facts. */
export interface StatementResult {
  rows: Record<string, unknown>[];
  /** Rows affected (INSERT/UPDATE/DELETE/…) or returned; `null` when the command reports none. */
  rowCount: number | null;
  command: string;
  /** Result columns (node-postgres field descriptions: name, dataTypeID, tableID, columnID, …). */
  fields: { name: string; dataTypeID: number }[];
}

export type { OpenOptions } from "./connect.js";

/** Transaction status as reported by the server: idle, in transaction, in a failed transaction. */
export type TxStatus = "I" | "T" | "E";

type RawResult = pg.QueryResult | pg.QueryResult[];

/**
 * Builds the driver's query object for one statement, given its text, its encoded parameters and the callback
 * that must receive its outcome (default: node-postgres' own query from `{ text, values }`). The synchronous
 * facade's worker passes one that hands rows over as they arrive instead of parsing them.
 * @internal
 */
export type MakeQuery = (
  config: { text: string; values: unknown[] | undefined },
  callback: (err: Error | null, res: DriverResult | DriverResult[]) => void,
) => Submittable;

/**
 * The result of the statement that matters: the only one, or for a multi-statement string the last one that
 * returned rows (else the last one). The driver's own result object, viewed through {@link StatementResult}.
 */
function lastResult(r: RawResult): StatementResult {
  if (!Array.isArray(r)) return r as unknown as StatementResult;
  for (let i = r.length - 1; i >= 0; i--) if (r[i]!.fields.length > 0) return r[i] as unknown as StatementResult;
  return r[r.length - 1] as unknown as StatementResult;
}

/**
 * The answer limit (ms) for configurations that set no `queryTimeout`; 0 = none. The synchronous facade's worker
 * sets one at start-up (see {@link setDefaultQueryTimeout}).
 */
let defaultQueryTimeoutMs = 0;

/**
 * Sets the client-side answer limit used when a Config's `queryTimeout` is `null` (for the sessions opened from
 * then on, in this thread). `0` = none, the default; the synchronous facade's worker sets its own default.
 */
export function setDefaultQueryTimeout(ms: number): void {
  defaultQueryTimeoutMs = ms;
}

/** The answer limit of a configuration's sessions: its `queryTimeout`, else the thread's default. */
function queryTimeoutOf(config: Config): number {
  return config.queryTimeout ?? defaultQueryTimeoutMs;
}

/**
 * A live connection. Not exported from the package: {@link AsyncDatabase} and its resources own sessions.
 */
export class PgSession {
  /** Set when the socket failed or the server terminated the session; a broken session is never reused. */
  broken = false;
  /** Why the session broke (the server's FATAL error, a socket error), for the errors of later calls. */
  private brokenBy: unknown;
  private inflight = 0;
  /** Failed statements whose ReadyForQuery has not arrived yet (the next ones belong to them, in order). */
  private readyOwed = 0;
  /** Resolvers waiting for {@link settled}. */
  private idleWaiters: (() => void)[] = [];
  private savepoints = 0;
  private tempPipeline = false;
  private repairing = false;
  private closing = false;
  /** The sockets whose references keep the process alive: the raw one and, with TLS, the one wrapping it. */
  private readonly sockets: readonly Refable[];
  /** One timer per session, pending while statements are in flight (only with an answer limit). */
  private answerTimer: NodeJS.Timeout | undefined;
  /** When the oldest statement in flight started waiting: sent on an idle connection, or the one before it answered. */
  private waitingSince = 0;

  private constructor(
    readonly client: Client,
    /** Pipeline mode: the database's shared connection, whose statements may not leave a transaction open. */
    readonly pipelined: boolean,
    rawSocket: Refable,
    /**
     * Client-side limit (ms) on waiting for the server while statements are in flight (`Config.queryTimeout`);
     * 0 = none. When it runs out the server is presumed gone and the socket is closed.
     */
    private readonly answerLimit: number,
  ) {
    const stream = streamOf(client); // final once connected: the TLS upgrade (if any) happens while connecting
    this.sockets = stream === rawSocket ? [stream] : [stream, rawSocket];
    // An idle connection does not keep the process alive (a script that forgets close() still exits); it is
    // referenced again while a statement is in flight.
    this.setRef(false);
    client.on("error", (err: Error) => {
      this.broken = true;
      this.brokenBy ??= err;
      this.forgiveReady();
    });
    client.on("end", () => {
      this.broken = true;
      this.forgiveReady();
    });
    // One listener for the session's life (not one per failed statement).
    (client as unknown as { connection: NodeJS.EventEmitter }).connection.on("readyForQuery", () => {
      if (this.readyOwed > 0) {
        this.readyOwed--;
        this.end();
      }
    });
  }

  /**
   * Opens a connection: tries each configured host in order, moving on whatever the failure; another round
   * (with exponential back-off) follows only connection-level failures (see {@link connectClient}).
   * @throws ConnectionError naming every host and why it failed.
   */
  static async open(config: Config, options: OpenOptions): Promise<PgSession> {
    const { client, socket } = await connectClient(config, options);
    return new PgSession(client, options.pipeline, socket, queryTimeoutOf(config));
  }

  /** References the socket (the process waits for it) while statements are in flight; unreferences it when idle. */
  private setRef(on: boolean): void {
    if (!on && this.closing) return; // close() waits for the socket to finish closing
    for (const s of this.sockets) {
      if (on) s.ref?.();
      else s.unref?.();
    }
  }

  /** The connection is gone: no ReadyForQuery will come for the failed statements still waiting for one. */
  private forgiveReady(): void {
    for (; this.readyOwed > 0; this.readyOwed--) this.end();
  }

  /** Counts a statement in flight; the first one starts the answer clock. */
  private begin(): void {
    if (this.inflight++ === 0) {
      this.setRef(true);
      if (this.answerLimit > 0) {
        this.waitingSince = performance.now();
        this.answerTimer ??= this.armAnswerTimer(this.answerLimit);
      }
    }
  }

  /** Uncounts a statement; the last one out leaves temporary pipeline mode and unreferences the socket. */
  private end(): void {
    if (this.answerLimit > 0) this.waitingSince = performance.now(); // an answer: the clock restarts
    if (--this.inflight !== 0) return;
    if (this.tempPipeline) {
      this.tempPipeline = false;
      (this.client as unknown as { pipeline: boolean }).pipeline = false;
    }
    this.setRef(false);
    if (this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Resolves once no statement is in flight, so {@link txStatus} is the server's answer to the last one
   * (`undefined`, with no Promise, when that is already so).
   */
  settled(): Promise<void> | undefined {
    if (this.inflight === 0) return undefined;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** A savepoint name not used before on this session (so nested and successive savepoints never collide). */
  nextSavepointName(): string {
    return `tscopg_sp_${++this.savepoints}`;
  }

  /**
   * The answer clock: a single timer per session (not one per statement). When it fires it checks how long the
   * oldest statement in flight has waited, and either sleeps for the rest of the limit or gives up on the server.
   * It is left to lapse when the session goes idle, and the next statement reuses it if it is still pending.
   */
  private armAnswerTimer(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.answerTimer = undefined;
      if (this.inflight === 0) return;
      const left = this.waitingSince + this.answerLimit - performance.now();
      if (left > 0) this.answerTimer = this.armAnswerTimer(left);
      else this.expire();
    }, ms);
    timer.unref(); // while statements are in flight the socket holds the process open
    return timer;
  }

  /**
   * Gives up on the server: marks the session broken and destroys its socket, which fails every statement in
   * flight with a ConnectionError saying why (the socket error's code makes it one; see `toTscopgError`).
   */
  private expire(): void {
    this.broken = true;
    const why = `no answer from the server within ${this.answerLimit} ms; the connection was closed`;
    this.sockets[0]!.destroy?.(Object.assign(new Error(why), { code: "ETIMEDOUT" }));
    this.sockets[1]?.destroy?.();
  }

  /** The server's transaction status after the last completed statement. */
  get txStatus(): TxStatus {
    return (this.client.getTransactionStatus() ?? "I") as TxStatus;
  }

  /** Runs one statement (or a parameterless multi-statement string) and resolves with its result. */
  query(text: string, values?: unknown[]): Promise<StatementResult>;
  /**
   * Runs a statement and resolves with `pick(result)` (computed in the driver's callback: no extra Promise hop).
   * `make`, when given, builds the driver's query object (see {@link MakeQuery}).
   */
  query<T>(text: string, values: unknown[] | undefined, pick: (r: StatementResult) => T, make?: MakeQuery): Promise<T>;
  query<T>(text: string, values?: unknown[], pick?: (r: StatementResult) => T, make?: MakeQuery): Promise<T | StatementResult> {
    return new Promise((resolve, reject) => {
      this.submit(text, values, false, pick === undefined ? resolve : (r) => resolve(pick(r)), reject, make);
    });
  }

  private submit(
    text: string,
    values: unknown[] | undefined,
    inBatch: boolean,
    resolve: (r: StatementResult) => void,
    reject: (e: TscopgError) => void,
    make?: MakeQuery,
  ): void {
    if (this.broken && this.brokenBy !== undefined) {
      // The driver would answer "Client has encountered a connection error and is not queryable": say what
      // happened instead (e.g. 57P01, "terminating connection due to administrator command").
      const why = toTscopgError(this.brokenBy);
      const code = (why as { code?: string }).code;
      reject(new ConnectionError(`the connection was lost: ${why.message}`, { cause: this.brokenBy, code }));
      return;
    }
    let done = false;
    this.begin();
    const callback = (err: Error | null, res: RawResult): void => {
      if (done) return;
      done = true;
      if (err) {
        const mapped = toTscopgError(err);
        if (mapped instanceof ConnectionError) this.broken = true;
        // The driver reports a server error on its ErrorResponse, before the ReadyForQuery that tells the
        // transaction status: the statement counts as in flight until then (see settled()).
        if (mapped instanceof DatabaseError && !this.broken) this.readyOwed++;
        else this.end();
        // (On the shared connection a failed statement cannot leave a transaction open: statements that begin
        // one are refused before they are sent, and a failed implicit transaction ends with its statement.)
        reject(mapped);
        return;
      }
      this.end();
      // A last line of defence for the shared connection (statements that begin a transaction are refused before
      // they are sent): a transaction left open there would swallow everyone's later statements.
      if (this.pipelined && !inBatch && this.client.getTransactionStatus() !== "I") {
        this.repair();
        reject(
          new TscopgError(
            "a statement on the database's shared connection left a transaction open, so it was rolled back; " +
              "use db.transaction() or db.connect() for explicit transactions",
          ),
        );
        return;
      }
      resolve(lastResult(res));
    };
    try {
      if (make !== undefined) this.client.query(make({ text, values }, callback));
      else this.client.query({ text, values } as pg.QueryConfig, callback);
    } catch (err) {
      // The driver threw before sending anything: nothing is in flight (and nothing will answer).
      if (done) return;
      done = true;
      this.end();
      reject(toTscopgError(err));
    }
  }

  private repair(): void {
    if (this.repairing) return;
    this.repairing = true;
    this.begin();
    this.client.query("ROLLBACK", () => {
      this.repairing = false;
      this.end();
    });
  }

  /**
   * Runs the same statement once per parameter list, pipelined: all statements are written at once and the
   * results read back together, so N statements cost about one round trip. With `atomic`, the batch is
   * wrapped in BEGIN/COMMIT and is all-or-nothing; on a session already inside a transaction the batch simply
   * joins it. Resolves with the summed row counts; rejects with the first statement's error.
   */
  async batch(text: string, valuesList: unknown[][], atomic: boolean): Promise<number> {
    if (valuesList.length === 0) return 0;
    if (!this.pipelined && this.inflight === 0) {
      // A plain connection that is idle: switch to pipeline mode for this batch; `finish` switches back
      // once the last statement has answered.
      this.tempPipeline = true;
      (this.client as unknown as { pipeline: boolean }).pipeline = true;
    }
    const wrap = atomic && this.txStatus === "I";
    const promises: Promise<StatementResult>[] = [];
    const add = (t: string, v?: unknown[]) =>
      promises.push(new Promise((res, rej) => this.submit(t, v, true, res, rej)));
    // Everything below is written synchronously, so nothing else can interleave on a shared connection.
    if (wrap) add("BEGIN");
    for (const values of valuesList) add(text, values);
    if (wrap) add("COMMIT");
    const settled = await Promise.allSettled(promises);
    let total = 0;
    let firstError: unknown;
    const from = wrap ? 1 : 0;
    const to = wrap ? settled.length - 1 : settled.length;
    for (let i = from; i < to; i++) {
      const s = settled[i]!;
      if (s.status === "rejected") {
        firstError ??= s.reason;
      } else total += s.value.rowCount ?? 0;
    }
    if (wrap) {
      const begin = settled[0]!;
      if (begin.status === "rejected") throw begin.reason;
      const commit = settled[settled.length - 1]!;
      if (commit.status === "rejected") firstError ??= commit.reason;
    }
    if (firstError) throw firstError;
    return total;
  }

  /** Closes the connection gracefully (waits for statements in flight). */
  async close(): Promise<void> {
    this.broken = true;
    this.closing = true;
    this.setRef(true); // a caller awaiting close() waits for the socket to finish closing
    // A server that stopped answering never confirms the goodbye: with an answer limit, drop the socket after it.
    const limit = this.answerLimit > 0 ? setTimeout(() => this.expire(), this.answerLimit).unref() : undefined;
    try {
      await this.client.end();
    } catch {
      /* already gone */
    } finally {
      clearTimeout(limit);
      clearTimeout(this.answerTimer);
    }
  }
}
