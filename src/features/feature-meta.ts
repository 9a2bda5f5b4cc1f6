/**
 * Metadata a feature function may carry (its sync transport, whether it is async only). A module of its own, so
 * that feature modules, which the registry imports, can call {@link defineFeature} while the registry loads.
 * @module
 */
import type { Feature } from "./registry.js";

/** Metadata a feature may carry. */
export interface FeatureMeta {
  /** How its answer crosses to the synchronous facade (see `sync/surface.ts`); default `value`. */
  transport?: string | undefined;
  /**
   * Async only: the synchronous facade leaves it out (e.g. `listen`, whose notifications arrive at random times,
   * which a blocking API cannot be called back with). Its module's `XxxApi<"sync">` must omit it too (see
   * `AsyncOnly` in the registry).
   */
  asyncOnly?: boolean | undefined;
}

const metas = new WeakMap<Feature, FeatureMeta>();

/** Attaches metadata to a feature function (returns it unchanged, typed). */
export function defineFeature<F extends Feature>(fn: F, meta: FeatureMeta): F {
  metas.set(fn, meta);
  return fn;
}

/** The metadata attached to `fn`, if any. */
export function metaOf(fn: Feature): FeatureMeta | undefined {
  return metas.get(fn);
}
