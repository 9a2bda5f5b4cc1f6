/**
 * COPY: copyInsert, copyFrom, copyTo, on the one COPY engine (`src/copy/`). (Stub: issue 15's COPY helper fills it.)
 * @module
 */
import type { Mode } from "../core/api.js";
import type { Feature } from "./registry.js";

/** The COPY methods' types in mode `M`. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export interface CopyApi<M extends Mode> {}

export const copyFeatures = {} satisfies Record<string, Feature>;
