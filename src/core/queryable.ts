/**
 * The executor seam: every object that runs statements (database, connection, transaction) extends
 * {@link Queryable} and supplies only where its statements go ({@link Queryable.sessionFor}). Feature modules
 * are written once against this class.
 * @module
 */
import { locateError } from "../errors.js";
import { checkSqlText, prepareQuery, type QueryParams } from "../sql/placeholders.js";
import { encodeParams } from "../sql/encode.js";
import type { ExecuteOptions, QueryApi, QueryResult, Row } from "./api.js";
import { PgSession, type MakeQuery } from "./pg-session.js";

/** A plain copy (the driver's result object carries parser functions, which cannot cross a worker boundary). */
const wholeResult = (r: QueryResult): QueryResult => ({ rows: r.rows, rowCount: r.rowCount, command: r.command, fields: r.fields });
const rowsOf = (r: QueryResult): Row[] => r.rows;
const firstRow = (r: QueryResult): Row | null => r.rows[0] ?? null;
function firstValue(r: QueryResult): unknown {
  const row = r.rows[0];
  const first = r.fields[0];
  if (row === undefined || first === undefined) return null;
  return row[first.name] ?? null;
}

/**
 * Awaits a statement's Promise so that a failure is re-thrown from here, in the caller's async context: the
 * error's stack then shows the caller's `at async …` frames, and it carries the statement text as `query`.
 */
async function located<T>(p: Promise<T>, sql: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw locateError(err, sql, located);
  }
}

/** Base class of everything that runs statements. */
export abstract class Queryable implements QueryApi<"async"> {
  /**
   * The session statement `sql` runs on (it may refuse the statement, e.g. transaction control where the
   * object manages the transaction itself).
   * @internal
   */
  protected abstract sessionFor(options: ExecuteOptions | undefined, sql: string): PgSession | Promise<PgSession>;

  /**
   * Runs a statement and resolves with `pick(result)`. The hot path of every query method: one Promise from the
   * driver's callback, plus one `await` (in `located`) that gives errors the caller's stack.
   * @internal
   */
  protected run<T>(
    sql: string,
    params: QueryParams | null | undefined,
    options: ExecuteOptions | undefined,
    pick: (r: QueryResult) => T,
    make?: MakeQuery,
  ): Promise<T> {
    let text: string;
    let values: unknown[] | undefined;
    let session: PgSession | Promise<PgSession>;
    try {
      const q = prepareQuery(sql, params);
      text = q.text;
      values = encodeParams(q.values);
      session = this.sessionFor(options, sql);
    } catch (err) {
      return located(Promise.reject(err), sql);
    }
    if (session instanceof PgSession) return located(session.query(text, values, pick, make), sql);
    return located(session.then((s) => s.query(text, values, pick, make)), sql);
  }

  /**
   * Runs a statement exactly as the query methods do (same session, ambient transaction, parameter encoding,
   * errors), with `make` building the driver's query object: the synchronous facade's worker uses one that packs
   * the rows as they arrive instead of parsing them.
   * @internal
   */
  _runWith<T>(
    sql: string,
    params: QueryParams | null | undefined,
    options: ExecuteOptions | undefined,
    pick: (r: QueryResult) => T,
    make: MakeQuery,
  ): Promise<T> {
    return this.run(sql, params, options, pick, make);
  }

  /** @inheritDoc */
  query<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<QueryResult<R>> {
    return this.run(sql, params, options, wholeResult) as Promise<QueryResult<R>>;
  }

  /** @inheritDoc */
  execute<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R[]> {
    return this.run(sql, params, options, rowsOf) as Promise<R[]>;
  }

  /** @inheritDoc */
  fetchAll<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R[]> {
    return this.execute<R>(sql, params, options);
  }

  /** @inheritDoc */
  fetchOne<R extends object = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R | null> {
    return this.run(sql, params, options, firstRow) as Promise<R | null>;
  }

  /** @inheritDoc */
  fetchVal<T = unknown>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<T | null> {
    return this.run(sql, params, options, firstValue) as Promise<T | null>;
  }

  /** @inheritDoc */
  executeMany(sql: string, paramsSeq: Iterable<QueryParams>): Promise<number> {
    return located(this.runMany(sql, paramsSeq), sql);
  }

  private async runMany(sql: string, paramsSeq: Iterable<QueryParams>): Promise<number> {
    checkSqlText(sql); // also when there is nothing to run
    let text: string | undefined;
    const list: unknown[][] = [];
    for (const params of paramsSeq) {
      const q = prepareQuery(sql, params);
      text ??= q.text;
      list.push(encodeParams(q.values) ?? []);
    }
    if (text === undefined) return 0;
    const session = await this.sessionFor(undefined, sql);
    return session.batch(text, list, true);
  }
}
