/**
 * Indexes (`db.schema`): create (names generated deterministically within 63 bytes), drop, list.
 * @module
 */
import type { Executor } from "./registry.js";

export const indexFeatures = {};
