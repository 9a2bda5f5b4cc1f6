/**
 * LISTEN/NOTIFY: listen (async only), notifies (the synchronous pull form), notify. (Stub: issue 15's
 * LISTEN/NOTIFY helper fills it.)
 * @module
 */
import type { Mode } from "../core/api.js";
import type { Feature } from "./registry.js";

/** The LISTEN/NOTIFY methods' types in mode `M`. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export interface NotifyApi<M extends Mode> {}

export const notifyFeatures = {} satisfies Record<string, Feature>;
