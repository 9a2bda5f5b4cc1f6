/**
 * An `AbortSignal` given to the synchronous facade. It cannot be honoured while it is live: the main thread is
 * blocked in the call, so nothing there can abort it (no timer, no event), and a signal cannot be cloned to the
 * worker. So a live signal is refused with a {@link ParameterError} pointing to the `timeout` option (a
 * client-side deadline the worker enforces with a real cancel request); a signal already aborted crosses as an
 * aborted signal, so the worker refuses the call before sending anything with the same client-side
 * `QueryCanceled` as the async API. Loaded by both threads (`args.ts` on the main one, `worker.ts`).
 * @module
 */
import { ParameterError } from "../errors.js";
import { registerCodec } from "./codecs.js";

registerCodec<AbortSignal, { aborted: true }>({
  name: "AbortSignal",
  test: (v): v is AbortSignal => v instanceof AbortSignal,
  encode: (signal) => {
    if (signal.aborted) return { aborted: true };
    throw new ParameterError(
      "a live AbortSignal cannot cancel a call of the synchronous Database (the thread that would abort it is " +
        "blocked in the call): use the timeout option ({ timeout: ms }, a deadline that cancels the statement on " +
        "the server), or AsyncDatabase",
    );
  },
  decode: () => AbortSignal.abort(),
});
