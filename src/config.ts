/**
 * Connection settings: the {@link Config} class, built by hand, from a URL ({@link Config.fromUrl}) or from the
 * environment ({@link Config.fromEnv}), and turned into node-postgres client options
 * ({@link Config.connectParams}), a libpq conninfo string ({@link Config.dsn}) or a URL ({@link Config.url}).
 *
 * A Config never shows its password: not in `toString()`, `util.inspect()`, `JSON.stringify()` or
 * `Object.keys()`. Only {@link Config.password}, {@link Config.dsn}, {@link Config.url} and
 * {@link Config.toInit} return it, because their callers ask for it explicitly.
 * @module
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { ConnectionOptions } from "node:tls";
import { inspect, parseEnv, type InspectOptions } from "node:util";
import type { ClientConfig } from "pg";
import { ConfigurationError, redactSecrets, registerSecret } from "./errors.js";

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
   * `application_name`, `connect_timeout`, `statement_timeout` and `sslmode` are moved into their fields (when
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
}

/** Options of {@link Config.fromEnv}. */
export interface FromEnvOptions {
  /** Read a `.env` file (the given path, else `./.env` when it exists). Default `true`. */
  loadDotenvFile?: boolean | undefined;
  /** The environment to read instead of `process.env` (for tests). */
  env?: NodeJS.ProcessEnv | undefined;
}

const SSL_MODES: readonly SslMode[] = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];
const DEFAULT_HOST = "localhost";
const DEFAULT_PORT = 5432;
const DEFAULT_DATABASE = "postgres";
const DEFAULT_USER = "postgres";
/** Used by {@link Config.connectParams} when `connectTimeout` is null. */
const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;
/** PostgreSQL stores both timeouts as a signed 32-bit integer. */
const MAX_INT32 = 2147483647;
/** A server setting (GUC) name: letters, digits, `_`, and `.` for extension settings such as `pg_trgm.similarity_threshold`. */
const GUC_KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** Option keys that are fields of the Config: moved there. */
const FIELD_KEYWORDS = new Set(["application_name", "connect_timeout", "statement_timeout", "sslmode"]);
/** Option keys that must be given as fields. */
const RESERVED_KEYWORDS = new Set(["host", "port", "dbname", "user", "password"]);
/**
 * libpq connection keywords kept as they are in `options`: they are not server settings, so they are never sent as
 * `-c key=value`. `options`, `sslrootcert`, `sslcert`, `sslkey`, `sslpassword`, `sslnegotiation` and
 * `fallback_application_name` are used by {@link Config.connectParams}; all of them appear in `dsn` and `url`.
 */
const CONNECTION_KEYWORDS = new Set([
  "options",
  "target_session_attrs",
  "sslrootcert",
  "sslcert",
  "sslkey",
  "sslpassword",
  "sslnegotiation",
  "fallback_application_name",
  "hostaddr",
  "passfile",
  "channel_binding",
  "keepalives",
  "keepalives_idle",
  "keepalives_interval",
  "keepalives_count",
  "tcp_user_timeout",
  "sslcrl",
  "sslcrldir",
  "sslsni",
  "sslcompression",
  "sslcertmode",
  "ssl_min_protocol_version",
  "ssl_max_protocol_version",
  "requirepeer",
  "require_auth",
  "gssencmode",
  "krbsrvname",
  "gsslib",
  "gssdelegation",
  "service",
  "load_balance_hosts",
  "replication",
]);

/** Throws a {@link ConfigurationError} whose message has every registered secret scrubbed. */
function fail(message: string): never {
  throw new ConfigurationError(redactSecrets(message));
}

function isSslMode(value: unknown): value is SslMode {
  return typeof value === "string" && (SSL_MODES as readonly string[]).includes(value);
}

/** Rejects NUL characters, which no part of the protocol can carry. */
function checkNoNul(value: string, what: string): string {
  if (value.includes("\0")) fail(`${what} must not contain a NUL character`);
  return value;
}

/** A port number or numeric string → integer 1..65535. `describe` says where it came from; values are not echoed. */
function toPort(value: unknown, describe: string): number {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
    fail(`${describe}: the port must be an integer from 1 to 65535`);
  }
  return n;
}

/** A non-negative 32-bit integer from a number or a decimal string. */
function toNonNegativeInt(value: unknown, what: string): number {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX_INT32) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    fail(`${what} must be a non-negative integer, got ${shown}`);
  }
  return n;
}

function checkHost(value: unknown, what: string): string {
  if (value === undefined || value === null || value === "") return DEFAULT_HOST;
  if (typeof value !== "string") fail(`${what} must be a string`);
  if (value.includes(",")) fail(`${what} must be a single host (use "hosts" for several): ${JSON.stringify(value)}`);
  return checkNoNul(value, what);
}

/** Escapes a value for the start-up `options` string (libpq / the server split it on white space; `\` escapes). */
function escapeStartupValue(value: string): string {
  return value.replace(/[\\ \t\n\r\v\f]/g, (c) => `\\${c}`);
}

/** Quotes a conninfo value the way libpq reads it back. */
function quoteConninfo(value: string): string {
  if (value !== "" && !/[\s'\\]/.test(value)) return value;
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** Host as written in a URL authority or a message: IPv6 addresses in brackets. */
function displayHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * The URL for an error message: the userinfo (everything up to the last `@`), non-numeric ports (a password
 * written without `@`?) and `password=` parameters replaced by `***`, known secrets scrubbed.
 */
function sanitizeUrl(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(.*)$/s.exec(url);
  if (!m) return "(not shown)";
  let rest = m[2]!;
  const lastAt = rest.lastIndexOf("@");
  if (lastAt >= 0) {
    rest = `***@${rest.slice(lastAt + 1)}`;
  } else {
    const end = rest.search(/[/?]/);
    const authority = end < 0 ? rest : rest.slice(0, end);
    const masked = authority
      .split(",")
      .map((entry) => entry.replace(/^(\[[^\]]*\]|[^:[]*):(?!\d*$).*$/s, "$1:***"))
      .join(",");
    rest = masked + (end < 0 ? "" : rest.slice(end));
  }
  rest = rest.replace(/([?&]password=)[^&#]*/gi, "$1***");
  return redactSecrets(m[1] + rest);
}

/** Pairs host names with ports the way libpq does: one port for all hosts, or one per host. Empty = default. */
function combineHosts(names: string[], ports: string[], describe: string): HostPort[] {
  const hostNames = names.length > 0 ? names : [""];
  const portTexts = ports.length > 0 ? ports : [""];
  if (portTexts.length !== 1 && portTexts.length !== hostNames.length) {
    fail(`${describe}: ${portTexts.length} ports given for ${hostNames.length} hosts`);
  }
  return hostNames.map((name, i) => {
    const portText = (portTexts.length === 1 ? portTexts[0] : portTexts[i]) ?? "";
    return {
      host: name.trim() === "" ? DEFAULT_HOST : name.trim(),
      port: portText.trim() === "" ? DEFAULT_PORT : toPort(portText, describe),
    };
  });
}

interface NormalizedOptions {
  options: Record<string, string>;
  fields: Partial<Record<"application_name" | "connect_timeout" | "statement_timeout" | "sslmode", string>>;
}

/** Validates an `options` record, pulling out the keys that belong to fields. */
function normalizeOptions(raw: unknown): NormalizedOptions {
  const out: NormalizedOptions = { options: {}, fields: {} };
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== "object" || Array.isArray(raw)) fail("options must be a plain object of strings");
  for (const [key, rawValue] of Object.entries(raw as Record<string, unknown>)) {
    if (rawValue === undefined || rawValue === null) continue;
    if (typeof rawValue !== "string" && typeof rawValue !== "number" && typeof rawValue !== "boolean") {
      fail(`options[${JSON.stringify(key)}] must be a string`);
    }
    const value = checkNoNul(String(rawValue), `options[${JSON.stringify(key)}]`);
    if (RESERVED_KEYWORDS.has(key)) {
      fail(`options key ${JSON.stringify(key)} is a connection field: set it as a Config field, not in options`);
    }
    if (FIELD_KEYWORDS.has(key)) {
      out.fields[key as keyof NormalizedOptions["fields"]] = value;
      continue;
    }
    if (!CONNECTION_KEYWORDS.has(key) && !GUC_KEY.test(key)) {
      fail(`invalid server setting name ${JSON.stringify(key)} in options (expected letters, digits, "_" and ".")`);
    }
    out.options[key] = value;
  }
  return out;
}

/** Reads a certificate or key file for TLS. */
function readTlsFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    return fail(`cannot read the ${what} file ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
}

function isFile(file: string): boolean {
  try {
    return existsSync(file) && statSync(file).isFile();
  } catch {
    return false;
  }
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
  readonly #password: string;

  /**
   * Builds a Config; missing fields take their defaults (see {@link ConfigInit}). The password is registered with
   * {@link registerSecret} so no error message will ever show it.
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
      hosts = [
        {
          host: checkHost(init.host, "host"),
          port: init.port === undefined || init.port === null ? DEFAULT_PORT : toPort(init.port, "port"),
        },
      ];
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
    this.#password = password;
    registerSecret(password);
    registerSecret(this.options.sslpassword);
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
   * the URL parts; `sslmode`, `application_name`, `connect_timeout` (seconds) and `statement_timeout` (ms) set their
   * fields; `ssl=true|false|no-verify` (node-postgres style) sets `sslmode` to `verify-full`, `disable` or `require`
   * when `sslmode` is absent; every other parameter goes to {@link Config.options}. Missing parts take the defaults.
   * @throws ConfigurationError for another scheme, a malformed URL or bad percent-encoding. The message never
   * contains the password.
   */
  static fromUrl(url: string): Config {
    if (typeof url !== "string") fail("the connection URL must be a string");
    const text = url.trim();
    const safe = sanitizeUrl(text);
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
    if (!scheme) fail("not a PostgreSQL URL (expected postgresql://user:password@host:port/database)");
    const name = scheme[1]!.toLowerCase();
    if (name !== "postgres" && name !== "postgresql" && !/^postgresql\+[a-z0-9_.-]+$/.test(name)) {
      fail(`unsupported URL scheme "${scheme[1]}://" (expected postgresql://, postgres:// or postgresql+<driver>://)`);
    }

    const decode = (value: string, what: string): string => {
      try {
        return decodeURIComponent(value);
      } catch {
        return fail(`invalid percent-encoding in the ${what} of the URL ${safe}`);
      }
    };

    const rest = text.slice(scheme[0].length);
    const authorityEnd = rest.search(/[/?]/);
    const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
    let tail = authorityEnd < 0 ? "" : rest.slice(authorityEnd);
    const hashAt = tail.indexOf("#");
    if (hashAt >= 0) tail = tail.slice(0, hashAt);
    const queryAt = tail.indexOf("?");
    const pathPart = queryAt < 0 ? tail : tail.slice(0, queryAt);
    const queryPart = queryAt < 0 ? "" : tail.slice(queryAt + 1);

    // userinfo: everything before the last "@" of the authority
    const at = authority.lastIndexOf("@");
    let user: string | undefined;
    let password: string | undefined;
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      const colon = userinfo.indexOf(":");
      user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), "user name");
      if (colon >= 0) password = decode(userinfo.slice(colon + 1), "password");
    }
    const hostPart = at >= 0 ? authority.slice(at + 1) : authority;

    const hostNames: string[] = [];
    const hostPorts: string[] = [];
    if (hostPart !== "") {
      for (const entry of hostPart.split(",")) {
        let host: string;
        let port = "";
        if (entry.startsWith("[")) {
          const close = entry.indexOf("]");
          if (close < 0) fail(`unterminated "[" in the host of the URL ${safe}`);
          host = entry.slice(1, close);
          const after = entry.slice(close + 1);
          if (after.startsWith(":")) port = after.slice(1);
          else if (after !== "") fail(`unexpected characters after "]" in the host of the URL ${safe}`);
        } else {
          const colon = entry.indexOf(":");
          host = colon < 0 ? entry : entry.slice(0, colon);
          port = colon < 0 ? "" : entry.slice(colon + 1);
          if (port.includes(":")) fail(`IPv6 addresses must be written in brackets ([::1]) in the URL ${safe}`);
        }
        hostNames.push(decode(host, "host"));
        hostPorts.push(port);
      }
    }

    const params = new Map<string, string>();
    for (const segment of queryPart.split("&")) {
      if (segment === "") continue;
      const eq = segment.indexOf("=");
      if (eq < 0) fail(`URL parameter ${JSON.stringify(decode(segment, "parameters"))} has no value: ${safe}`);
      const key = decode(segment.slice(0, eq), "parameters");
      params.set(key, decode(segment.slice(eq + 1), `parameter ${JSON.stringify(key)}`));
    }
    const take = (key: string): string | undefined => {
      const value = params.get(key);
      params.delete(key);
      return value;
    };

    const queryHost = take("host");
    const queryPort = take("port");
    const hosts = combineHosts(
      queryHost !== undefined ? queryHost.split(",") : hostNames,
      queryPort !== undefined ? queryPort.split(",") : hostPorts,
      `invalid host or port in the URL ${safe}`,
    );
    const queryDb = take("dbname");
    const queryUser = take("user");
    const queryPassword = take("password");

    let sslmode: string | undefined = take("sslmode");
    if (sslmode !== undefined && !isSslMode(sslmode)) {
      fail(`invalid sslmode ${JSON.stringify(sslmode)} in the URL (expected one of ${SSL_MODES.join(", ")})`);
    }
    const ssl = take("ssl");
    if (ssl !== undefined && sslmode === undefined) {
      const v = ssl.toLowerCase();
      if (v === "true" || v === "1") sslmode = "verify-full";
      else if (v === "false" || v === "0") sslmode = "disable";
      else if (v === "no-verify") sslmode = "require";
      else fail(`invalid ssl parameter ${JSON.stringify(ssl)} in the URL (expected true, false or no-verify)`);
    }
    const applicationName = take("application_name");
    const connectTimeout = take("connect_timeout");
    const statementTimeout = take("statement_timeout");

    const database = queryDb ?? decode(pathPart.startsWith("/") ? pathPart.slice(1) : pathPart, "database name");
    return new Config({
      hosts,
      database,
      user: queryUser ?? user,
      password: queryPassword ?? password,
      sslmode: (sslmode as SslMode | undefined) ?? null,
      applicationName: applicationName ?? null,
      connectTimeout: connectTimeout === undefined ? null : toNonNegativeInt(connectTimeout, "connect_timeout"),
      statementTimeout: statementTimeout === undefined ? null : toNonNegativeInt(statementTimeout, "statement_timeout"),
      options: Object.fromEntries(params),
    });
  }

  /**
   * Builds a Config from the environment.
   *
   * `DATABASE_URL` wins (parsed with {@link Config.fromUrl}). Otherwise each field comes from the first non-empty
   * variable of: `DB_HOST`|`PGHOST` (may be a comma list), `DB_PORT`|`PGPORT` (one port, or one per host),
   * `DB_NAME`|`PGDATABASE`, `DB_USER`|`PGUSER`, `DB_PASSWORD`|`PGPASSWORD`, `DB_SSLMODE`|`PGSSLMODE`,
   * `DB_APPLICATION_NAME`|`PGAPPNAME`, `DB_CONNECT_TIMEOUT`|`PGCONNECT_TIMEOUT` (seconds), `DB_STATEMENT_TIMEOUT`
   * (ms); also libpq's `PGOPTIONS`, `PGTARGETSESSIONATTRS`, `PGSSLROOTCERT`, `PGSSLCERT` and `PGSSLKEY`.
   *
   * A `.env` file is read when `loadDotenvFile` is true (the default): `dotenvPath` if given, else `./.env` in the
   * current directory when it exists. It is parsed with `util.parseEnv` and never copied into `process.env`;
   * a variable set in the environment always beats the same one in the file.
   * @param dotenvPath The `.env` file to read; `null`/`undefined` for `./.env` (if present).
   * @throws ConfigurationError when an explicit `dotenvPath` does not exist or a value is invalid (port `abc`, …).
   */
  static fromEnv(dotenvPath?: string | null, opts: FromEnvOptions = {}): Config {
    const env = opts.env ?? process.env;
    let fileVars: Record<string, string | undefined> = {};
    if (opts.loadDotenvFile ?? true) {
      let file: string | null = null;
      if (dotenvPath !== undefined && dotenvPath !== null && dotenvPath !== "") {
        file = path.resolve(dotenvPath);
        if (!isFile(file)) fail(`the .env file ${JSON.stringify(file)} does not exist`);
      } else {
        const fallback = path.resolve(process.cwd(), ".env");
        if (isFile(fallback)) file = fallback;
      }
      if (file !== null) {
        try {
          fileVars = parseEnv(readFileSync(file, "utf8"));
        } catch (err) {
          fail(`cannot read the .env file ${JSON.stringify(file)}: ${(err as Error).message}`);
        }
      }
    }
    const vars: Record<string, string | undefined> = { ...fileVars };
    for (const [key, value] of Object.entries(env)) if (value !== undefined) vars[key] = value;

    /** The first non-empty variable among `names`. */
    const get = (...names: string[]): { name: string; value: string } | undefined => {
      for (const name of names) {
        const value = vars[name];
        if (value !== undefined && value !== "") return { name, value };
      }
      return undefined;
    };

    const databaseUrl = get("DATABASE_URL");
    if (databaseUrl) return Config.fromUrl(databaseUrl.value);

    const host = get("DB_HOST", "PGHOST");
    const port = get("DB_PORT", "PGPORT");
    const hosts = combineHosts(
      host ? host.value.split(",") : [],
      port ? port.value.split(",") : [],
      `invalid ${[host, port].flatMap((v) => (v ? [`${v.name}=${JSON.stringify(v.value)}`] : [])).join(", ")}`,
    );

    const sslmode = get("DB_SSLMODE", "PGSSLMODE");
    if (sslmode && !isSslMode(sslmode.value)) {
      fail(`invalid ${sslmode.name} ${JSON.stringify(sslmode.value)} (expected one of ${SSL_MODES.join(", ")})`);
    }
    const connectTimeout = get("DB_CONNECT_TIMEOUT", "PGCONNECT_TIMEOUT");
    const statementTimeout = get("DB_STATEMENT_TIMEOUT");

    const options: Record<string, string> = {};
    const extra: [string, string][] = [
      ["PGOPTIONS", "options"],
      ["PGTARGETSESSIONATTRS", "target_session_attrs"],
      ["PGSSLROOTCERT", "sslrootcert"],
      ["PGSSLCERT", "sslcert"],
      ["PGSSLKEY", "sslkey"],
    ];
    for (const [variable, key] of extra) {
      const found = get(variable);
      if (found) options[key] = found.value;
    }

    return new Config({
      hosts,
      database: get("DB_NAME", "PGDATABASE")?.value,
      user: get("DB_USER", "PGUSER")?.value,
      password: get("DB_PASSWORD", "PGPASSWORD")?.value,
      sslmode: (sslmode?.value as SslMode | undefined) ?? null,
      applicationName: get("DB_APPLICATION_NAME", "PGAPPNAME")?.value ?? null,
      connectTimeout: connectTimeout ? toNonNegativeInt(connectTimeout.value, connectTimeout.name) : null,
      statementTimeout: statementTimeout ? toNonNegativeInt(statementTimeout.value, statementTimeout.name) : null,
      options,
    });
  }

  /** The server settings of {@link options} as `-c key=value` words, escaped for the start-up `options` string. */
  #settingWords(): string[] {
    const words: string[] = [];
    for (const [key, value] of Object.entries(this.options)) {
      if (CONNECTION_KEYWORDS.has(key)) continue;
      words.push(`-c ${key}=${escapeStartupValue(value)}`);
    }
    return words;
  }

  /**
   * A libpq keyword/value connection string: `host=… port=… dbname=… user=… password=…` plus `sslmode`,
   * `application_name`, `connect_timeout`, `options='-c statement_timeout=N -c key=value …'` and the connection
   * keywords of {@link options}, when set. Values are quoted as libpq expects. Several hosts give
   * `host=h1,h2 port=5432,5433`.
   *
   * Contains the password (omitted when empty): do not log it.
   */
  get dsn(): string {
    const parts: string[] = [
      `host=${quoteConninfo(this.hosts.map((h) => h.host).join(","))}`,
      `port=${this.hosts.map((h) => String(h.port)).join(",")}`,
      `dbname=${quoteConninfo(this.database)}`,
      `user=${quoteConninfo(this.user)}`,
    ];
    if (this.#password !== "") parts.push(`password=${quoteConninfo(this.#password)}`);
    if (this.sslmode !== null) parts.push(`sslmode=${this.sslmode}`);
    if (this.applicationName !== null) parts.push(`application_name=${quoteConninfo(this.applicationName)}`);
    if (this.connectTimeout !== null) parts.push(`connect_timeout=${this.connectTimeout}`);
    const words: string[] = [];
    if (this.options.options) words.push(this.options.options);
    if (this.statementTimeout !== null) words.push(`-c statement_timeout=${this.statementTimeout}`);
    words.push(...this.#settingWords());
    if (words.length > 0) parts.push(`options=${quoteConninfo(words.join(" "))}`);
    for (const [key, value] of Object.entries(this.options)) {
      if (key !== "options" && CONNECTION_KEYWORDS.has(key)) parts.push(`${key}=${quoteConninfo(value)}`);
    }
    return parts.join(" ");
  }

  /**
   * A `postgresql://` URL with every part percent-encoded, so `Config.fromUrl(config.url)` gives back an equal
   * Config. Unix-socket hosts go in `?host=/dir&port=N` (with an empty authority host); several hosts are written
   * `h1:5432,h2:5433`; sslmode, application_name, connect_timeout, statement_timeout and {@link options} are
   * query parameters.
   *
   * Contains the password (omitted when empty): do not log it.
   */
  get url(): string {
    const enc = encodeURIComponent;
    const query: string[] = [];
    let authorityHosts = "";
    if (this.hosts.some((h) => h.host.startsWith("/"))) {
      const keepPathChars = (s: string): string => enc(s).replace(/%2F/gi, "/").replace(/%2C/gi, ",");
      query.push(`host=${keepPathChars(this.hosts.map((h) => h.host).join(","))}`);
      query.push(`port=${keepPathChars(this.hosts.map((h) => String(h.port)).join(","))}`);
    } else {
      authorityHosts = this.hosts
        .map((h) => `${h.host.includes(":") ? `[${h.host.replace(/%/g, "%25")}]` : enc(h.host)}:${h.port}`)
        .join(",");
    }
    if (this.sslmode !== null) query.push(`sslmode=${this.sslmode}`);
    if (this.applicationName !== null) query.push(`application_name=${enc(this.applicationName)}`);
    if (this.connectTimeout !== null) query.push(`connect_timeout=${this.connectTimeout}`);
    if (this.statementTimeout !== null) query.push(`statement_timeout=${this.statementTimeout}`);
    for (const [key, value] of Object.entries(this.options)) query.push(`${enc(key)}=${enc(value)}`);
    const userinfo = `${enc(this.user)}${this.#password !== "" ? `:${enc(this.#password)}` : ""}@`;
    return `postgresql://${userinfo}${authorityHosts}/${enc(this.database)}${query.length > 0 ? `?${query.join("&")}` : ""}`;
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
      ssl: this.#sslOptions(target.host.startsWith("/")),
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
    words.push(...this.#settingWords());
    if (words.length > 0) params.options = words.join(" ");
    return params;
  }

  /** The `ssl` option of node-postgres for {@link sslmode} (see {@link connectParams}). */
  #sslOptions(unixSocket: boolean): false | ConnectionOptions {
    const mode = this.sslmode;
    if (unixSocket || mode === null || mode === "disable" || mode === "allow" || mode === "prefer") return false;
    const rootcert = this.options.sslrootcert;
    let ssl: ConnectionOptions;
    if (mode === "verify-full") ssl = { rejectUnauthorized: true };
    else if (mode === "verify-ca" || (mode === "require" && rootcert !== undefined && rootcert !== "")) {
      ssl = { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    } else ssl = { rejectUnauthorized: false };
    if (rootcert !== undefined && rootcert !== "" && rootcert !== "system") ssl.ca = readTlsFile(rootcert, "sslrootcert");
    const cert = this.options.sslcert;
    if (cert !== undefined && cert !== "") ssl.cert = readTlsFile(cert, "sslcert");
    const key = this.options.sslkey;
    if (key !== undefined && key !== "") ssl.key = readTlsFile(key, "sslkey");
    const passphrase = this.options.sslpassword;
    if (passphrase !== undefined && passphrase !== "") {
      Object.defineProperty(ssl, "passphrase", { value: passphrase, enumerable: false, writable: true, configurable: true });
    }
    return ssl;
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
