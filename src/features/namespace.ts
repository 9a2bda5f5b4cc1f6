/**
 * Namespace getters (`db.schema`, `db.admin`, …): one frozen object per handle and namespace, created on first
 * access, whose methods call the handle's flat methods. Used on the async classes (by the feature installer) and on
 * the generated sync ones alike.
 * @module
 */

const cache = new WeakMap<object, Map<string, object>>();

/** Defines `get ns()` on `proto`, returning the namespace object whose `methods` call the flat ones. */
export function defineNamespace(proto: object, ns: string, methods: readonly string[]): void {
  Object.defineProperty(proto, ns, {
    configurable: true,
    get(this: Record<string, (...a: unknown[]) => unknown>) {
      let mine = cache.get(this);
      if (mine === undefined) cache.set(this, (mine = new Map()));
      let obj = mine.get(ns);
      if (obj === undefined) {
        const target = this;
        obj = Object.freeze(Object.fromEntries(methods.map((m) => [m, (...args: unknown[]) => target[m]!(...args)])));
        mine.set(ns, obj);
      }
      return obj;
    },
  });
}
