/**
 * Maintenance (`db.maint`): VACUUM (on a session of its own), ANALYZE, EXPLAIN.
 * @module
 */
import type { Executor } from "./registry.js";

export const maintenanceFeatures = {};
