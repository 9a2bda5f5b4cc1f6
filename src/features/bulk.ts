/**
 * Bulk insert and upsert: insertMany, upsertMany, insertBatch. (Stub: issue 15's bulk helper fills it.)
 * @module
 */
import type { Mode } from "../core/api.js";
import type { Feature } from "./registry.js";

/** The bulk helpers' method types in mode `M` (written out so that their row type parameters stay generic). */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export interface BulkApi<M extends Mode> {}

export const bulkFeatures = {} satisfies Record<string, Feature>;
