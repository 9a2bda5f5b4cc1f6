/**
 * One server connection: a node-postgres client plus what tscopg needs around it (error mapping,
 * transaction-status guard, pipelined batches, health).
 * @module
 */
import pg from "pg";
import type { Client } from "pg";
import type { Config } from "../config.js";
import { ConnectionError, DatabaseError, TscopgError, isConnectionLevelCode, redactSecrets, toTscopgError } from "../errors.js";
import { typeParsers } from "../sql/values.js";

/** What a statement produced: rows plus the command tag's facts. */
export interface StatementResult {
  rows: Record<string, unknown>[];
  /** Rows affected (INSERT/UPDATE/DELETE/…) or returned; `null` when the command reports none. */
  rowCount: number | null;
  command: string;
  /** Result columns (node-postgres field descriptions: name, dataTypeID, tableID, columnID, …). */
  fields: { name: string; dataTypeID: number }[];
}

/** Options for opening a session. */
export interface OpenOptions {
  /** Use node-postgres pipeline mode (independent statements; no COPY, no cursors). */
  pipeline: boolean;
  /** Connection attempts for connection-level failures (not for authentication errors). Default 3. */
  attempts?: number | undefined;
  /** First back-off delay in ms, doubled after each failed attempt. Default 100. */
  backoffMs?: number | undefined;
}

/** Transaction status as reported by the server: idle, in transaction, in a failed transaction. */
export type TxStatus = "I" | "T" | "E";

type RawResult = pg.QueryResult | pg.QueryResult[];

/**
 * The result of the statement that matters: the only one, or for a multi-statement string the last one that
 * returned rows (else the last one). The driver's own result object, viewed through {@link StatementResult}.
 */
function lastResult(r: RawResult): StatementResult {
  if (!Array.isArray(r)) return r as unknown as StatementResult;
  for (let i = r.length - 1; i >= 0; i--) if (r[i]!.fields.length > 0) return r[i] as unknown as StatementResult;
  return r[r.length - 1] as unknown as StatementResult;
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** What can hold the event loop open: a socket. */
interface Refable {
  ref?(): unknown;
  unref?(): unknown;
}

/** The driver's socket (after a TLS upgrade, the TLS socket wrapping the raw one). */
function streamOf(client: Client): Refable {
  return (client as unknown as { connection: { stream: Refable } }).connection.stream;
}

/**
 * How often (ms) the server checks, during a long statement, whether the client is still there. A process that
 * dies in the middle of a statement (Ctrl-C during a blocking sync call, a crash, `kill`) closes its sockets,
 * and the server then cancels the statement within this time instead of running it to the end.
 */
const DISCONNECT_CHECK_MS = 1000;
/** Configurations whose server refused `client_connection_check_interval` (PostgreSQL < 14). */
const noDisconnectCheck = new WeakSet<Config>();

/**
 * Adds `-c client_connection_check_interval=…` to the start-up options (PostgreSQL ≥ 14), unless the
 * configuration sets it itself or its server refused it before.
 */
function withDisconnectCheck(config: Config, params: pg.ClientConfig): pg.ClientConfig {
  if (noDisconnectCheck.has(config) || config.options.client_connection_check_interval !== undefined) return params;
  const words = [params.options, `-c client_connection_check_interval=${DISCONNECT_CHECK_MS}`].filter(Boolean);
  return { ...params, options: words.join(" ") };
}

/** True when an error says the connection (not the statement) failed, so a new connection may succeed. */
export function isRetryableConnectError(err: unknown): boolean {
  if (err instanceof ConnectionError) {
    // A connect timeout already waited its full time: retrying would multiply the wait.
    if (/timeout/i.test(err.message)) return false;
    if (err.code === undefined) return true;
    return isConnectionLevelCode(err.code);
  }
  return false;
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

  private constructor(
    readonly client: Client,
    readonly pipelined: boolean,
    /** Guard the shared connection: a statement may not leave a transaction open. */
    readonly guardIdle: boolean,
    rawSocket: Refable,
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
   * Opens a connection, trying each configured host in order and retrying connection-level failures
   * (SQLSTATE class 08, 57P01–57P03, socket errors) with exponential back-off. Authentication and other
   * errors fail at once.
   */
  static async open(config: Config, options: OpenOptions): Promise<PgSession> {
    const attempts = Math.max(1, options.attempts ?? 3);
    let delay = options.backoffMs ?? 100;
    let lastErr: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      for (const params of config.connectParamsList()) {
        try {
          return await PgSession.connectOnce(config, params, options.pipeline);
        } catch (err) {
          const mapped = toTscopgError(err);
          const code = (mapped as { code?: string }).code;
          const where = `${config.user}@${params.host}:${params.port}/${config.database}`;
          lastErr = new ConnectionError(redactSecrets(`could not connect to ${where}: ${mapped.message}`, [config.password, config.options.sslpassword]), { cause: err, code });
          if (!isRetryableConnectError(lastErr)) throw lastErr;
        }
      }
      if (attempt < attempts) {
        await sleep(delay);
        delay *= 2;
      }
    }
    throw lastErr;
  }

  /** One connection attempt to one host (again without the disconnect check if the server does not know it). */
  private static async connectOnce(config: Config, base: pg.ClientConfig, pipeline: boolean): Promise<PgSession> {
    const params = withDisconnectCheck(config, base);
    const client = new pg.Client({ ...params, password: config.password, pipeline, types: typeParsers } as pg.ClientConfig);
    client.on("error", () => {});
    // The raw socket, before a TLS upgrade wraps it: its handle is what keeps the event loop alive.
    const socket = streamOf(client);
    try {
      await client.connect();
    } catch (err) {
      client.end().catch(() => {});
      const e = err as { code?: unknown; message?: unknown };
      if (params !== base && e.code === "42704" && /client_connection_check_interval/.test(String(e.message))) {
        // A server older than PostgreSQL 14 does not know the setting: connect without it from now on.
        noDisconnectCheck.add(config);
        return PgSession.connectOnce(config, base, pipeline);
      }
      throw err;
    }
    return new PgSession(client, pipeline, pipeline, socket);
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

  /** Counts a statement in flight. */
  private begin(): void {
    if (this.inflight++ === 0) this.setRef(true);
  }

  /** Uncounts a statement; the last one out leaves temporary pipeline mode and unreferences the socket. */
  private end(): void {
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

  /** The server's transaction status after the last completed statement. */
  get txStatus(): TxStatus {
    return (this.client.getTransactionStatus() ?? "I") as TxStatus;
  }

  /** Runs one statement (or a parameterless multi-statement string) and resolves with its result. */
  query(text: string, values?: unknown[]): Promise<StatementResult>;
  /** Runs a statement and resolves with `pick(result)` (computed in the driver's callback: no extra Promise hop). */
  query<T>(text: string, values: unknown[] | undefined, pick: (r: StatementResult) => T): Promise<T>;
  query<T>(text: string, values?: unknown[], pick?: (r: StatementResult) => T): Promise<T | StatementResult> {
    return new Promise((resolve, reject) => {
      this.submit(text, values, false, pick === undefined ? resolve : (r) => resolve(pick(r)), reject);
    });
  }

  private submit(
    text: string,
    values: unknown[] | undefined,
    inBatch: boolean,
    resolve: (r: StatementResult) => void,
    reject: (e: TscopgError) => void,
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
    this.client.query({ text, values } as pg.QueryConfig, (err: Error | null, res: RawResult) => {
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
      if (this.guardIdle && !inBatch && this.client.getTransactionStatus() !== "I") {
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
    });
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
    try {
      await this.client.end();
    } catch {
      /* already gone */
    }
  }
}
