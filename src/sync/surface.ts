/**
 * The synchronous surface of an async class: which methods, getters, namespaces and statics its twin has, and
 * how each method's answer crosses the worker boundary (its transport). `scripts/gen-sync-surface.ts` writes the
 * whole surface to `sync-surface.generated.md` (committed); a test fails when that file is stale.
 * @module
 */
import { asyncOnlyFeatures, featureNamespaces, featureTransports } from "../features/registry.js";

/**
 * How a method's answer crosses: `value` (copied), `scoped` (a worker object, or, given a callback as its last or
 * first argument, the callback form, run on the main thread), or a registered transport's name (e.g. `rows`).
 * A function argument of any method is a callback the worker calls back; a generator argument is pulled in chunks.
 */
export type TransportName = "value" | "scoped" | (string & {});

/** Transports of the core's methods (features declare theirs in the registry); the rest are `value`. */
const coreTransports: Record<string, TransportName> = {
  transaction: "scoped",
  connect: "scoped",
  cursor: "scoped",
};

/** Transports declared for the methods of one class (and of its subclasses that do not override them). */
const classTransports: { name: string; transport: TransportName; on: { readonly prototype: object } }[] = [];

/**
 * Declares the transport of core method `name` (transport modules call it for the methods they carry). With `on`,
 * only for that class's own method: a class that does not extend `on`, or overrides the method, keeps `value`
 * (e.g. `rows` is for {@link Queryable}'s `execute`, not for a cursor's `execute`).
 */
export function declareTransport(name: string, transport: TransportName, on?: { readonly prototype: object }): void {
  if (on === undefined) coreTransports[name] = transport;
  else classTransports.push({ name, transport, on });
}

/** The transport declared for `proto`'s method `name` through its class, if any. */
function classTransport(proto: object, name: string): TransportName | undefined {
  const own = (proto as Record<string, unknown>)[name];
  return classTransports.find((d) => d.name === name && own === (d.on.prototype as Record<string, unknown>)[name])?.transport;
}

/** A class's sync surface. */
export interface Surface {
  methods: Map<string, TransportName>;
  getters: Set<string>;
  statics(cls: object): string[];
}

/** Members every class has or that stay private to the worker. */
function hidden(name: string): boolean {
  return name === "constructor" || name === "toString" || (name.startsWith("_") && name !== "_finish");
}

/** The surface of the class whose prototype is `proto`. */
export function surfaceOf(proto: object): Surface {
  const methods = new Map<string, TransportName>();
  const getters = new Set<string>();
  const namespaces = new Set(featureNamespaces.keys());
  for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (hidden(name) || methods.has(name) || getters.has(name) || namespaces.has(name) || asyncOnlyFeatures.has(name)) continue;
      const d = Object.getOwnPropertyDescriptor(p, name)!;
      if (d.get) getters.add(name);
      else if (typeof d.value === "function") methods.set(name, featureTransports.get(name) ?? classTransport(proto, name) ?? coreTransports[name] ?? "value");
    }
  }
  return { methods, getters, statics: staticsOf };
}

/** Static methods of a class, inherited ones included (a subclass has its parent's factories). */
function staticsOf(cls: object): string[] {
  const out: string[] = [];
  for (let c: object | null = cls; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    for (const s of Object.getOwnPropertyNames(c)) {
      if (["length", "name", "prototype"].includes(s) || out.includes(s)) continue;
      if (typeof (c as Record<string, unknown>)[s] === "function") out.push(s);
    }
  }
  return out;
}

/** The feature namespaces present on the class whose prototype is `proto`, with their methods. */
export function namespacesOf(proto: object): [string, readonly string[]][] {
  const out: [string, readonly string[]][] = [];
  for (const [ns, methods] of featureNamespaces) {
    if (ns in proto) out.push([ns, methods.filter((m) => typeof (proto as Record<string, unknown>)[m] === "function")]);
  }
  return out;
}
