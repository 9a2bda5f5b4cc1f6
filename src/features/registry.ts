/**
 * The feature registry: every high-level method (schema, admin, maintenance, and later backup, spatial,
 * timescale, ETL, …) is a function over an {@link Executor}, written once in `src/features/*.ts` and listed here
 * by namespace. From this one list come: the flat methods and the cached namespace getters on every executor
 * (database, connection, transaction, and pools, which extend the database), the synchronous facade's methods and
 * namespaces, and the types of all of them.
 * @module
 */
import type { Mode, Out, QueryApi } from "../core/api.js";
import { adminFeatures } from "./admin.js";
import { maintFeatures } from "./maint.js";
import { schemaFeatures } from "./schema.js";

/** What a feature runs on: the statement methods every executor has. */
export type Executor = QueryApi<"async">;

/** A feature: its first parameter is the executor it runs on; the rest are the method's parameters. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Feature = (db: Executor, ...args: any[]) => Promise<unknown>;

/** Metadata a feature may carry. */
export interface FeatureMeta {
  /** How its answer crosses to the synchronous facade (see `sync/surface.ts`); default `value`. */
  transport?: string | undefined;
}

const metas = new WeakMap<Feature, FeatureMeta>();

/** Attaches metadata to a feature function (returns it unchanged, typed). */
export function defineFeature<F extends Feature>(fn: F, meta: FeatureMeta): F {
  metas.set(fn, meta);
  return fn;
}

/** The features, by namespace. Adding a namespace or a feature here is all it takes to have it everywhere. */
export const registry = {
  schema: schemaFeatures,
  admin: adminFeatures,
  maint: maintFeatures,
} as const;

export type Registry = typeof registry;
export type NamespaceName = keyof Registry;

/** A feature as a method of mode `M`: the executor parameter dropped, the answer a Promise or a value. */
export type FeatureMethod<F, M extends Mode> = F extends (db: Executor, ...args: infer A) => Promise<infer R> ? (...args: A) => Out<M, R> : never;

/** The methods of one namespace in mode `M`. */
export type NamespaceApi<NS, M extends Mode> = { readonly [K in keyof NS]: FeatureMethod<NS[K], M> };

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every feature as a flat method, plus one namespace object per namespace: what every executor has, in mode `M`. */
export type FeatureApi<M extends Mode> = UnionToIntersection<{ [N in NamespaceName]: NamespaceApi<Registry[N], M> }[NamespaceName]> & {
  readonly [N in NamespaceName]: NamespaceApi<Registry[N], M>;
};

/** Namespace → its feature names. */
export const featureNamespaces: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries(registry).map(([ns, features]) => [ns, Object.keys(features)]),
);

/** Feature name → its function (flat names are unique across namespaces). */
export const featureFunctions: ReadonlyMap<string, Feature> = (() => {
  const out = new Map<string, Feature>();
  for (const [ns, features] of Object.entries(registry) as [string, Record<string, Feature>][]) {
    for (const [name, fn] of Object.entries(features)) {
      if (out.has(name)) throw new TypeError(`feature ${ns}.${name}: the flat name ${name} is taken by another namespace`);
      if (ns === name) throw new TypeError(`feature ${ns}.${name} is named like a namespace`);
      out.set(name, fn);
    }
  }
  return out;
})();

/** Feature name → its transport, where it is not `value`. */
export const featureTransports: ReadonlyMap<string, string> = new Map(
  [...featureFunctions].flatMap(([name, fn]) => {
    const t = metas.get(fn)?.transport;
    return t === undefined ? [] : [[name, t] as [string, string]];
  }),
);
