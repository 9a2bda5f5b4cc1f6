/**
 * Statement parameters on their way from the synchronous facade to its worker. Each parameter value is encoded
 * on the main thread with the async API's own encoder ({@link encodeForWorker}), so what arrives is what the async
 * API would send: structured cloning would otherwise strip a `toPostgres()` object of its method (and send its
 * fields as JSON) and cannot copy functions, symbols or promises at all.
 * @module
 */
import { mapChanged } from "./codecs.js";
import { encodeForWorker, needsNothing } from "../sql/encode.js";
import { checkParamsContainer } from "../sql/placeholders.js";

/** Methods whose parameters argument is a sequence of parameter sets (`executeMany(sql, paramsSeq)`). */
const SEQUENCE_METHODS = new Set(["executeMany"]);

/** Only values that may need encoding are handed to the encoder: strings and numbers go as they are. */
function encodeOne(v: unknown): unknown {
  return needsNothing(v) ? v : encodeForWorker(v);
}


/**
 * One parameter set: an array's elements or a plain object's values are encoded; `null`/`undefined` and
 * primitives go unchanged, for the worker to answer as the async API does; another object (a class instance,
 * a Map) is refused here, as the async API refuses it, since structured cloning would make it a plain object.
 */
export function encodeParamSet(params: unknown): unknown {
  if (Array.isArray(params)) return mapChanged(params, encodeOne);
  if (typeof params !== "object" || params === null) return params;
  checkParamsContainer(params);
  let out: Record<string, unknown> | undefined;
  for (const [key, v] of Object.entries(params)) {
    const enc = encodeOne(v);
    if (enc !== v) (out ??= { ...params })[key] = enc;
  }
  return out ?? params;
}

/**
 * The parameters argument of statement method `method` (the argument after the SQL text), ready to be posted to
 * the worker. An array of `executeMany` parameter sets has each set encoded; any other iterable of sets is pulled
 * in chunks instead (see `args.ts`), and a non-iterable goes as it is, for the worker to refuse as the async API does.
 */
export function paramsForWorker(method: string, params: unknown): unknown {
  if (!SEQUENCE_METHODS.has(method)) return encodeParamSet(params);
  return Array.isArray(params) ? mapChanged(params, encodeParamSet) : params;
}
