/**
 * DB-API style cursor over a dedicated connection.
 * @module
 */
import type { QueryParams } from "../sql/placeholders.js";
import type { CursorApi, ExecuteManyOptions, Row } from "./api.js";
import type { AsyncConnection } from "./async-connection.js";
import type { Finishable } from "./scoped.js";

/**
 * A cursor: `execute()` a statement, then read its rows with `fetchOne()`, `fetchMany()` or `fetchAll()`.
 * Rows are plain objects. Runs on a dedicated connection (its own, from `db.cursor()`, or a connection's).
 */
export class AsyncCursor implements CursorApi<"async">, Finishable, AsyncDisposable {
  #rows: Row[] = [];
  #pos = 0;
  #rowCount = -1;
  #fields: { name: string; dataTypeID: number }[] | null = null;
  /** How many rows `fetchMany()` returns by default. */
  get arraySize(): number {
    return 100;
  }

  /** @internal Use `db.cursor()` or `conn.cursor()`. */
  constructor(
    private readonly conn: AsyncConnection,
    private readonly ownsConnection: boolean,
  ) {}

  /** @inheritDoc */
  get rowCount(): number {
    return this.#rowCount;
  }

  /** @inheritDoc */
  get description(): { name: string; dataTypeID: number }[] | null {
    return this.#fields;
  }

  async execute(sql: string, params?: QueryParams | null): Promise<void> {
    const r = await this.conn.query(sql, params);
    this.#rows = r.rows;
    this.#pos = 0;
    this.#rowCount = r.rowCount ?? -1;
    this.#fields = r.fields.length > 0 ? r.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) : null;
  }

  async executeMany(sql: string, paramsSeq: Iterable<QueryParams> | AsyncIterable<QueryParams>, options?: ExecuteManyOptions): Promise<void> {
    this.#rowCount = await this.conn.executeMany(sql, paramsSeq, options);
    this.#rows = [];
    this.#pos = 0;
    this.#fields = null;
  }

  async fetchOne<R extends object = Row>(): Promise<R | null> {
    return (this.#rows[this.#pos++] as R | undefined) ?? null;
  }

  async fetchMany<R extends object = Row>(size = this.arraySize): Promise<R[]> {
    const out = this.#rows.slice(this.#pos, this.#pos + size) as R[];
    this.#pos += out.length;
    return out;
  }

  async fetchAll<R extends object = Row>(): Promise<R[]> {
    const out = this.#rows.slice(this.#pos) as R[];
    this.#pos = this.#rows.length;
    return out;
  }

  /**
   * Iterates over the rows of the last statement not fetched yet: `for await (const row of cur)`. Each row taken
   * counts as fetched. (The iterator's `_unread(n)` gives back the last `n` rows taken: the synchronous facade,
   * which moves rows in batches, calls it for the rows of a batch the loop did not reach.)
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Row> & { _unread(n: number): void } {
    const it = {
      next: async (): Promise<IteratorResult<Row>> =>
        this.#pos < this.#rows.length ? { done: false, value: this.#rows[this.#pos++]! } : { done: true, value: undefined },
      return: async (): Promise<IteratorResult<Row>> => ({ done: true, value: undefined }),
      _unread: (n: number): void => {
        this.#pos = Math.max(0, this.#pos - n);
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  commit(): Promise<void> {
    return this.conn.commit();
  }

  rollback(): Promise<void> {
    return this.conn.rollback();
  }

  /** Closes the cursor (and its connection when the cursor owns it, rolling back what was not committed). */
  async close(): Promise<void> {
    this.#rows = [];
    if (this.ownsConnection) await this.conn.close();
  }

  /** @internal */
  async _finish(ok: boolean): Promise<void> {
    if (this.ownsConnection) await this.conn._finish(ok);
    else if (!ok) await this.conn.rollback();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `AsyncCursor(rowCount=${this.#rowCount})`;
  }
}
