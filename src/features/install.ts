/**
 * Installs the feature registry on the executor classes: each feature becomes a flat method of `Queryable` (so
 * the database, its connections and transactions, and pools, which extend the database, all have it), and each
 * namespace a getter returning a per-object cached namespace object whose methods call the flat ones. Imported
 * by the package entry and by the synchronous facade's class table, so the main thread and the worker install
 * the same features.
 * @module
 */
import { Queryable } from "../core/queryable.js";
import { defineNamespace } from "./namespace.js";
import { featureFunctions, featureNamespaces, type FeatureApi } from "./registry.js";

declare module "../core/queryable.js" {
  // Every executor has every feature, flat and by namespace.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Queryable extends FeatureApi<"async"> {}
}

function install(proto: object): void {
  if (Object.prototype.hasOwnProperty.call(proto, "__tscopgFeatures")) return;
  Object.defineProperty(proto, "__tscopgFeatures", { value: true });
  for (const [name, fn] of featureFunctions) {
    if (name in proto) throw new TypeError(`feature ${name} would replace an existing method`);
    const method = {
      [name](this: Queryable, ...args: unknown[]) {
        return fn(this, ...args);
      },
    }[name]!;
    Object.defineProperty(proto, name, { configurable: true, writable: true, value: method });
  }
  for (const [ns, names] of featureNamespaces) defineNamespace(proto, ns, names);
}

install(Queryable.prototype);

export type { FeatureApi, NamespaceApi, NamespaceName } from "./registry.js";
