/**
 * Introspection (`db.schema`, pycopg 0.10): primary key, foreign keys, sequences, views, and `describe` (all of it in one call).
 * @module
 */
import type { Executor } from "./registry.js";

export const introspectionFeatures = {};
