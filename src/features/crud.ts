/**
 * CRUD helpers (pycopg 0.10), flat on every executor: upsert, updateWhere, deleteWhere, exists, count, paginate.
 * @module
 */
import type { Executor } from "./registry.js";

export const crudFeatures = {};
