/**
 * Connection settings: the {@link Config} class, built by hand, from a URL ({@link Config.fromUrl}) or from the
 * environment ({@link Config.fromEnv}), and turned into node-postgres client options
 * ({@link Config.connectParams}), a libpq conninfo string ({@link Config.dsn}) or a URL ({@link Config.url}).
 *
 * A Config never shows its password: not in `toString()`, `util.inspect()`, `JSON.stringify()` or
 * `Object.keys()`. Only {@link Config.password}, {@link Config.dsn}, {@link Config.url} and
 * {@link Config.toInit} return it, because their callers ask for it explicitly.
 *
 * The work is shared with `config/`: `types` (the settings' types), `checks` (defaults and validation), `url` (URL
 * parsing, `dsn` and `url`), `env` (`fromEnv`), `params` (`connectParams`) and `tls` (the `ssl` option); the
 * password never leaves the private field of a Config except as an argument of those helpers.
 * @module
 */
import { inspect, type InspectOptions } from "node:util";
import type { ClientConfig } from "pg";
import {
  checkHosts,
  checkPassword,
  checkString,
  DEFAULT_DATABASE,
  DEFAULT_USER,
  fail,
  normalizeOptions,
  oneOf,
  POOLERS,
  SSL_MODES,
  TARGET_SESSION_ATTRS,
  toNonNegativeInt,
} from "./config/checks.js";
import { readEnv } from "./config/env.js";
import { clientParams } from "./config/params.js";
import type { ConfigInit, FromEnvOptions, HostPort, PasswordFunction, Pooler, SslMode, TargetSessionAttrs } from "./config/types.js";
import { displayHost, formatDsn, formatUrl, parseUrl } from "./config/url.js";

export type { ConfigInit, FromEnvOptions, HostPort, PasswordFunction, Pooler, SslMode, TargetSessionAttrs };

/**
 * PostgreSQL connection settings. Immutable: {@link Config.with} and {@link Config.withDatabase} return copies.
 *
 * ```ts
 * const config = Config.fromUrl("postgresql://app:s3cret@db.example.com/app?sslmode=verify-full&search_path=app");
 * new pg.Client(config.connectParams());
 * ```
 *
 * The password is kept in a private field: it is not an own enumerable property, and `toString()`,
 * `util.inspect()` and `JSON.stringify()` never show it.
 */
export class Config {
  /** The first server's host (= `hosts[0].host`). */
  readonly host: string;
  /** The first server's port (= `hosts[0].port`). */
  readonly port: number;
  /** Every server, in the order they are tried; at least one entry. */
  readonly hosts: readonly Readonly<HostPort>[];
  /** Database name. */
  readonly database: string;
  /** Role name. */
  readonly user: string;
  /** TLS mode, or `null` for the driver default (no TLS). */
  readonly sslmode: SslMode | null;
  /**
   * Connection keywords (`sslrootcert`, `target_session_attrs`, raw `options`, …) and server settings sent at
   * start-up as `-c key=value` (see {@link ConfigInit.options}). Frozen.
   */
  readonly options: Readonly<Record<string, string>>;
  /** `statement_timeout` in milliseconds, or `null` for the server default. */
  readonly statementTimeout: number | null;
  /** `application_name`, or `null`. */
  readonly applicationName: string | null;
  /** Connection timeout in seconds, or `null` (the connection layer then uses 10 s). */
  readonly connectTimeout: number | null;
  /** Client-side answer limit in milliseconds (`0` = none), or `null` for the default; see {@link ConfigInit.queryTimeout}. */
  readonly queryTimeout: number | null;
  /** Which of several hosts a connection accepts; `"any"` by default. See {@link TargetSessionAttrs}. */
  readonly targetSessionAttrs: TargetSessionAttrs;
  /** The pooler in front of the server (`"transaction"`), or `null`; see {@link ConfigInit.pooler}. */
  readonly pooler: Pooler | null;
  readonly #password: string | PasswordFunction;

  /**
   * Builds a Config; missing fields take their defaults (see {@link ConfigInit}). The password stays in this Config
   * (nothing is kept process-wide): error messages that could show it are scrubbed with it where they are built.
   * @throws ConfigurationError when a field is invalid (port out of range, bad sslmode, bad option key, …).
   */
  constructor(init: ConfigInit = {}) {
    if (init === null || typeof init !== "object") fail("Config expects an object of settings");
    const normalized = normalizeOptions(init.options);

    const hosts = checkHosts(init);
    const password = checkPassword(init.password);

    const sslmodeValue = init.sslmode ?? normalized.fields.sslmode ?? null;
    const sslmode = sslmodeValue === null ? null : oneOf(sslmodeValue, SSL_MODES, "sslmode");
    const target = init.targetSessionAttrs ?? normalized.fields.target_session_attrs ?? "any";
    const pooler = init.pooler ?? normalized.fields.pooler ?? null;

    const statementTimeout = init.statementTimeout ?? normalized.fields.statement_timeout ?? null;
    const connectTimeout = init.connectTimeout ?? normalized.fields.connect_timeout ?? null;
    const queryTimeout = init.queryTimeout ?? normalized.fields.query_timeout ?? null;
    const applicationName = init.applicationName ?? normalized.fields.application_name ?? null;

    const first = hosts[0]!;
    this.host = first.host;
    this.port = first.port;
    this.hosts = Object.freeze(hosts.map((h) => Object.freeze({ ...h })));
    this.database = checkString(init.database, "database", DEFAULT_DATABASE);
    this.user = checkString(init.user, "user", DEFAULT_USER);
    this.sslmode = sslmode;
    this.options = Object.freeze(normalized.options);
    this.statementTimeout = statementTimeout === null ? null : toNonNegativeInt(statementTimeout, "statementTimeout");
    this.applicationName = applicationName === null || applicationName === "" ? null : checkString(applicationName, "applicationName", "");
    this.connectTimeout = connectTimeout === null ? null : toNonNegativeInt(connectTimeout, "connectTimeout");
    this.queryTimeout = queryTimeout === null ? null : toNonNegativeInt(queryTimeout, "queryTimeout");
    this.targetSessionAttrs = oneOf(target, TARGET_SESSION_ATTRS, "targetSessionAttrs");
    this.pooler = pooler === null ? null : oneOf(pooler, POOLERS, "pooler");
    this.#password = password;
  }

  /**
   * The password (`""` when none), or the function that computes one (see {@link ConfigInit.password}). A getter
   * over a private field, so it is not an own enumerable property.
   */
  get password(): string | PasswordFunction {
    return this.#password;
  }

  /**
   * Parses a connection URL.
   *
   * Schemes: `postgres://`, `postgresql://` and SQLAlchemy's `postgresql+<driver>://`. User, password, host and
   * database are percent-decoded. Several hosts are written `h1:5432,h2:5433`; IPv6 addresses in brackets
   * (`[::1]:5432`); a unix-socket directory either percent-encoded as the host (`%2Fvar%2Frun%2Fpostgresql`) or as
   * a `?host=/var/run/postgresql` parameter. Query parameters `host`, `port`, `dbname`, `user`, `password` override
   * the URL parts; `sslmode`, `application_name`, `connect_timeout` (seconds), `statement_timeout` and
   * `query_timeout` (ms), `target_session_attrs` and `pooler` set their fields; `ssl=true|false|no-verify` (node-postgres style) sets `sslmode` to `verify-full`, `disable` or `require`
   * when `sslmode` is absent; every other parameter goes to {@link Config.options}. Missing parts take the defaults.
   * @throws ConfigurationError for another scheme, a malformed URL or bad percent-encoding. The message never
   * contains the password.
   */
  static fromUrl(url: string): Config {
    return new Config(parseUrl(url));
  }

  /**
   * Builds a Config from the environment.
   *
   * `DATABASE_URL` wins (parsed with {@link Config.fromUrl}). Otherwise each field comes from the first non-empty
   * variable of: `DB_HOST`|`PGHOST` (may be a comma list), `DB_PORT`|`PGPORT` (one port, or one per host),
   * `DB_NAME`|`PGDATABASE`, `DB_USER`|`PGUSER`, `DB_PASSWORD`|`PGPASSWORD`, `DB_SSLMODE`|`PGSSLMODE`,
   * `DB_APPLICATION_NAME`|`PGAPPNAME`, `DB_CONNECT_TIMEOUT`|`PGCONNECT_TIMEOUT` (seconds), `DB_STATEMENT_TIMEOUT`
   * and `DB_QUERY_TIMEOUT` (ms); also libpq's `PGOPTIONS`, `PGTARGETSESSIONATTRS`, `PGSSLROOTCERT`, `PGSSLCERT` and `PGSSLKEY`.
   *
   * A `.env` file is read when `loadDotenvFile` is true (the default): `dotenvPath` if given, else `./.env` in the
   * current directory when it exists. It is parsed with `util.parseEnv` and never copied into `process.env`;
   * a variable set in the environment always beats the same one in the file.
   * @param dotenvPath The `.env` file to read; `null`/`undefined` for `./.env` (if present).
   * @throws ConfigurationError when an explicit `dotenvPath` does not exist or a value is invalid (port `abc`, …).
   */
  static fromEnv(dotenvPath?: string | null, opts: FromEnvOptions = {}): Config {
    const found = readEnv(dotenvPath, opts);
    if (found.kind === "url") return Config.fromUrl(found.url);
    return new Config(found.init);
  }

  /**
   * A libpq keyword/value connection string: `host=… port=… dbname=… user=… password=…` plus `sslmode`,
   * `application_name`, `connect_timeout`, `options='-c statement_timeout=N -c key=value …'` and the connection
   * keywords of {@link options}, when set. Values are quoted as libpq expects. Several hosts give
   * `host=h1,h2 port=5432,5433`. `queryTimeout` is left out: it is tscopg's own, and libpq would reject it.
   *
   * Contains the password (omitted when empty): do not log it. `target_session_attrs` is written when not `any`;
   * `pooler` is left out (tscopg's own).
   * @throws ConfigurationError when the password is a function: no string can hold it.
   */
  get dsn(): string {
    return formatDsn(this, this.#fixedPassword("dsn"));
  }

  /**
   * A `postgresql://` URL with every part percent-encoded, so `Config.fromUrl(config.url)` gives back an equal
   * Config. Unix-socket hosts go in `?host=/dir&port=N` (with an empty authority host); several hosts are written
   * `h1:5432,h2:5433`; sslmode, application_name, connect_timeout, statement_timeout, query_timeout,
   * target_session_attrs (when not `any`), pooler and {@link options} are query parameters.
   *
   * Contains the password (omitted when empty): do not log it.
   * @throws ConfigurationError when the password is a function: no string can hold it.
   */
  get url(): string {
    return formatUrl(this, this.#fixedPassword("url"));
  }

  /** The password as a string, for `dsn` and `url`; a function cannot be written down. */
  #fixedPassword(what: string): string {
    const password = this.#password;
    if (typeof password === "function") {
      fail(`a Config whose password is a function has no ${what}: call the function and use config.with({ password })`);
    }
    return password;
  }

  /**
   * Options for `new pg.Client(...)` for one host of {@link hosts}.
   *
   * Contains `host`, `port`, `database`, `user`, `password` (non-enumerable, so logging the object does not show
   * it, and `{...params}` drops it), `keepAlive: true`, `connectionTimeoutMillis` (`connectTimeout` × 1000,
   * default 10000; 0 = no limit), `application_name` and `statement_timeout` when set, `options` (the raw
   * `options` keyword followed by `-c key=value` for every server setting) when non-empty, and `ssl`:
   *
   * - `null`, `disable`, `allow`, `prefer` → `false`. node-postgres cannot fall back from TLS to plain text or
   *   back, so `allow` and `prefer` connect without TLS.
   * - `require` → `{ rejectUnauthorized: false }`; but when `sslrootcert` is set it verifies the chain like
   *   `verify-ca` (libpq's rule).
   * - `verify-ca` → `{ rejectUnauthorized: true, checkServerIdentity: () => undefined }` (chain only).
   * - `verify-full` → `{ rejectUnauthorized: true }` (chain and host name).
   * - unix-socket hosts never use TLS (like libpq).
   *
   * With TLS, `ca`, `cert` and `key` are read from the `sslrootcert`, `sslcert` and `sslkey` files (at each call);
   * `sslrootcert=system` means Node's default CA store; `sslpassword` becomes `passphrase`.
   * A function password is passed as it is (node-postgres calls it when the server asks for a password).
   * `targetSessionAttrs` (checked by tscopg after connecting) and the other libpq-only keywords are left out.
   * A `statementTimeout` of 0 is also sent as `-c statement_timeout=0`, since node-postgres skips a 0.
   * @param hostIndex Index into {@link hosts}. Default 0.
   * @throws ConfigurationError when `hostIndex` is out of range or a certificate file cannot be read.
   */
  connectParams(hostIndex = 0): ClientConfig {
    return clientParams(this, this.#password, hostIndex);
  }

  /** {@link connectParams} for every host, in failover order. */
  connectParamsList(): ClientConfig[] {
    return this.hosts.map((_, i) => this.connectParams(i));
  }

  /** A copy connected to another database; hosts, credentials, TLS, options and timeouts are kept. */
  withDatabase(name: string): Config {
    return this.with({ database: name });
  }

  /**
   * A copy with some fields changed. `undefined` fields are kept; `null` resets a nullable field to its default.
   * `options` replaces the whole record (spread {@link options} to extend it). Changing `host` or `port` without
   * `hosts` replaces the host list by that single host.
   */
  with(changes: ConfigInit): Config {
    const init = this.toInit() as Record<string, unknown>;
    const delta = (changes ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(delta)) if (value !== undefined) init[key] = value;
    if (delta.hosts === undefined && (delta.host !== undefined || delta.port !== undefined)) {
      delete init.hosts;
      init.host = delta.host ?? this.host;
      init.port = delta.port ?? this.port;
    }
    return new Config(init as ConfigInit);
  }

  /**
   * A complete plain copy of the settings that `new Config(...)` accepts, used to send a Config to a worker thread.
   *
   * **Contains the password** in clear text (or the password function): keep it in memory, do not log or persist it.
   */
  toInit(): ConfigInit {
    return {
      host: this.host,
      port: this.port,
      hosts: this.hosts.map((h) => ({ host: h.host, port: h.port })),
      database: this.database,
      user: this.user,
      password: this.#password,
      sslmode: this.sslmode,
      options: { ...this.options },
      statementTimeout: this.statementTimeout,
      applicationName: this.applicationName,
      connectTimeout: this.connectTimeout,
      queryTimeout: this.queryTimeout,
      targetSessionAttrs: this.targetSessionAttrs,
      pooler: this.pooler,
    };
  }

  /** {@link toInit} with the password (a function too) and any `sslpassword` option replaced by `"***"` when non-empty. */
  toJSON(): ConfigInit {
    const init = this.toInit();
    if (init.password !== "") init.password = "***";
    if (init.options?.sslpassword) init.options.sslpassword = "***";
    return init;
  }

  /**
   * A short description such as `Config(postgres@localhost:5432/postgres)`, followed by
   * `target_session_attrs=…` and `pooler=…` when they are set; never the password.
   */
  toString(): string {
    const hosts = this.hosts.map((h) => `${displayHost(h.host)}:${h.port}`).join(",");
    const target = this.targetSessionAttrs === "any" ? "" : ` target_session_attrs=${this.targetSessionAttrs}`;
    const pooler = this.pooler === null ? "" : ` pooler=${this.pooler}`;
    return `Config(${this.user}@${hosts}/${this.database}${target}${pooler})`;
  }

  /** What `util.inspect()` / `console.log()` show: {@link toJSON} (password as `***`) labelled `Config`. */
  [Symbol.for("nodejs.util.inspect.custom")](depth: number, options: InspectOptions): string {
    if (depth < 0) return this.toString();
    return `Config ${inspect(this.toJSON(), { ...options, depth })}`;
  }
}
