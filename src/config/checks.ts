/**
 * The rules every way of building a `Config` shares: the defaults, the tables of libpq connection keywords, the
 * field checks (each failure is a {@link ConfigurationError}; no message repeats a password),
 * {@link normalizeOptions} for the `options` record, and the `-c key=value` words of the start-up `options` string.
 * @module
 */
import type { ConfigInit, HostPort, PasswordFunction, Pooler, SslMode, TargetSessionAttrs } from "./types.js";
import { ConfigurationError } from "../errors.js";

/** Every libpq `sslmode`, in libpq's order (also the order shown in error messages). */
export const SSL_MODES: readonly SslMode[] = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];
/** Every `target_session_attrs` value (libpq 14+), in libpq's order. */
export const TARGET_SESSION_ATTRS: readonly TargetSessionAttrs[] = ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"];
/** Every `pooler` value. */
export const POOLERS: readonly Pooler[] = ["transaction"];
export const DEFAULT_HOST = "localhost";
export const DEFAULT_PORT = 5432;
export const DEFAULT_DATABASE = "postgres";
export const DEFAULT_USER = "postgres";
/** Used by `Config.connectParams` when `connectTimeout` is null. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;
/** PostgreSQL stores its timeouts as a signed 32-bit integer (and Node's timers cannot wait longer). */
const MAX_INT32 = 2147483647;
/** A server setting (GUC) name: letters, digits, `_`, and `.` for extension settings such as `pg_trgm.similarity_threshold`. */
const GUC_KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** Option keys that are fields of the Config: moved there. */
const FIELD_KEYWORDS = new Set([
  "application_name",
  "connect_timeout",
  "statement_timeout",
  "query_timeout",
  "sslmode",
  "target_session_attrs",
  "pooler",
]);
/** Option keys that must be given as fields. */
const RESERVED_KEYWORDS = new Set(["host", "port", "dbname", "user", "password"]);
/**
 * libpq connection keywords kept as they are in `options`: they are not server settings, so they are never sent as
 * `-c key=value`. `options`, `sslrootcert`, `sslcert`, `sslkey`, `sslpassword`, `sslnegotiation` and
 * `fallback_application_name` are used by `Config.connectParams`; all of them appear in `dsn` and `url`.
 */
export const CONNECTION_KEYWORDS = new Set([
  "options",
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

/**
 * Throws a {@link ConfigurationError}. Messages name the setting, never a password: a URL in a message is the one
 * `sanitizeUrl` in `config/url` gives.
 */
export function fail(message: string): never {
  throw new ConfigurationError(message);
}

export function isSslMode(value: unknown): value is SslMode {
  return typeof value === "string" && (SSL_MODES as readonly string[]).includes(value);
}

/** One of `allowed`, or a {@link ConfigurationError} naming `what` and the allowed values. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  return fail(`invalid ${what} ${shown} (expected one of ${allowed.join(", ")})`);
}

/** Rejects NUL characters, which no part of the protocol can carry. */
export function checkNoNul(value: string, what: string): string {
  if (value.includes("\0")) fail(`${what} must not contain a NUL character`);
  return value;
}

/** A port number or numeric string → integer 1..65535. `describe` says where it came from; values are not echoed. */
export function toPort(value: unknown, describe: string): number {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
    fail(`${describe}: the port must be an integer from 1 to 65535`);
  }
  return n;
}

/** A non-negative 32-bit integer from a number or a decimal string. */
export function toNonNegativeInt(value: unknown, what: string): number {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX_INT32) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    fail(`${what} must be a non-negative integer, got ${shown}`);
  }
  return n;
}

export function checkHost(value: unknown, what: string): string {
  if (value === undefined || value === null || value === "") return DEFAULT_HOST;
  if (typeof value !== "string") fail(`${what} must be a string`);
  if (value.includes(",")) fail(`${what} must be a single host (use "hosts" for several): ${JSON.stringify(value)}`);
  return checkNoNul(value, what);
}

/** A string field: `fallback` when absent or empty; no NUL character. */
export function checkString(value: unknown, what: string, fallback: string): string {
  if (value === undefined || value === null || value === "") return fallback;
  if (typeof value !== "string") fail(`${what} must be a string`);
  return checkNoNul(value, what);
}

/** The servers of a ConfigInit: `hosts` when non-empty, else `host` and `port`. */
export function checkHosts(init: ConfigInit): HostPort[] {
  if (init.hosts !== undefined && init.hosts !== null && !Array.isArray(init.hosts)) fail("hosts must be an array of { host, port }");
  if (Array.isArray(init.hosts) && init.hosts.length > 0) {
    return init.hosts.map((entry, i) => {
      if (entry === null || typeof entry !== "object") fail(`hosts[${i}] must be an object { host, port }`);
      return {
        host: checkHost(entry.host, `hosts[${i}].host`),
        port: entry.port === undefined || entry.port === null ? DEFAULT_PORT : toPort(entry.port, `hosts[${i}]`),
      };
    });
  }
  const port = init.port === undefined || init.port === null ? DEFAULT_PORT : toPort(init.port, "port");
  return [{ host: checkHost(init.host, "host"), port }];
}

/** A password: a string without NUL (`""` when absent) or a function (see `ConfigInit.password`). */
export function checkPassword(value: unknown): string | PasswordFunction {
  if (value === undefined || value === null) return "";
  if (typeof value === "function") return value as PasswordFunction;
  if (typeof value !== "string") fail("password must be a string or a function");
  if (value.includes("\0")) fail("the password must not contain a NUL character");
  return value;
}

/** Pairs host names with ports the way libpq does: one port for all hosts, or one per host. Empty = default. */
export function combineHosts(names: string[], ports: string[], describe: string): HostPort[] {
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

export interface NormalizedOptions {
  options: Record<string, string>;
  fields: Partial<
    Record<
      "application_name" | "connect_timeout" | "statement_timeout" | "query_timeout" | "sslmode" | "target_session_attrs" | "pooler",
      string
    >
  >;
}

/** Validates an `options` record, pulling out the keys that belong to fields. */
export function normalizeOptions(raw: unknown): NormalizedOptions {
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

/** Escapes a value for the start-up `options` string (libpq / the server split it on white space; `\` escapes). */
function escapeStartupValue(value: string): string {
  return value.replace(/[\\ \t\n\r\v\f]/g, (c) => `\\${c}`);
}

/** The server settings of a Config's `options` as `-c key=value` words, escaped for the start-up `options` string. */
export function settingWords(options: Readonly<Record<string, string>>): string[] {
  const words: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (CONNECTION_KEYWORDS.has(key)) continue;
    words.push(`-c ${key}=${escapeStartupValue(value)}`);
  }
  return words;
}
