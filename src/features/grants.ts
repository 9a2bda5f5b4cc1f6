/**
 * Grants (`db.admin`): privileges on tables, sequences, functions, schemas, databases…, granted, revoked and listed.
 * @module
 */
import type { Executor } from "./registry.js";

export const grantFeatures = {};
