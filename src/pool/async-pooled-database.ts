/**
 * AsyncPooledDatabase: a database handle whose sessions come from a connection pool (skeleton: the pool source is
 * being written; until then it runs on the default source).
 * @module
 */
import type { Config, ConfigInit } from "../config.js";
import { AsyncDatabase, type HandleOptions } from "../core/async-database.js";
import { ConnectionSource } from "../core/connection-source.js";
import type { SessionSource } from "../core/session-source.js";

/** Options of a pool (sizes and times as in pycopg: times in seconds). */
export interface PoolOptions extends HandleOptions {
  /** Connections kept open. Default 2. */
  minSize?: number | undefined;
  /** Most connections open at once. Default 10. */
  maxSize?: number | undefined;
  /** Seconds a connection beyond `minSize` may stay unused before it is closed. Default 300. */
  maxIdle?: number | undefined;
  /** Seconds after which a connection is replaced. Default 3600. */
  maxLifetime?: number | undefined;
  /** Seconds a call may wait for a connection. Default 30. */
  timeout?: number | undefined;
}

/** The asynchronous connection pool (skeleton). */
export class AsyncPooledDatabase extends AsyncDatabase {
  constructor(config?: Config | ConfigInit | string, options: PoolOptions = {}) {
    super(config, options as never);
  }

  protected override _createSessionSource(config: Config, options: object): SessionSource {
    const o = options as PoolOptions;
    return new ConnectionSource(config, { maxConnections: o.maxSize ?? 10 });
  }
}
