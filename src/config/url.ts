/**
 * Connection strings: {@link parseUrl} reads a `postgresql://` URL into the settings `new Config(...)` takes
 * (the work of `Config.fromUrl`), {@link formatDsn} and {@link formatUrl} write a Config back as a libpq conninfo
 * string or a URL (`Config.dsn`, `Config.url`). The password is passed in by the Config, which keeps it private.
 * @module
 */
import type { Config, ConfigInit, SslMode } from "../config.js";
import { combineHosts, CONNECTION_KEYWORDS, fail, isSslMode, settingWords, SSL_MODES, toNonNegativeInt } from "./checks.js";

/** Quotes a conninfo value the way libpq reads it back. */
function quoteConninfo(value: string): string {
  if (value !== "" && !/[\s'\\]/.test(value)) return value;
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** Host as written in a URL authority or a message: IPv6 addresses in brackets. */
export function displayHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** A port as written in a URL: 1 to 5 digits, 1..65535. */
function isPortText(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/**
 * One `host:port` of an authority without `@`, for a message: a "port" that is not a valid port may be a password
 * written without the host (`postgresql://user:secret/db`), so it is shown as `***`; an entry that does not read
 * as `host[:port]` is not shown at all.
 */
function maskHostPort(entry: string): string {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(.*))?$/s.exec(entry);
  if (!m) return "***";
  const [, host, port] = m;
  if (port === undefined) return host!;
  return `${host}:${isPortText(port) ? port : "***"}`;
}

/**
 * The URL for an error message, built from its structure alone: the userinfo (everything up to the last `@`), a
 * "port" that could be a password (see {@link maskHostPort}) and everything from a `password=` or `sslpassword=`
 * parameter on (an unencoded `&` or `#` may be part of it) are replaced by `***`; a text that does not start like
 * a URL is not shown.
 */
function sanitizeUrl(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(.*)$/s.exec(url);
  if (!m) return "(not shown)";
  let rest = m[2]!;
  const lastAt = rest.lastIndexOf("@");
  if (lastAt >= 0) {
    rest = `***@${rest.slice(lastAt + 1)}`;
  } else {
    const end = rest.search(/[/?#]/);
    const authority = end < 0 ? rest : rest.slice(0, end);
    rest = authority.split(",").map(maskHostPort).join(",") + (end < 0 ? "" : rest.slice(end));
  }
  return m[1] + rest.replace(/([?&](?:ssl)?password=).*$/is, "$1***");
}

/**
 * The settings of a connection URL, for `new Config(...)`; see `Config.fromUrl` for the syntax.
 * @throws ConfigurationError for another scheme, a malformed URL or bad percent-encoding. The message never
 * contains the password.
 */
export function parseUrl(url: string): ConfigInit {
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
  let afterPassword = false; // an unencoded "&" in a password makes its tail look like a parameter
  for (const segment of queryPart.split("&")) {
    if (segment === "") continue;
    const eq = segment.indexOf("=");
    if (eq < 0) {
      const name = afterPassword ? "" : ` ${JSON.stringify(decode(segment, "parameters"))}`;
      fail(`URL parameter${name} has no value: ${safe}`);
    }
    const key = decode(segment.slice(0, eq), "parameters");
    if (key === "password" || key === "sslpassword") afterPassword = true;
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
  const queryTimeout = take("query_timeout");

  const database = queryDb ?? decode(pathPart.startsWith("/") ? pathPart.slice(1) : pathPart, "database name");
  return {
    hosts,
    database,
    user: queryUser ?? user,
    password: queryPassword ?? password,
    sslmode: (sslmode as SslMode | undefined) ?? null,
    applicationName: applicationName ?? null,
    connectTimeout: connectTimeout === undefined ? null : toNonNegativeInt(connectTimeout, "connect_timeout"),
    statementTimeout: statementTimeout === undefined ? null : toNonNegativeInt(statementTimeout, "statement_timeout"),
    queryTimeout: queryTimeout === undefined ? null : toNonNegativeInt(queryTimeout, "query_timeout"),
    options: Object.fromEntries(params),
  };
}

/** `config.dsn`: a libpq keyword/value string, `password` given by the Config (omitted when empty). */
export function formatDsn(config: Config, password: string): string {
  const parts: string[] = [
    `host=${quoteConninfo(config.hosts.map((h) => h.host).join(","))}`,
    `port=${config.hosts.map((h) => String(h.port)).join(",")}`,
    `dbname=${quoteConninfo(config.database)}`,
    `user=${quoteConninfo(config.user)}`,
  ];
  if (password !== "") parts.push(`password=${quoteConninfo(password)}`);
  if (config.sslmode !== null) parts.push(`sslmode=${config.sslmode}`);
  if (config.applicationName !== null) parts.push(`application_name=${quoteConninfo(config.applicationName)}`);
  if (config.connectTimeout !== null) parts.push(`connect_timeout=${config.connectTimeout}`);
  if (config.targetSessionAttrs !== "any") parts.push(`target_session_attrs=${config.targetSessionAttrs}`);
  const words: string[] = [];
  if (config.options.options) words.push(config.options.options);
  if (config.statementTimeout !== null) words.push(`-c statement_timeout=${config.statementTimeout}`);
  words.push(...settingWords(config.options));
  if (words.length > 0) parts.push(`options=${quoteConninfo(words.join(" "))}`);
  for (const [key, value] of Object.entries(config.options)) {
    if (key !== "options" && CONNECTION_KEYWORDS.has(key)) parts.push(`${key}=${quoteConninfo(value)}`);
  }
  return parts.join(" ");
}

/** `config.url`: a percent-encoded `postgresql://` URL, `password` given by the Config (omitted when empty). */
export function formatUrl(config: Config, password: string): string {
  const enc = encodeURIComponent;
  const query: string[] = [];
  let authorityHosts = "";
  if (config.hosts.some((h) => h.host.startsWith("/"))) {
    const keepPathChars = (s: string): string => enc(s).replace(/%2F/gi, "/").replace(/%2C/gi, ",");
    query.push(`host=${keepPathChars(config.hosts.map((h) => h.host).join(","))}`);
    query.push(`port=${keepPathChars(config.hosts.map((h) => String(h.port)).join(","))}`);
  } else {
    authorityHosts = config.hosts
      .map((h) => `${h.host.includes(":") ? `[${h.host.replace(/%/g, "%25")}]` : enc(h.host)}:${h.port}`)
      .join(",");
  }
  if (config.sslmode !== null) query.push(`sslmode=${config.sslmode}`);
  if (config.applicationName !== null) query.push(`application_name=${enc(config.applicationName)}`);
  if (config.connectTimeout !== null) query.push(`connect_timeout=${config.connectTimeout}`);
  if (config.statementTimeout !== null) query.push(`statement_timeout=${config.statementTimeout}`);
  if (config.queryTimeout !== null) query.push(`query_timeout=${config.queryTimeout}`);
  if (config.targetSessionAttrs !== "any") query.push(`target_session_attrs=${config.targetSessionAttrs}`);
  if (config.pooler !== null) query.push(`pooler=${config.pooler}`);
  for (const [key, value] of Object.entries(config.options)) query.push(`${enc(key)}=${enc(value)}`);
  const userinfo = `${enc(config.user)}${password !== "" ? `:${enc(password)}` : ""}@`;
  return `postgresql://${userinfo}${authorityHosts}/${enc(config.database)}${query.length > 0 ? `?${query.join("&")}` : ""}`;
}
