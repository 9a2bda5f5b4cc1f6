/**
 * CRUD helpers (pycopg 0.10), flat on every executor: upsert, updateWhere, deleteWhere, exists, count, paginate.
 * @module
 */
import type { Mode } from "../core/api.js";
import type { Executor } from "./registry.js";

/**
 * The CRUD helpers' method types in mode `M`, written out so that their row type parameters stay generic
 * (`db.paginate<User>(…)`); the registry uses these instead of the types it derives from the functions.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars, @typescript-eslint/no-empty-object-type
export interface CrudApi<M extends Mode> {}

export const crudFeatures = {} satisfies Record<string, (db: Executor, ...args: never[]) => Promise<unknown>>;
