/**
 * stream(): rows over a server-side cursor. (Stub: issue 15's streaming helper fills it.)
 * @module
 */
import type { Mode } from "../core/api.js";
import type { Feature } from "./registry.js";

/** The streaming methods' types in mode `M`. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export interface StreamApi<M extends Mode> {}

export const streamFeatures = {} satisfies Record<string, Feature>;
