/**
 * Extensions (`db.schema`): list, check, create, drop.
 * @module
 */
import type { Executor } from "./registry.js";

export const extensionFeatures = {};
