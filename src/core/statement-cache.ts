/**
 * Prepared statements, kept per connection: a statement text run with parameters a second time on a connection is
 * prepared there under a name of its own, and later runs skip the server's parse and plan (about a tenth off each
 * round trip). Off behind a transaction-mode pooler (`Config.pooler`), which may run each statement on another
 * server connection.
 *
 * A prepared statement can go stale: a table it reads changed shape ("cached plan must not change result type"), a
 * column's type changed (its parameter keeps the old type), or something deallocated it (`DEALLOCATE`, `DISCARD
 * ALL`). Schema changes run through tscopg re-prepare every connection's statements ({@link schemaChanged}); for the
 * others, the session forgets the statement and, outside a transaction, runs it again unnamed ({@link isStalePrepared}).
 * @module
 */
import pg from "pg";
import type { Client } from "pg";
import type { MakeQuery } from "./statement-result.js";

/** Most statements prepared on one connection; texts beyond are run unnamed. */
const MAX_PREPARED = 256;
/** Runs of a text on a connection before it is prepared there. */
const PREPARE_AT = 2;
let counter = 0;
/** Bumped whenever a statement run through tscopg changes the schema: every connection's statements are re-prepared. */
let schemaEpoch = 0;

/**
 * Records that the schema changed (a `CREATE`/`ALTER`/`DROP` ran): statements prepared before may have stale
 * parameter types (a column whose type changed keeps its old one in the statement), so every connection drops its
 * prepared statements before its next one. Changes made by other programs are not seen: see the README.
 */
export function schemaChanged(): void {
  schemaEpoch++;
}

/** The driver's record of the statements a connection has parsed (it skips their Parse). */
interface ParsedStatements {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
}

/** One connection's prepared statements. */
export class StatementCache {
  private readonly names = new Map<string, string>();
  private readonly seen = new Map<string, number>();
  private epoch = schemaEpoch;

  constructor(
    private readonly client: Client,
    /** Drops the server's statements (`DEALLOCATE ALL`), ahead of whatever is sent next; errors ignored. */
    private readonly dropAll: () => void,
  ) {}

  private get driver(): ParsedStatements {
    return (this.client as unknown as { connection: ParsedStatements }).connection;
  }

  /**
   * The name to run `text` under (`undefined`: unnamed), counting this run. After a schema change, the server's
   * statements are dropped first (the statement about to be sent goes after).
   */
  nameFor(text: string): string | undefined {
    if (this.epoch !== schemaEpoch) {
      this.epoch = schemaEpoch;
      if (this.names.size > 0) {
        this.clear();
        this.dropAll();
      }
    }
    const name = this.names.get(text);
    if (name !== undefined || this.names.size >= MAX_PREPARED) return name;
    const runs = (this.seen.get(text) ?? 0) + 1;
    if (runs < PREPARE_AT) {
      if (this.seen.size >= 4 * MAX_PREPARED) this.seen.clear(); // one-off texts must not pile up
      this.seen.set(text, runs);
      return undefined;
    }
    this.seen.delete(text);
    const fresh = `tscopg_${++counter}`;
    this.names.set(text, fresh);
    return fresh;
  }

  /** Forgets the statement of `text` (the server no longer has it, or its plan went stale). */
  forget(text: string): void {
    const name = this.names.get(text);
    if (name === undefined) return;
    this.names.delete(text);
    delete this.driver.parsedStatements[name];
    delete this.driver.submittedNamedStatements[name];
  }

  /** Forgets every statement (the server dropped them all: `DISCARD ALL`, `DEALLOCATE ALL`). */
  clear(): void {
    this.names.clear();
    this.seen.clear();
    this.driver.parsedStatements = {};
    this.driver.submittedNamedStatements = {};
  }
}

/**
 * Parameter-type errors a stale statement can cause: the schema changed (by another program: tscopg's own changes
 * re-prepare) and a parameter keeps the type inferred before (a column now `bigint`, `float8`, `text`, …).
 */
const TYPE_ERRORS = new Set(["42804", "22P02", "22003", "22001"]);

/**
 * Whether a named statement's failure may come from its prepared statement going stale: gone from the server
 * (26000), planned for a table that changed shape (0A000 from `RevalidateCachedQuery`; told by the routine, not by the
 * message, which the server may translate), or a parameter type error. The statement is then forgotten and, outside
 * a transaction (where its failure changed nothing), run again unnamed: a genuine error simply happens again.
 */
export function isStalePrepared(err: unknown): boolean {
  const e = err as { code?: unknown; routine?: unknown };
  if (typeof e.code !== "string") return false;
  return e.code === "26000" || (e.code === "0A000" && e.routine === "RevalidateCachedQuery") || TYPE_ERRORS.has(e.code);
}


/**
 * Sends one statement: unnamed in the driver's text form (given a config object, node-postgres copies it property by
 * property, a tenth of the client's time at high concurrency), else as a query object (built by `make` when given)
 * run under `name`.
 */
export function sendQuery(
  client: Client,
  text: string,
  values: unknown[] | undefined,
  callback: Parameters<MakeQuery>[1],
  make: MakeQuery | undefined,
  name: string | undefined,
): void {
  if (make === undefined && name === undefined) {
    client.query(text, values as unknown[], callback as never);
    return;
  }
  const q = make !== undefined ? make({ text, values }, callback) : new pg.Query(text, values, callback as never);
  if (name !== undefined) (q as { name?: string }).name = name;
  client.query(q);
}
