/**
 * Checking the trailing options object of feature methods: a clear {@link ParameterError} for an unknown key or
 * a value of the wrong type, on both the async and the sync side (the same check runs in both).
 * @module
 */
import { ParameterError } from "../errors.js";

export type OptionKind = "string" | "boolean" | "number" | "function" | "string?" | "boolean?" | "number?" | "function?";

/**
 * Returns `options` (or `{}`) after checking it against `shape` (key → expected type; `?` allows `null`).
 * @throws {@link ParameterError} naming the method and the key.
 */
export function checkOptions<T extends object>(method: string, options: T | null | undefined, shape: Record<string, OptionKind>): Partial<T> {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options) || Object.getPrototypeOf(options) !== Object.prototype) {
    throw new ParameterError(`${method}(): the options must be a plain object, got ${describe(options)}`);
  }
  for (const [key, value] of Object.entries(options)) {
    const kind = shape[key];
    if (kind === undefined) {
      throw new ParameterError(`${method}(): unknown option ${JSON.stringify(key)} (known: ${Object.keys(shape).join(", ") || "none"})`);
    }
    if (value === undefined || (value === null && kind.endsWith("?"))) continue;
    if (typeof value !== kind.replace("?", "")) {
      throw new ParameterError(`${method}(): option ${key} must be a ${kind.replace("?", "")}, got ${describe(value)}`);
    }
  }
  return options;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as { constructor?: { name?: string } }).constructor?.name ?? "an object";
  return typeof v;
}
