/**
 * tscopg: high-level PostgreSQL for TypeScript.
 * @module
 */
export { Config } from "./config.js";
export type { ConfigInit, SslMode, HostPort, FromEnvOptions } from "./config.js";
export {
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
} from "./errors/classes.js";
export type { DatabaseErrorFields } from "./errors/classes.js";
/** One class per SQLSTATE (`UniqueViolation`, `DuplicateObject`, `InsufficientPrivilege`, `TableNotFound`, …). */
export * from "./errors/sqlstate.js";
export {
  validateIdentifier,
  validateIdentifiers,
  quoteIdentifier,
  quoteIdentifiers,
  quoteQualifiedName,
  qualifiedName,
  splitQualifiedName,
  quoteLiteral,
} from "./sql/identifiers.js";
export type { IdentifierKind } from "./sql/identifiers.js";
export { prepareQuery } from "./sql/placeholders.js";
export type { QueryParams } from "./sql/placeholders.js";
export { AsyncDatabase } from "./core/async-database.js";
export type { DatabaseOptions, CreateDatabaseOptions, CreateFromEnvOptions } from "./core/async-database.js";
export { AsyncConnection } from "./core/async-connection.js";
export { AsyncTransaction } from "./core/async-transaction.js";
export { AsyncCursor } from "./core/async-cursor.js";
export { Queryable } from "./core/queryable.js";
// The features, installed on Queryable (this module also carries their type augmentation into the declarations).
export type { FeatureApi, NamespaceApi, NamespaceName } from "./features/install.js";
export type { Row, QueryResult, ExecuteOptions, ConnectOptions, Mode, QueryApi, DatabaseApi, ConnectionApi, TransactionApi, CursorApi } from "./core/api.js";
export { Database, Connection, Transaction, Cursor } from "./sync/database.js";
export type { DatabaseConstructor, Syncify, SyncMembers } from "./sync/types.js";
