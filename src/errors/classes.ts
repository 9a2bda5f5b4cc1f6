/**
 * The hand-written error classes: the base {@link TscopgError}, the reference's classes, and
 * {@link DatabaseError}, whose per-SQLSTATE subclasses are generated into `sqlstate.ts`.
 * @module
 */

/** Fields a server error carries (see PostgreSQL's ErrorResponse message). */
export interface DatabaseErrorFields {
  /** Five-character SQLSTATE, e.g. `42P01`. */
  code?: string | undefined;
  severity?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
  /** 1-based character position of the error in the statement text, when the server reports one. */
  position?: number | undefined;
  internalPosition?: number | undefined;
  internalQuery?: string | undefined;
  where?: string | undefined;
  schema?: string | undefined;
  table?: string | undefined;
  column?: string | undefined;
  dataType?: string | undefined;
  constraint?: string | undefined;
  routine?: string | undefined;
}

/** Base class of every error tscopg raises. */
export class TscopgError extends Error {
  /**
   * The text of the statement that failed, exactly as the caller wrote it (set on errors raised by the query
   * methods). Parameter values are never included, so it holds a password only if the SQL text itself does:
   * pass secrets as parameters.
   */
  declare query?: string;
  /**
   * On the error a retrying transaction (`transaction(fn, { retry })`) ended with: how many times the callback
   * ran, the last included. Unset elsewhere.
   */
  declare attempts?: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server could not be reached, refused the connection, or the connection was lost. */
export class ConnectionError extends TscopgError {
  /** SQLSTATE when the server sent one (class 08, 28 or 57P0x), else undefined. */
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: string | undefined }) {
    super(message, options);
    this.code = options?.code;
  }
}

/** The configuration (URL, environment, options) is invalid. */
export class ConfigurationError extends TscopgError {}

/** A required PostgreSQL extension (PostGIS, TimescaleDB, …) is not installed or not available. */
export class ExtensionNotAvailable extends TscopgError {}

/** An identifier (table, schema, column, role, …) was rejected by the validator. */
export class InvalidIdentifier extends TscopgError {
  /** The value that was rejected, exactly as given. */
  readonly value: unknown;
  constructor(message: string, value: unknown) {
    super(message);
    this.value = value;
  }
}

/** Query parameters do not fit the statement (a named `:param` is missing, a wrong container was given). */
export class ParameterError extends TscopgError {}

/** `create()` was asked to create a database that already exists (with `ifNotExists: false`). */
export class DatabaseExists extends TscopgError {}

/** A migration could not be listed, applied or rolled back. */
export class MigrationError extends TscopgError {}

/** The server rejected a statement. Carries SQLSTATE and every field the server sent. */
export class DatabaseError extends TscopgError implements DatabaseErrorFields {
  /** The SQLSTATE a generated subclass stands for (`UniqueViolation.sqlstate` is `"23505"`); none here. */
  static readonly sqlstate: string | undefined = undefined;

  code: string | undefined;
  severity: string | undefined;
  detail: string | undefined;
  hint: string | undefined;
  position: number | undefined;
  internalPosition: number | undefined;
  internalQuery: string | undefined;
  where: string | undefined;
  schema: string | undefined;
  table: string | undefined;
  column: string | undefined;
  dataType: string | undefined;
  constraint: string | undefined;
  routine: string | undefined;

  constructor(message: string, fields: DatabaseErrorFields = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = fields.code;
    this.severity = fields.severity;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.position = fields.position;
    this.internalPosition = fields.internalPosition;
    this.internalQuery = fields.internalQuery;
    this.where = fields.where;
    this.schema = fields.schema;
    this.table = fields.table;
    this.column = fields.column;
    this.dataType = fields.dataType;
    this.constraint = fields.constraint;
    this.routine = fields.routine;
  }
}

/**
 * No connection became free in time: every connection the handle may open (`maxConnections`) was in use for
 * the whole `acquireTimeout`. The message says how many were in use and how many requests were waiting.
 */
export class PoolTimeout extends ConnectionError {}
