/**
 * Databases (`db.schema`): create, drop, check, list. Creating and dropping run on a session of their own (PostgreSQL refuses them in a transaction block).
 * @module
 */
import type { Executor } from "./registry.js";

export const databaseFeatures = {};
