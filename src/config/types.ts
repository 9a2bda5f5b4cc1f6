/**
 * The types of connection settings: what a `Config` is built from ({@link ConfigInit}) and the value types of its
 * fields. Re-exported by `config.ts`.
 * @module
 */

/**
 * libpq's `sslmode` values.
 *
 * node-postgres cannot negotiate, so `allow` and `prefer` connect without TLS (like `disable`); `require`
 * encrypts without checking the certificate; `verify-ca` checks the chain but not the host name;
 * `verify-full` checks both.
 */
export type SslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";

/**
 * Which server of several hosts a connection accepts (libpq's `target_session_attrs`, PostgreSQL 14+ semantics):
 *
 * - `any`: the first host that accepts the connection.
 * - `read-write` / `read-only`: a session where `SHOW transaction_read_only` is `off` / `on` (a hot standby is
 *   read-only, and so is a primary with `default_transaction_read_only = on`).
 * - `primary` / `standby`: a server that is not / is in recovery (`pg_is_in_recovery()`).
 * - `prefer-standby`: a standby if any host is one, else any host.
 */
export type TargetSessionAttrs = "any" | "read-write" | "read-only" | "primary" | "standby" | "prefer-standby";

/**
 * A connection pooler in front of the server. `"transaction"`: PgBouncer or Supavisor in transaction mode; see
 * {@link ConfigInit.pooler} for what the preset changes.
 */
export type Pooler = "transaction";

/**
 * A password computed for each new connection (rotating credentials, IAM authentication tokens), sync or async.
 * See {@link ConfigInit.password}.
 */
export type PasswordFunction = () => string | Promise<string>;

/** One server address. `host` is a host name, an IP address (IPv6 without brackets) or a unix-socket directory. */
export interface HostPort {
  /** Host name, IP address, or a unix-socket directory (starting with `/`). */
  host: string;
  /** TCP port (for a unix socket: the number in the socket file name `.s.PGSQL.<port>`). */
  port: number;
}

/**
 * Everything a {@link Config} is built from. Every field is optional; `undefined` (and `null`) mean "the default".
 */
export interface ConfigInit {
  /** Server host name or IP address, or a unix-socket directory (starting with `/`). Default `"localhost"`. */
  host?: string | undefined;
  /** Server port, an integer 1..65535. Default 5432. */
  port?: number | undefined;
  /** Several servers, tried in this order. When given (non-empty), `host` and `port` are ignored and become `hosts[0]`. */
  hosts?: HostPort[] | undefined;
  /** Database name. Default `"postgres"`. */
  database?: string | undefined;
  /** Role name. Default `"postgres"`. */
  user?: string | undefined;
  /**
   * Password, or a function that returns one (a string or a Promise of one): rotating credentials such as IAM
   * tokens. The function is called whenever a server asks for the password — once for each connection attempt
   * that needs one, never cached — and never shown anywhere. An error it throws (or a non-string result) fails the
   * connection with a `ConnectionError` whose `cause` is that error, at once: it is not a connection-level failure,
   * so no other host or round is tried. A function password cannot be written into {@link Config.dsn} or
   * {@link Config.url} (they throw `ConfigurationError`), and the synchronous `Database` refuses it (its worker
   * thread cannot call back into this thread while it is not blocked in a call): use `AsyncDatabase`.
   * Default `""` (none).
   */
  password?: string | PasswordFunction | undefined;
  /** TLS mode. Default `null`: the driver's default, which is no TLS. */
  sslmode?: SslMode | null | undefined;
  /**
   * Extra settings. A key is either a libpq connection keyword that tscopg knows (`sslrootcert`, `sslcert`,
   * `sslkey`, `sslpassword`, `target_session_attrs`, `options` — a raw libpq `-c …` string — and a few more that
   * are kept for {@link Config.dsn} / {@link Config.url} only), or else the name of a server setting (GUC, such as
   * `search_path`, `timezone` or `lock_timeout`) which is sent at connection start-up as `-c key=value`.
   * `application_name`, `connect_timeout`, `statement_timeout`, `query_timeout` and `sslmode` go to their fields (when
   * those are not given). `host`, `port`, `dbname`, `user` and `password` are rejected: use the fields.
   * Default `{}`.
   */
  options?: Record<string, string> | undefined;
  /** `statement_timeout` in milliseconds, sent at start-up. A non-negative integer; `0` = no limit. Default `null` (server default). */
  statementTimeout?: number | null | undefined;
  /** `application_name` shown in `pg_stat_activity`. Default `null` (none). */
  applicationName?: string | null | undefined;
  /** Connection timeout in whole seconds; `0` waits forever. Default `null`, meaning 10 seconds. */
  connectTimeout?: number | null | undefined;
  /**
   * Client-side limit in ms on waiting for a statement's answer (`0` = none); past it the server is presumed gone: the
   * connection is closed, every statement in flight on it fails with `ConnectionError`, the next call reconnects.
   * Unlike `statementTimeout` it works when the server no longer answers at all. Default `null`: none for
   * `AsyncDatabase`, 5 minutes for the sync `Database` (whose calls would block forever; set `0` there for none).
   */
  queryTimeout?: number | null | undefined;
  /**
   * Which server to accept when several hosts are given (libpq's `target_session_attrs`; also a URL/DSN parameter,
   * an `options` key and `PGTARGETSESSIONATTRS`). A host that accepts the connection but does not match is closed
   * and the next one tried; see {@link TargetSessionAttrs}. Default `"any"`.
   */
  targetSessionAttrs?: TargetSessionAttrs | null | undefined;
  /**
   * `"transaction"` when connecting through PgBouncer or Supavisor in transaction mode (also `?pooler=transaction`
   * in a URL; tscopg's own, so left out of {@link Config.dsn}). The preset adds nothing of tscopg's own to the
   * start-up packet (no `-c client_connection_check_interval`, which PgBouncer refuses). Settings you ask for
   * yourself (`statementTimeout`, server settings in `options`) are still sent: PgBouncer refuses them at start-up
   * unless it tracks them (`track_extra_parameters`) or ignores them (`ignore_startup_parameters`), and in
   * transaction mode a session setting does not follow your statements from one server connection to the next
   * anyway (set them per role with `ALTER ROLE … SET` instead). tscopg never uses named prepared statements. The
   * session sources may read this field as well. Default `null` (a direct connection).
   */
  pooler?: Pooler | null | undefined;
}

/** Options of {@link Config.fromEnv}. */
export interface FromEnvOptions {
  /** Read a `.env` file (the given path, else `./.env` when it exists). Default `true`. */
  loadDotenvFile?: boolean | undefined;
  /** The environment to read instead of `process.env` (for tests). */
  env?: NodeJS.ProcessEnv | undefined;
}
