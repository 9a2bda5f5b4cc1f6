/**
 * Every error tscopg throws, and the one place that turns a driver or server error into one of them.
 *
 * All classes extend {@link TscopgError}. Server errors become {@link DatabaseError} (or a subclass chosen by
 * SQLSTATE) and keep the server's message and fields exactly as sent. Messages never contain a password: the few
 * messages that could (a connection URL that failed to parse, an error while connecting) are scrubbed with the
 * passwords of the configuration at hand ({@link redactSecrets}); nothing is kept process-wide.
 * @module
 */

import { ConfigurationError, ConnectionError, DatabaseError, DatabaseExists, ExtensionNotAvailable, InvalidIdentifier, MigrationError, ParameterError, PoolTimeout, TscopgError, type DatabaseErrorFields } from "./errors/classes.js";
import { sqlstateClass, sqlstateClasses } from "./errors/sqlstate.js";

export * from "./errors/classes.js";
export * from "./errors/sqlstate.js";

/** Constructors by name, so errors can cross a worker boundary and come back as the same class. */
export const errorClasses = {
  TscopgError,
  ConnectionError,
  ConfigurationError,
  ExtensionNotAvailable,
  InvalidIdentifier,
  MigrationError,
  ParameterError,
  DatabaseExists,
  DatabaseError,
  PoolTimeout,
  ...sqlstateClasses,
} as const;

const FIELD_NAMES = [
  "code",
  "severity",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "routine",
] as const satisfies readonly (keyof DatabaseErrorFields)[];

/**
 * Replaces each of `secrets` (and its percent-encoded form) in `text` with `***`. Use it only on text where a
 * password can appear (a connection string, an error raised while connecting), with the passwords of the
 * configuration involved; never on what the server sent about a statement. Secrets shorter than 4 characters are
 * left alone (they would mangle the rest of the message).
 */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s === undefined || s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) {
      if (out.includes(form)) out = out.split(form).join("***");
    }
  }
  return out;
}

/** SQLSTATEs (or classes) that mean "the connection failed", so retrying on a new connection may help. */
export function isConnectionLevelCode(code: string | undefined): boolean {
  if (!code) return false;
  return code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03";
}

/** Socket errors meaning "the server cannot be reached right now": a new attempt may succeed. */
export const UNREACHABLE_ERRNOS: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ENOENT",
]);

/** node-postgres's own (fixed) messages when the server closed the socket (pg 8, lib/client.js). */
export const DRIVER_CONNECTION_LOST: ReadonlySet<string> = new Set(["Connection terminated", "Connection terminated unexpectedly"]);
/** node-postgres's (fixed) message when `connectionTimeoutMillis` runs out (pg 8, lib/client.js `_connect`). */
export const DRIVER_CONNECT_TIMEOUT = "timeout expired";
/** node-postgres's (fixed) messages for a statement on a client that is gone. */
const DRIVER_NOT_QUERYABLE = new Set([
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
]);

/**
 * Whether a driver message (with no SQLSTATE) says the connection failed or is gone, compared whole: text that
 * merely contains such words (a value's message, a user's identifier) never makes a {@link ConnectionError}.
 */
function isDriverConnectionMessage(message: string): boolean {
  return DRIVER_CONNECTION_LOST.has(message) || DRIVER_NOT_QUERYABLE.has(message) || message === DRIVER_CONNECT_TIMEOUT;
}

interface DriverError {
  message?: string;
  code?: string;
  errno?: number;
  [k: string]: unknown;
}

/**
 * Converts anything thrown by the driver into a tscopg error.
 *
 * Server errors (with a 5-character SQLSTATE) become {@link DatabaseError} or its subclass; socket errors
 * and connection-level SQLSTATEs become {@link ConnectionError}; tscopg errors pass through untouched. The
 * message and every field are kept exactly as the driver or server gave them.
 */
export function toTscopgError(err: unknown): TscopgError {
  if (err instanceof TscopgError) return err;
  const e = (err ?? {}) as DriverError;
  const message = String(e.message ?? err);
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    const fields: DatabaseErrorFields = {};
    for (const f of FIELD_NAMES) {
      const v = e[f];
      if (v === undefined || v === null) continue;
      if (f === "position" || f === "internalPosition") (fields as Record<string, unknown>)[f] = Number(v);
      else (fields as Record<string, unknown>)[f] = String(v);
    }
    // A class-08 error the server reports with severity ERROR (e.g. 08P01 for a malformed Bind message) failed
    // one statement; the session goes on. FATAL/PANIC (or a localized severity) means the session is gone.
    if ((isConnectionLevelCode(code) || code.startsWith("28")) && e.severity !== "ERROR") {
      return new ConnectionError(message, { cause: err, code });
    }
    const Cls = sqlstateClass(code);
    return new Cls(message, fields, { cause: err });
  }
  if (code && (UNREACHABLE_ERRNOS.has(code) || code === "ETIMEDOUT")) return new ConnectionError(message, { cause: err, code: undefined });
  if (code === undefined && typeof e.message === "string" && isDriverConnectionMessage(e.message)) {
    return new ConnectionError(message, { cause: err });
  }
  return new TscopgError(message, { cause: err });
}

/**
 * Makes an error raised by a statement point at the caller: its stack is re-captured in the caller's async
 * context (so it shows the `at async …` frames of the code that awaited the query method, not the driver's
 * socket callback), and `query` is set to the statement text. Call it from an `async` function that awaited
 * the failing operation, passing that function as `here` (its own frame is left out).
 */
export function locateError(err: unknown, sql: string, here: Function): unknown {
  if (!(err instanceof TscopgError)) return err;
  if (err.query === undefined && typeof sql === "string") err.query = sql;
  Error.captureStackTrace(err, here);
  return err;
}

/** A plain, cloneable description of an error, used to carry errors across threads. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string | undefined;
  fields: Record<string, unknown>;
}

/** Turns an error into a {@link SerializedError} (for the synchronous facade's worker). */
export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new TscopgError(String(err));
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === "cause" || typeof v === "function") continue;
    fields[k] = v;
  }
  return { name: e.name, message: e.message, stack: e.stack, fields };
}

/** Rebuilds an error serialized by {@link serializeError} as the same class with the same fields. */
export function deserializeError(s: SerializedError): Error {
  const Cls = (errorClasses as Record<string, new (...a: never[]) => Error>)[s.name];
  let err: Error;
  if (Cls) {
    err = Object.create(Cls.prototype) as Error;
    Object.defineProperty(err, "message", { value: s.message, writable: true, configurable: true });
  } else {
    const Builtin = (globalThis as Record<string, unknown>)[s.name];
    const isErrorClass = typeof Builtin === "function" && (Builtin === Error || Builtin.prototype instanceof Error);
    err = isErrorClass ? new (Builtin as ErrorConstructor)(s.message) : new Error(s.message);
  }
  Object.assign(err, s.fields);
  Object.defineProperty(err, "name", { value: s.name, writable: true, configurable: true });
  const here = new Error().stack?.split("\n").slice(2).join("\n") ?? "";
  Object.defineProperty(err, "stack", {
    value: `${s.name}: ${s.message}\n${here}\n    --- in the tscopg worker ---\n${(s.stack ?? "").split("\n").slice(1).join("\n")}`,
    writable: true,
    configurable: true,
  });
  return err;
}
