/**
 * tscopg: high-level PostgreSQL for TypeScript.
 * @module
 */
export { Config } from "./config.js";
export type { ConfigInit, SslMode, HostPort, FromEnvOptions, TargetSessionAttrs, Pooler, PasswordFunction } from "./config.js";
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
export { AsyncPooledDatabase } from "./pool/async-pooled-database.js";
export type { PoolOptions } from "./pool/async-pooled-database.js";
export type { DatabaseOptions, HandleOptions, CreateDatabaseOptions, CreateFromEnvOptions } from "./core/async-database.js";
export type { TransactionOptions, BeginOptions, IsolationLevel } from "./core/tx-options.js";
export { RETRY_DEFAULTS } from "./core/tx-retry.js";
export type { RetryOption, RetryOptions, RetryPolicy } from "./core/tx-retry.js";
export type { QueryEvent, QueryHook, HookOptions } from "./core/query-hooks.js";
export { AsyncConnection } from "./core/async-connection.js";
export { AsyncTransaction } from "./core/async-transaction.js";
export { AsyncCursor } from "./core/async-cursor.js";
export { Queryable } from "./core/queryable.js";
// The features, installed on Queryable (this module also carries their type augmentation into the declarations).
export type { FeatureApi, NamespaceApi, NamespaceName } from "./features/install.js";
// The feature methods' option and answer types.
export type { InSchema } from "./features/target.js";
export type { CreateDatabaseFeatureOptions, DropDatabaseOptions } from "./features/databases.js";
export type { ExtensionInfo, CreateExtensionOptions, DropExtensionOptions } from "./features/extensions.js";
export type { CreateSchemaOptions, DropSchemaOptions } from "./features/schemas.js";
export type { ColumnInfo, RowCountOptions, DropTableOptions, TruncateTableOptions } from "./features/tables.js";
export type { CreateIndexOptions, DropIndexOptions, IndexInfo, IndexMethod } from "./features/indexes.js";
export type { ConstraintOptions, ConstraintInfo, ForeignKeyOptions, ForeignKeyAction } from "./features/constraints.js";
export type { PrimaryKeyInfo, ForeignKeyInfo, ViewsOptions, TableDescription } from "./features/introspection.js";
export type { RoleAttributes, CreateRoleOptions, AlterRoleOptions, RoleInfo } from "./features/roles.js";
export type { Listener, ListenOptions, NotifiesOptions, Notification, NotifyPayload, ReconnectEvent } from "./features/notify.js";
export type { GrantOptions, RevokeOptions, RoleGrant, ObjectType, Privileges } from "./features/grants.js";
export type { TableSize, TableSizeOptions, TableSizesOptions } from "./features/sizes.js";
export type { VacuumOptions, AnalyzeOptions, ExplainOptions, ExplainFormat, ExplainNode, ExplainPlan, ExplainResult } from "./features/maintenance.js";
export type { CrudApi, CrudOptions, UpsertOptions, PaginateOptions, Where } from "./features/crud.js";
export type { CopyApi, CopyOptions, CopyInsertOptions, CopyProgress, CopyRows, CopySource, CopyChunk } from "./features/copy.js";
export type { Row, QueryResult, ExecuteOptions, ConnectOptions, Mode, QueryApi, DatabaseApi, ConnectionApi, TransactionApi, CursorApi } from "./core/api.js";
export { Database, PooledDatabase, Connection, Transaction, Cursor } from "./sync/database.js";
export type { DatabaseConstructor, PooledDatabaseConstructor, Syncify, SyncMembers } from "./sync/types.js";
