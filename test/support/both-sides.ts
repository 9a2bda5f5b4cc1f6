/**
 * Test support for calls made alike on the async and the sync handle: the same answer or the same error on both
 * sides, refusals shown to come before anything is sent (on handles that record what their sessions send), and
 * waiting for statistics.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import type { AsyncDatabase, Config, Database } from "../../src/index.js";
import { AsyncRecordingDatabase, RecordingDatabase } from "../fixtures/recording-db.js";

/** Either handle: a call written once for both sides takes this. */
export type Either = AsyncDatabase | Database;

/** A handle's methods by name, untyped (for arguments wrong on purpose); `R` is what they answer. */
export type Loose<R = unknown> = Record<string, (...args: unknown[]) => R>;

/** The handle seen as {@link Loose}: the async one's methods answer promises. */
export function loose(handle: AsyncDatabase): Loose<Promise<unknown>>;
export function loose(handle: Database): Loose;
export function loose(handle: Either): Loose {
  return handle as unknown as Loose;
}

/** An error class (abstract ones too), as the `cls` arguments below take it. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** How a call is named in a failure message: its name, else its source. */
function label(fn: (...args: never[]) => unknown): string {
  return fn.name || String(fn).replace(/\s+/g, " ").slice(0, 200);
}

/** The error `fn` throws or rejects with (fails when it does neither). */
export async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  return assert.fail(`${label(fn)}: expected an error`);
}

/** The rejection of an async call (which must answer a promise, not throw) and the throw of the same sync call: same class and message, an instance of `cls` matching `pattern` when given; returns the async one. */
export async function sameError(asyncCall: () => PromiseLike<unknown>, syncCall: () => unknown, cls?: ErrorClass, pattern?: RegExp): Promise<Error> {
  return compareErrors(label(asyncCall), asyncCall, syncCall, cls, pattern);
}

/** {@link sameError}, with `what` naming the call in failure messages. */
async function compareErrors(what: string, asyncCall: () => unknown, syncCall: () => unknown, cls?: ErrorClass, pattern?: RegExp): Promise<Error> {
  let answer: unknown;
  try {
    answer = asyncCall();
  } catch (err) {
    return assert.fail(`${what}: async: threw instead of answering a rejected promise: ${String(err)}`);
  }
  assert.equal(typeof (answer as PromiseLike<unknown> | undefined)?.then, "function", `${what}: async: answered no promise`);
  const ea = await Promise.resolve(answer).then(
    () => assert.fail(`${what}: async: expected an error`),
    (err: unknown) => err as Error,
  );
  let es: Error | undefined;
  try {
    syncCall();
  } catch (err) {
    es = err as Error;
  }
  assert.ok(es, `${what}: sync: expected an error like ${ea.constructor.name}: ${ea.message}`);
  assert.equal(es.constructor, ea.constructor, `${what}: sync ${es.constructor.name} vs async ${ea.constructor.name}`);
  assert.equal(es.message, ea.message, `${what}: the messages differ`);
  if (cls) assert.ok(ea instanceof cls, `${what}: expected ${cls.name}, got ${ea.constructor.name}: ${ea.message}`);
  if (pattern) assert.match(ea.message, pattern, `${what}: ${JSON.stringify(ea.message)} does not match ${pattern}`);
  return ea;
}

/** `call` made on the async handle and on the sync one: the same error (see {@link sameError}); returns the async one. */
export function sameErrorOn<A, S>(adb: A, db: S, call: (q: A | S) => unknown, cls?: ErrorClass, pattern?: RegExp): Promise<Error> {
  return compareErrors(label(call), () => call(adb), () => call(db), cls, pattern);
}

/** `call` made on the async handle and on the sync one: the same answer (deeply equal); returns the async one. */
export async function sameOn<A, S, R>(adb: A, db: S, call: (q: A | S) => R): Promise<Awaited<R>> {
  const a = await call(adb);
  const s = call(db);
  assert.deepEqual(s, a, `${label(call)}: sync and async differ`);
  return a;
}

/** A call of method `name` with `args` on whichever handle it is given, for tables of calls by name. */
export function byName(name: string, ...args: unknown[]): (q: object) => unknown {
  const call = (q: object) => (q as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
  return Object.defineProperty(call, "name", { value: `${name}(${args.map((a) => inspect(a)).join(", ")})` });
}

/** A call made on both sides, and the class (and message) of the error expected from it. */
export type RefusalCase = [call: (q: Either) => unknown, cls: ErrorClass, pattern?: RegExp];

/** Refusal cases written as rows of method name, arguments and error class. */
export function casesByName(rows: readonly (readonly [name: string, args: unknown[], cls: ErrorClass])[]): RefusalCase[] {
  return rows.map(([name, args, cls]) => [byName(name, ...args), cls]);
}

/**
 * Runs each case on handles to `config` that record every statement their sessions send: the expected error, the
 * same async and sync (see {@link sameError}), and nothing sent by either side. `sends`, a valid call, must send
 * something on both (the recording sees those calls). Returns the async errors, in order.
 */
export async function refusedBeforeSending(config: Config, cases: RefusalCase[], sends?: (q: Either) => unknown): Promise<Error[]> {
  const adb = new AsyncRecordingDatabase(config);
  const db = new RecordingDatabase(config);
  try {
    const errors: Error[] = [];
    for (const [call, cls, pattern] of cases) {
      errors.push(await sameErrorOn<Either, Either>(adb, db, call, cls, pattern));
      assert.deepEqual(await adb.statementsSent(), [], `${label(call)}: statements were sent (async)`);
      assert.deepEqual(db.statementsSent(), [], `${label(call)}: statements were sent (sync)`);
    }
    if (sends) {
      await sends(adb);
      sends(db);
      assert.notDeepEqual(await adb.statementsSent(), [], `${label(sends)}: nothing recorded (async)`);
      assert.notDeepEqual(db.statementsSent(), [], `${label(sends)}: nothing recorded (sync)`);
    }
    return errors;
  } finally {
    db.close();
    await adb.close();
  }
}

/** Polls `read` until `ok` holds (statistics reach other sessions after a short delay), for at most 10 s. */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? String(x) : x))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
