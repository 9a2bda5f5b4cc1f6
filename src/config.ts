/**
 * Connection settings: the {@link Config} class, built by hand, from a URL ({@link Config.fromUrl}) or from the
 * environment ({@link Config.fromEnv}), and turned into node-postgres client options
 * ({@link Config.connectParams}), a libpq conninfo string ({@link Config.dsn}) or a URL ({@link Config.url}).
 *
 * A Config never shows its password: not in `toString()`, `util.inspect()`, `JSON.stringify()` or
 * `Object.keys()`. Only {@link Config.password}, {@link Config.dsn}, {@link Config.url} and
 * {@link Config.toInit} return it, because their callers ask for it explicitly.
 *
 * The work is shared with `config/`: `checks` (defaults and validation), `url` (URL parsing, `dsn` and `url`),
 * `env` (`fromEnv`) and `tls` (the `ssl` option); the password never leaves the private field of a Config except
 * as an argument of those helpers.
 * @module
 */
import { inspect, type InspectOptions } from "node:util";
import type { ClientConfig } from "pg";
import {
  checkHost,
  checkNoNul,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  DEFAULT_DATABASE,
  DEFAULT_PORT,
  DEFAULT_USER,
  fail,
  isSslMode,
  normalizeOptions,
  settingWords,
  SSL_MODES,
  toNonNegativeInt,
  toPort,
} from "./config/checks.js";
import { readEnv } from "./config/env.js";
import { sslOptions } from "./config/tls.js";
import { displayHost, formatDsn, formatUrl, parseUrl } from "./config/url.js";

/**
 * libpq's `sslmode` values.
 *
 * node-postgres cannot negotiate, so `allow` and `prefer` connect without TLS (like `disable`); `require`
 * encrypts without checking the certificate; `verify-ca` checks the chain but not the host name;
 * `verify-full` checks both.
 */
export type SslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";

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
  /** Password. Default `""` (none). */
  password?: string | undefined;
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
}

/** Options of {@link Config.fromEnv}. */
export interface FromEnvOptions {
  /** Read a `.env` file (the given path, else `./.env` when it exists). Default `true`. */
  loadDotenvFile?: boolean | undefined;
  /** The environment to read instead of `process.env` (for tests). */
  env?: NodeJS.ProcessEnv | undefined;
}

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
  readonly #password: string;

  /**
   * Builds a Config; missing fields take their defaults (see {@link ConfigInit}). The password stays in this Config
   * (nothing is kept process-wide): error messages that could show it are scrubbed with it where they are built.
   * @throws ConfigurationError when a field is invalid (port out of range, bad sslmode, bad option key, …).
   */
  constructor(init: ConfigInit = {}) {
    if (init === null || typeof init !== "object") fail("Config expects an object of settings");
    const normalized = normalizeOptions(init.options);

    let hosts: HostPort[];
    if (init.hosts !== undefined && init.hosts !== null) {
      if (!Array.isArray(init.hosts)) fail("hosts must be an array of { host, port }");
    }
    if (Array.isArray(init.hosts) && init.hosts.length > 0) {
      hosts = init.hosts.map((entry, i) => {
        if (entry === null || typeof entry !== "object") fail(`hosts[${i}] must be an object { host, port }`);
        return {
          host: checkHost(entry.host, `hosts[${i}].host`),
          port: entry.port === undefined || entry.port === null ? DEFAULT_PORT : toPort(entry.port, `hosts[${i}]`),
        };
      });
    } else {
      const port = init.port === undefined || init.port === null ? DEFAULT_PORT : toPort(init.port, "port");
      hosts = [{ host: checkHost(init.host, "host"), port }];
    }

    const str = (value: unknown, what: string, fallback: string): string => {
      if (value === undefined || value === null || value === "") return fallback;
      if (typeof value !== "string") fail(`${what} must be a string`);
      return checkNoNul(value, what);
    };

    const password = init.password === undefined || init.password === null ? "" : init.password;
    if (typeof password !== "string") fail("password must be a string");
    if (password.includes("\0")) fail("the password must not contain a NUL character");

    const sslmode = init.sslmode ?? normalized.fields.sslmode ?? null;
    if (sslmode !== null && !isSslMode(sslmode)) {
      fail(`invalid sslmode ${JSON.stringify(sslmode)} (expected one of ${SSL_MODES.join(", ")})`);
    }

    const statementTimeout = init.statementTimeout ?? normalized.fields.statement_timeout ?? null;
    const connectTimeout = init.connectTimeout ?? normalized.fields.connect_timeout ?? null;
    const queryTimeout = init.queryTimeout ?? normalized.fields.query_timeout ?? null;
    const applicationName = init.applicationName ?? normalized.fields.application_name ?? null;

    const first = hosts[0]!;
    this.host = first.host;
    this.port = first.port;
    this.hosts = Object.freeze(hosts.map((h) => Object.freeze({ ...h })));
    this.database = str(init.database, "database", DEFAULT_DATABASE);
    this.user = str(init.user, "user", DEFAULT_USER);
    this.sslmode = sslmode;
    this.options = Object.freeze(normalized.options);
    this.statementTimeout = statementTimeout === null ? null : toNonNegativeInt(statementTimeout, "statementTimeout");
    this.applicationName = applicationName === null || applicationName === "" ? null : str(applicationName, "applicationName", "");
    this.connectTimeout = connectTimeout === null ? null : toNonNegativeInt(connectTimeout, "connectTimeout");
    this.queryTimeout = queryTimeout === null ? null : toNonNegativeInt(queryTimeout, "queryTimeout");
    this.#password = password;
  }

  /** The password (`""` when none). A getter over a private field, so it is not an own enumerable property. */
  get password(): string {
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
   * `query_timeout` (ms) set their fields; `ssl=true|false|no-verify` (node-postgres style) sets `sslmode` to `verify-full`, `disable` or `require`
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
   * Contains the password (omitted when empty): do not log it.
   */
  get dsn(): string {
    return formatDsn(this, this.#password);
  }

  /**
   * A `postgresql://` URL with every part percent-encoded, so `Config.fromUrl(config.url)` gives back an equal
   * Config. Unix-socket hosts go in `?host=/dir&port=N` (with an empty authority host); several hosts are written
   * `h1:5432,h2:5433`; sslmode, application_name, connect_timeout, statement_timeout, query_timeout and
   * {@link options} are query parameters.
   *
   * Contains the password (omitted when empty): do not log it.
   */
  get url(): string {
    return formatUrl(this, this.#password);
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
   * `target_session_attrs` and the other libpq-only keywords are not understood by node-postgres and are left out.
   * A `statementTimeout` of 0 is also sent as `-c statement_timeout=0`, since node-postgres skips a 0.
   * @param hostIndex Index into {@link hosts}. Default 0.
   * @throws ConfigurationError when `hostIndex` is out of range or a certificate file cannot be read.
   */
  connectParams(hostIndex = 0): ClientConfig {
    const target = this.hosts[hostIndex];
    if (!Number.isInteger(hostIndex) || target === undefined) {
      fail(`host index ${hostIndex} is out of range (this Config has ${this.hosts.length} host(s))`);
    }
    const params: ClientConfig = {
      host: target.host,
      port: target.port,
      database: this.database,
      user: this.user,
      keepAlive: true,
      connectionTimeoutMillis: (this.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000,
      ssl: sslOptions(this.sslmode, this.options, target.host.startsWith("/")),
    };
    Object.defineProperty(params, "password", {
      value: this.#password,
      enumerable: false,
      writable: true,
      configurable: true,
    });
    if (this.applicationName !== null) params.application_name = this.applicationName;
    const fallbackName = this.options.fallback_application_name;
    if (fallbackName !== undefined) params.fallback_application_name = fallbackName;
    if (this.statementTimeout !== null) params.statement_timeout = this.statementTimeout;
    const negotiation = this.options.sslnegotiation;
    if (params.ssl && (negotiation === "postgres" || negotiation === "direct")) params.sslnegotiation = negotiation;

    const words: string[] = [];
    if (this.options.options) words.push(this.options.options);
    if (this.statementTimeout === 0) words.push("-c statement_timeout=0");
    words.push(...settingWords(this.options));
    if (words.length > 0) params.options = words.join(" ");
    return params;
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
   * **Contains the password** in clear text: keep it in memory, do not log or persist it.
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
    };
  }

  /** {@link toInit} with the password (and any `sslpassword` option) replaced by `"***"` when non-empty. */
  toJSON(): ConfigInit {
    const init = this.toInit();
    if (init.password !== "") init.password = "***";
    if (init.options?.sslpassword) init.options.sslpassword = "***";
    return init;
  }

  /** A short description such as `Config(postgres@localhost:5432/postgres)`; never the password. */
  toString(): string {
    const hosts = this.hosts.map((h) => `${displayHost(h.host)}:${h.port}`).join(",");
    return `Config(${this.user}@${hosts}/${this.database})`;
  }

  /** What `util.inspect()` / `console.log()` show: {@link toJSON} (password as `***`) labelled `Config`. */
  [Symbol.for("nodejs.util.inspect.custom")](depth: number, options: InspectOptions): string {
    if (depth < 0) return this.toString();
    return `Config ${inspect(this.toJSON(), { ...options, depth })}`;
  }
}
