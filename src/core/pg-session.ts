/**
 * One server connection: a node-postgres client plus what tscopg needs around it (error mapping,
 * transaction-status guard, pipelined batches, submittables, health, whether its session state changed).
 * @module
 */
import type { Client, Submittable as PgSubmittable } from "pg";
import type { Config } from "../config.js";
import { ConnectionError, DatabaseError, TscopgError, toTscopgError } from "../errors.js";
import { changesSessionState, statementFlags } from "../sql/placeholders.js";
import { DROPS_PREPARED, SCHEMA_CHANGE, SESSION_STATE } from "../sql/statement-kind.js";
import { AnswerClock, queryTimeoutOf } from "./answer-clock.js";
import { connectClient, corkUntilNextTick, streamOf, type OpenOptions, type Refable } from "./connect.js";
import { runBatch } from "./session-batch.js";
import { isStalePrepared, schemaChanged, sendQuery, StatementCache } from "./statement-cache.js";
import { lastResult, type MakeQuery, type RawResult, type StatementResult, type TxStatus } from "./statement-result.js";
import { runSubmittable, submitRefused, type Submittable } from "./submittable.js";

export type { OpenOptions } from "./connect.js";
export type { MakeQuery, StatementResult, TxStatus } from "./statement-result.js";
export type { Submittable } from "./submittable.js";
export { setDefaultQueryTimeout } from "./answer-clock.js";

/** A live connection. Not exported from the package: {@link AsyncDatabase} and its resources own sessions. */
export class PgSession {
  /** Set when the socket failed or the server terminated the session; a broken session is never reused. */
  broken = false;
  /**
   * Set when a statement run through {@link query}, {@link batch} or {@link submit} on this (plain) session may have
   * changed session state that outlives a transaction (see `changesSessionState`): it must be reset before reuse.
   * Not for {@link command}s. Feature code that changes state in ways the text cannot show sets it.
   */
  stateChanged = false;
  /** Its prepared statements (none behind a transaction-mode pooler). */
  statements: StatementCache | undefined;
  /** Why the session broke (the server's FATAL error, a socket error), for the errors of later calls. */
  private brokenBy: unknown;
  private brokenListeners: ((reason: TscopgError) => void)[] = [];
  private inflight = 0;
  /** When (`performance.now()`) an answer last arrived, or a statement was sent while nothing was in flight. */
  progressAt = 0;
  /** Milliseconds between the last answer and the one before it (or its sending, on an idle session). */
  answerGap = 0;
  private watcher: (() => void) | undefined;
  /** Failed statements whose ReadyForQuery has not arrived yet (the next ones belong to them, in order). */
  private readyOwed = 0;
  private idleWaiters: (() => void)[] = [];
  private savepoints = 0;
  private tempPipeline = false;
  private repairing = false;
  private closing = false;
  /** The sockets whose references keep the process alive: the raw one and, with TLS, the one wrapping it. */
  private readonly sockets: readonly Refable[];
  /** The client-side answer limit, while statements are in flight. */
  private readonly clock: AnswerClock;

  private constructor(
    readonly client: Client,
    private shared: boolean, // pipeline mode: see {@link pipelined}
    rawSocket: Refable,
    /** Client-side limit (ms) on waiting for answers (`Config.queryTimeout`; 0 = none): then the socket is closed. */
    answerLimit: number,
  ) {
    this.clock = new AnswerClock(answerLimit, () => this.inflight > 0, () => this.expire());
    const stream = streamOf(client); // final once connected: the TLS upgrade (if any) happens while connecting
    this.sockets = stream === rawSocket ? [stream] : [stream, rawSocket];
    this.setRef(false); // an idle connection does not keep the process alive; one with statements in flight does

    client.on("error", (err: Error) => {
      this.markBroken(err);
      this.forgiveReady();
    });
    client.on("end", () => {
      this.markBroken(undefined);
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
    const session = new PgSession(client, options.pipeline, socket, queryTimeoutOf(config));
    if (config.pooler !== "transaction") {
      session.statements = new StatementCache(client, () => void session.command("DEALLOCATE ALL").catch(() => undefined));
    }
    return session;
  }

  /** Pipeline mode: a shared connection, whose statements may not leave a transaction open; no COPY, no cursors. */
  get pipelined(): boolean {
    return this.shared;
  }

  /** Switches pipeline mode (a pool's connection lent, or shared again); only while nothing is in flight. */
  setPipelined(on: boolean): void {
    if (on === this.shared) return;
    if (this.inflight !== 0) throw new TscopgError("cannot switch pipeline mode while statements are in flight");
    this.shared = on;
    (this.client as unknown as { pipeline: boolean }).pipeline = on;
  }

  /** Statements (and submittables) in flight. */
  get inFlight(): number {
    return this.inflight;
  }

  /** Calls `fn` after each answer (one watcher per session; `undefined` removes it). */
  watch(fn: (() => void) | undefined): void {
    this.watcher = fn;
  }

  /** Calls `listener` once, with a {@link ConnectionError} saying why, if the session breaks (not when closed). */
  onBroken(listener: (reason: TscopgError) => void): void {
    this.brokenListeners.push(listener);
  }

  /** Marks the session broken (`cause`: what broke it, if known) and tells the listeners, once. */
  private markBroken(cause: unknown): void {
    if (cause !== undefined) this.brokenBy ??= cause;
    if (this.broken) return;
    this.broken = true;
    if (this.closing) return;
    let reason: TscopgError = cause === undefined ? new ConnectionError("the server closed the connection") : toTscopgError(cause);
    if (!(reason instanceof ConnectionError)) {
      reason = new ConnectionError(`the connection was lost: ${reason.message}`, { cause, code: (reason as { code?: string }).code });
    }
    for (const listener of this.brokenListeners.splice(0)) listener(reason);
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

  /** Counts a statement (or submittable) in flight; the first one starts the answer clock. @internal */
  _begin(): void {
    if (this.inflight++ === 0) {
      this.progressAt = performance.now();
      this.setRef(true);
      this.clock.start();
    }
  }

  /** Uncounts a statement; the last one out leaves temporary pipeline mode and unreferences the socket. */
  private end(): void {
    this.clock.answered();
    const now = performance.now();
    this.answerGap = now - this.progressAt;
    this.progressAt = now;
    const idle = --this.inflight === 0;
    if (this.watcher !== undefined) this.watcher();
    if (!idle) return;
    if (this.tempPipeline) {
      this.tempPipeline = false;
      (this.client as unknown as { pipeline: boolean }).pipeline = false;
    }
    this.setRef(false);
    if (this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once nothing is in flight, so {@link txStatus} is current (`undefined` when that is already so). */
  settled(): Promise<void> | undefined {
    if (this.inflight === 0) return undefined;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** A savepoint name not used before on this session (so nested and successive savepoints never collide). */
  nextSavepointName(): string {
    return `tscopg_sp_${++this.savepoints}`;
  }

  /** Gives up on the server (see {@link _cutOff}). */
  private expire(): void {
    this._cutOff(`no answer from the server within ${this.clock.limit} ms; the connection was closed`, "ETIMEDOUT");
  }

  /**
   * Closes the socket at once: marks the session broken and destroys the socket, which fails every statement in
   * flight with a ConnectionError saying `why` (the socket error's code makes it one; see `toTscopgError`).
   * @internal
   */
  _cutOff(why: string, code: "ETIMEDOUT" | "ECONNRESET"): void {
    const err = Object.assign(new Error(why), { code });
    this.markBroken(err);
    this.sockets[0]!.destroy?.(err);
    this.sockets[1]?.destroy?.();
  }

  /**
   * Accounts for the answer to a statement or submittable in flight: `err` is `undefined` on success, else the
   * driver's error, returned mapped. A server error keeps it in flight until its ReadyForQuery (see
   * {@link settled}); a connection error marks the session broken.
   * @internal
   */
  _answered(err: unknown): TscopgError | undefined {
    if (err === undefined) {
      this.end();
      return undefined;
    }
    const mapped = toTscopgError(err);
    if (mapped instanceof ConnectionError) this.markBroken(err);
    // The driver reports a server error on its ErrorResponse, before the ReadyForQuery that tells the
    // transaction status: the statement counts as in flight until then (see settled()).
    if (mapped instanceof DatabaseError && !this.broken) this.readyOwed++;
    else this.end();
    return mapped;
  }

  /** The server's transaction status after the last completed statement. */
  get txStatus(): TxStatus {
    return (this.client.getTransactionStatus() ?? "I") as TxStatus;
  }

  /**
   * Runs one statement (or a parameterless multi-statement string) and resolves with its result. On a plain
   * session, a statement that may change session state sets {@link stateChanged}.
   */
  query(text: string, values?: unknown[]): Promise<StatementResult>;
  /**
   * Runs a statement and resolves with `pick(result)` (computed in the driver's callback: no extra Promise hop).
   * `make`, when given, builds the driver's query object (see {@link MakeQuery}).
   */
  query<T>(text: string, values: unknown[] | undefined, pick: (r: StatementResult) => T, make?: MakeQuery): Promise<T>;
  query<T>(text: string, values?: unknown[], pick?: (r: StatementResult) => T, make?: MakeQuery): Promise<T | StatementResult> {
    const flags = statementFlags(text); // one cached lookup for the three questions
    if (!this.shared) {
      if ((flags & SESSION_STATE) !== 0) this.stateChanged = true;
      if ((flags & DROPS_PREPARED) !== 0) this.statements?.clear();
    }
    if ((flags & SCHEMA_CHANGE) !== 0) schemaChanged();
    return new Promise((resolve, reject) => {
      this.send(text, values, false, pick === undefined ? resolve : (r) => resolve(pick(r)), reject, make);
    });
  }

  /**
   * Runs a statement tscopg writes itself (`BEGIN`, `COMMIT`, `SAVEPOINT …`, a reset): like {@link query}, but its
   * text is not looked at for session-state changes (nor kept in the statement cache).
   */
  command(text: string): Promise<StatementResult> {
    return new Promise((resolve, reject) => this.send(text, undefined, false, resolve, reject));
  }

  /**
   * Runs a node-postgres "Submittable" (what pg-cursor and pg-copy-streams build) with a statement's bookkeeping
   * and error mapping, and resolves with what `drive(submittable)` resolves with once the exchange is over (see
   * {@link runSubmittable} for what `drive` must do, and how errors are reported). Its `text`, when it has one, is
   * looked at like {@link query}'s.
   * @throws {@link TscopgError} before anything is sent on a pipelined session (the database's shared one, or a
   * plain one while an `executeMany` batch runs on it in pipeline mode): node-postgres refuses COPY and cursors there.
   */
  submit<S extends PgSubmittable, R>(submittable: S, drive: (s: S) => R | PromiseLike<R>): Promise<R> {
    const refused = this.pipelined || this.tempPipeline ? submitRefused(this.pipelined) : this.lostError();
    if (refused !== undefined) return Promise.reject(refused);
    const text = (submittable as Submittable).text;
    if (typeof text === "string" && !this.stateChanged) this.stateChanged = changesSessionState(text);
    return runSubmittable(this, submittable, drive);
  }

  /**
   * The error of a call on a session known to be lost: the driver would answer "Client has encountered a
   * connection error and is not queryable"; this says what happened instead (e.g. 57P01, "terminating connection
   * due to administrator command").
   */
  private lostError(): ConnectionError | undefined {
    if (!this.broken || this.brokenBy === undefined) return undefined;
    const why = toTscopgError(this.brokenBy);
    const code = (why as { code?: string }).code;
    return new ConnectionError(`the connection was lost: ${why.message}`, { cause: this.brokenBy, code });
  }

  private send(
    text: string,
    values: unknown[] | undefined,
    inBatch: boolean,
    resolve: (r: StatementResult) => void,
    reject: (e: TscopgError) => void,
    make?: MakeQuery,
    unnamed = false,
  ): void {
    const lost = this.lostError();
    if (lost !== undefined) {
      reject(lost);
      return;
    }
    let done = false;
    const name = values === undefined || unnamed ? undefined : this.statements?.nameFor(text);
    // A stale prepared statement is run again unnamed if its failure changed nothing (outside a transaction).
    const retry = name !== undefined && !inBatch && (this.shared || this.client.getTransactionStatus() === "I");
    this._begin();
    const callback = (err: Error | null, res: RawResult): void => {
      if (done) return;
      done = true;
      if (err) {
        if (name !== undefined && isStalePrepared(err)) {
          this.statements!.forget(text);
          if (retry) {
            this._answered(err);
            this.send(text, values, inBatch, resolve, reject, make, true);
            return;
          }
        }
        // (On the shared connection a failed statement cannot leave a transaction open: statements that begin
        // one are refused before they are sent, and a failed implicit transaction ends with its statement.)
        reject(this._answered(err)!);
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
    // Corked only behind another statement: a lone one (a caller awaiting each in turn) leaves at once.
    if ((this.shared || this.tempPipeline) && this.inflight > 1) corkUntilNextTick(this.sockets[0]!);
    try {
      sendQuery(this.client, text, values, callback as never, make, name);
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
    this._begin();
    this.client.query("ROLLBACK", () => {
      this.repairing = false;
      this.end();
    });
  }

  /**
   * Runs the same statement once per parameter list, pipelined (see {@link runBatch}): N statements cost about one
   * round trip. With `atomic`, all-or-nothing. Resolves with the summed row counts.
   */
  batch(text: string, valuesList: unknown[][], atomic: boolean): Promise<number> {
    if (valuesList.length === 0) return Promise.resolve(0);
    if (!this.shared && !this.stateChanged) this.stateChanged = changesSessionState(text);
    if (!this.shared && this.inflight === 0) {
      // A plain connection that is idle: pipeline mode for this batch; `end` switches back after the last answer.
      this.tempPipeline = true;
      (this.client as unknown as { pipeline: boolean }).pipeline = true;
    }
    return runBatch(this.txStatus, text, valuesList, atomic, (t, v) => new Promise((res, rej) => this.send(t, v, true, res, rej)));
  }

  /** Closes the connection gracefully (waits for statements in flight). */
  async close(): Promise<void> {
    this.closing = true;
    this.broken = true;
    this.setRef(true); // a caller awaiting close() waits for the socket to finish closing
    // A server that stopped answering never confirms the goodbye: with an answer limit, drop the socket after it.
    const limit = this.clock.limit > 0 ? setTimeout(() => this.expire(), this.clock.limit).unref() : undefined;
    try {
      await this.client.end();
    } catch {
      /* already gone */
    } finally {
      clearTimeout(limit);
      this.clock.stop();
    }
  }
}
