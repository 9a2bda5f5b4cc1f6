/**
 * Checking the trailing options object of feature methods: a clear {@link ParameterError} for an unknown key or
 * a value of the wrong type, on both the async and the sync side (the same check runs in both).
 * @module
 */
import { ParameterError } from "../errors.js";

/** The kinds an option value may have: `array` is an array, `object` a plain object, `date` a `Date`, `signal` an `AbortSignal`. */
type BaseKind =
  | "string"
  | "boolean"
  | "number"
  | "function"
  | "array"
  | "object"
  | "string|array"
  | "date|string"
  | "signal"
  | "boolean|number|object";
/** An option's kind; a trailing `?` also allows `null`. */
export type OptionKind = BaseKind | `${BaseKind}?`;

function hasKind(value: unknown, kind: BaseKind): boolean {
  switch (kind) {
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
    case "string|array":
      return typeof value === "string" || Array.isArray(value);
    case "date|string":
      return typeof value === "string" || value instanceof Date;
    case "signal":
      return value instanceof AbortSignal;
    case "boolean|number|object":
      return typeof value === "boolean" || typeof value === "number" || hasKind(value, "object");
    default:
      return typeof value === kind;
  }
}

const KIND_WORDS: Record<BaseKind, string> = {
  string: "a string",
  boolean: "a boolean",
  number: "a number",
  function: "a function",
  array: "an array",
  object: "a plain object",
  "string|array": "a string or an array",
  "date|string": "a Date or a string",
  signal: "an AbortSignal",
  "boolean|number|object": "a boolean, a number or a plain object",
};

/**
 * Returns `options` (or `{}`) after checking it against `shape` (key → expected type; `?` allows `null`).
 * @throws {@link ParameterError} naming the method and the key.
 */
export function checkOptions<T extends object>(method: string, options: T | null | undefined, shape: Record<string, OptionKind>): Partial<T> {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options) || Object.getPrototypeOf(options) !== Object.prototype) {
    throw new ParameterError(`${method}(): the options must be a plain object, got ${describeType(options)}`);
  }
  for (const [key, value] of Object.entries(options)) {
    const kind = shape[key];
    if (kind === undefined) {
      throw new ParameterError(`${method}(): unknown option ${JSON.stringify(key)} (known: ${Object.keys(shape).join(", ") || "none"})`);
    }
    if (value === undefined || (value === null && kind.endsWith("?"))) continue;
    const base = kind.replace("?", "") as BaseKind;
    if (!hasKind(value, base)) throw new ParameterError(`${method}(): option ${key} must be ${KIND_WORDS[base]}, got ${describeType(value)}`);
  }
  return options;
}

/** What a value is, for messages that must not show it: `null`, `an array`, its class name, or its type. */
export function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return (v as { constructor?: { name?: string } }).constructor?.name ?? "an object";
  return typeof v;
}
