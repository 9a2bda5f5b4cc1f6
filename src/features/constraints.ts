/**
 * Constraints (`db.schema`): primary keys, foreign keys, unique constraints, and their listing.
 * @module
 */
import type { Executor } from "./registry.js";

export const constraintFeatures = {};
