/**
 * The executor seam: every object that runs statements (database, connection, transaction) extends
 * {@link Queryable} and supplies only where its statements go ({@link Queryable.sessionFor}). Feature modules
 * are written once against this class.
 * @module
 */
import { prepareQuery, type QueryParams } from "../sql/placeholders.js";
import { encodeParams } from "../sql/values.js";
import type { ExecuteOptions, QueryApi, QueryResult, Row } from "./api.js";
import { PgSession } from "./pg-session.js";

const rowsOf = <R extends Row>(r: QueryResult<R>): R[] => r.rows;
const firstRow = <R extends Row>(r: QueryResult<R>): R | null => r.rows[0] ?? null;
function firstValue(r: QueryResult): unknown {
  const row = r.rows[0];
  const first = r.fields[0];
  if (row === undefined || first === undefined) return null;
  return row[first.name] ?? null;
}

/** Base class of everything that runs statements. */
export abstract class Queryable implements QueryApi<"async"> {
  /**
   * The session a statement runs on.
   * @internal
   */
  protected abstract sessionFor(options?: ExecuteOptions): PgSession | Promise<PgSession>;

  /** @inheritDoc */
  query<R extends Row = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<QueryResult<R>> {
    // The hot path: no async frames of our own, one Promise from the session.
    let text: string;
    let values: unknown[] | undefined;
    let session: PgSession | Promise<PgSession>;
    try {
      const q = prepareQuery(sql, params);
      text = q.text;
      values = encodeParams(q.values);
      session = this.sessionFor(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = (s: PgSession) => s.query(text, values) as unknown as Promise<QueryResult<R>>;
    return session instanceof PgSession ? run(session) : session.then(run);
  }

  /** @inheritDoc */
  execute<R extends Row = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R[]> {
    return this.query<R>(sql, params, options).then(rowsOf);
  }

  /** @inheritDoc */
  fetchAll<R extends Row = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R[]> {
    return this.execute<R>(sql, params, options);
  }

  /** @inheritDoc */
  fetchOne<R extends Row = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R | null> {
    return this.query<R>(sql, params, options).then(firstRow);
  }

  /** @inheritDoc */
  fetchVal<T = unknown>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<T | null> {
    return this.query(sql, params, options).then(firstValue) as Promise<T | null>;
  }

  /** @inheritDoc */
  async executeMany(sql: string, paramsSeq: Iterable<QueryParams>): Promise<number> {
    let text: string | undefined;
    const list: unknown[][] = [];
    for (const params of paramsSeq) {
      const q = prepareQuery(sql, params);
      text ??= q.text;
      list.push(encodeParams(q.values) ?? []);
    }
    if (text === undefined) return 0;
    const session = await this.sessionFor();
    return session.batch(text, list, true);
  }
}
