/**
 * The feature registry: every high-level method (schema, admin, maintenance, and later backup, spatial,
 * timescale, ETL, …) is a function over an {@link Executor}, written once in `src/features/*.ts` and listed here
 * by namespace. From this one list come: the flat methods and the cached namespace getters on every executor
 * (database, connection, transaction, and pools, which extend the database), the synchronous facade's methods and
 * namespaces, and the types of all of them.
 * @module
 */
import type { Mode, Out, QueryApi } from "../core/api.js";
import type { Queryable } from "../core/queryable.js";
import { constraintFeatures } from "./constraints.js";
import { metaOf } from "./feature-meta.js";
import { bulkFeatures, type BulkApi } from "./bulk.js";
import { copyFeatures, type CopyApi } from "./copy.js";
import { crudFeatures, type CrudApi } from "./crud.js";
import { databaseFeatures } from "./databases.js";
import { extensionFeatures } from "./extensions.js";
import { grantFeatures } from "./grants.js";
import { indexFeatures } from "./indexes.js";
import { introspectionFeatures } from "./introspection.js";
import { maintenanceFeatures } from "./maintenance.js";
import { notifyFeatures, type NotifyApi } from "./notify.js";
import { roleFeatures } from "./roles.js";
import { schemaFeatures } from "./schemas.js";
import { sizeFeatures } from "./sizes.js";
import { streamFeatures, type StreamApi } from "./stream.js";
import { tableFeatures } from "./tables.js";

/**
 * What a feature runs on: the statement methods every executor has, plus the seams for a plain (non-pipelined)
 * session and for a session of its own outside any transaction.
 */
export type Executor = QueryApi<"async"> & Pick<Queryable, "_withPlainSession" | "_withOwnSession" | "_inTransaction" | "_openStandalone">;

/**
 * A feature: its first parameter is the executor it runs on; the rest are the method's parameters. It answers with
 * a Promise; an async-only feature (see {@link FeatureMeta.asyncOnly}) may answer with an async iterable at once.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Feature = (db: Executor, ...args: any[]) => Promise<unknown> | AsyncIterable<unknown>;

export { defineFeature, type FeatureMeta } from "./feature-meta.js";

/** The methods `T` of an async-only feature module in mode `M`: present in async mode, absent in sync mode. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type AsyncOnly<M extends Mode, T> = M extends "async" ? T : {};

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Merges feature modules into one namespace, refusing a name two modules define. */
function group<T extends Record<string, Feature>[]>(...modules: T): UnionToIntersection<T[number]> {
  const out: Record<string, Feature> = {};
  for (const m of modules) {
    for (const [name, fn] of Object.entries(m)) {
      if (name in out) throw new TypeError(`feature ${name} is defined by two modules`);
      out[name] = fn;
    }
  }
  return out as UnionToIntersection<T[number]>;
}

/**
 * The features, by namespace (one module per concern, grouped as pycopg 0.10's accessors). Adding a namespace or a
 * feature here is all it takes to have it everywhere.
 */
export const registry = {
  schema: group(databaseFeatures, extensionFeatures, schemaFeatures, tableFeatures, indexFeatures, constraintFeatures, introspectionFeatures),
  admin: group(roleFeatures, grantFeatures),
  maint: group(sizeFeatures, maintenanceFeatures),
} as const;

/** Features reached flat only, as pycopg 0.10 has its CRUD, bulk, COPY, streaming and pub/sub methods on the database itself. */
export const flatFeatures = group(crudFeatures, bulkFeatures, copyFeatures, streamFeatures, notifyFeatures);

/**
 * The flat features' method types, written out by their modules so that row type parameters stay generic (the
 * registry uses these instead of the types it derives from the functions).
 */
export type FlatApi<M extends Mode> = CrudApi<M> & BulkApi<M> & CopyApi<M> & StreamApi<M> & NotifyApi<M>;

export type Registry = typeof registry;
export type NamespaceName = keyof Registry;

/** A feature as a method of mode `M`: the executor parameter dropped, the answer a Promise or a value. */
export type FeatureMethod<F, M extends Mode> = F extends (db: Executor, ...args: infer A) => Promise<infer R> ? (...args: A) => Out<M, R> : never;

/** The methods of one namespace in mode `M`. */
export type NamespaceApi<NS, M extends Mode> = { readonly [K in keyof NS]: FeatureMethod<NS[K], M> };


/** Every feature as a flat method, plus one namespace object per namespace: what every executor has, in mode `M`. */
export type FeatureApi<M extends Mode> = UnionToIntersection<{ [N in NamespaceName]: NamespaceApi<Registry[N], M> }[NamespaceName]> &
  FlatApi<M> &
  Omit<NamespaceApi<typeof flatFeatures, M>, keyof FlatApi<M>> & {
    readonly [N in NamespaceName]: NamespaceApi<Registry[N], M>;
  };

/** Namespace → its feature names. */
export const featureNamespaces: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries(registry).map(([ns, features]) => [ns, Object.keys(features)]),
);

/** Feature name → its function (flat names are unique across namespaces). */
export const featureFunctions: ReadonlyMap<string, Feature> = (() => {
  const out = new Map<string, Feature>();
  const groups = [...Object.entries(registry), ["(flat)", flatFeatures]] as [string, Record<string, Feature>][];
  for (const [ns, features] of groups) {
    for (const [name, fn] of Object.entries(features)) {
      if (out.has(name)) throw new TypeError(`feature ${ns}.${name}: the flat name ${name} is taken by another namespace`);
      if (ns === name) throw new TypeError(`feature ${ns}.${name} is named like a namespace`);
      out.set(name, fn);
    }
  }
  return out;
})();

/** The names of the async-only features (absent from the synchronous facade). */
export const asyncOnlyFeatures: ReadonlySet<string> = new Set([...featureFunctions].filter(([, fn]) => metaOf(fn)?.asyncOnly === true).map(([name]) => name));

/** Feature name → its transport, where it is not `value`. */
export const featureTransports: ReadonlyMap<string, string> = new Map(
  [...featureFunctions].flatMap(([name, fn]) => {
    const t = metaOf(fn)?.transport;
    return t === undefined ? [] : [[name, t] as [string, string]];
  }),
);
