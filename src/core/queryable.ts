/**
 * The executor seam: every object that runs statements (database, connection, transaction) extends
 * {@link Queryable} and supplies only where its statements go ({@link Queryable.sessionFor}). Feature modules
 * are written once against this class.
 * @module
 */
import { prepareQuery, type QueryParams } from "../sql/placeholders.js";
import { encodeParams } from "../sql/values.js";
import type { ExecuteOptions, QueryApi, QueryResult, Row } from "./api.js";
import type { PgSession } from "./pg-session.js";

/** Base class of everything that runs statements. */
export abstract class Queryable implements QueryApi<"async"> {
  /**
   * The session a statement runs on.
   * @internal
   */
  protected abstract sessionFor(options?: ExecuteOptions): PgSession | Promise<PgSession>;

  /** @inheritDoc */
  async query<R extends Row = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<QueryResult<R>> {
    const q = prepareQuery(sql, params);
    const values = encodeParams(q.values);
    const session = await this.sessionFor(options);
    return (await session.query(q.text, values)) as unknown as QueryResult<R>;
  }

  /** @inheritDoc */
  async execute<R extends Row = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R[]> {
    return (await this.query<R>(sql, params, options)).rows;
  }

  /** @inheritDoc */
  fetchAll<R extends Row = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R[]> {
    return this.execute<R>(sql, params, options);
  }

  /** @inheritDoc */
  async fetchOne<R extends Row = Row>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<R | null> {
    return (await this.query<R>(sql, params, options)).rows[0] ?? null;
  }

  /** @inheritDoc */
  async fetchVal<T = unknown>(sql: string, params?: QueryParams | null, options?: ExecuteOptions): Promise<T | null> {
    const r = await this.query(sql, params, options);
    const row = r.rows[0];
    if (row === undefined) return null;
    const first = r.fields[0];
    return first === undefined ? null : ((row[first.name] ?? null) as T | null);
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
