/**
 * Helpers shared by the sizes, maintenance and CRUD tests: comparing an error on both sides, a handle that can
 * send nothing (so an error from it proves the refusal came before any statement), waiting for statistics.
 */
import assert from "node:assert/strict";
import { AsyncDatabase, Config, Database } from "../../src/index.js";

/** The error `fn` throws (sync) or rejects with (async). */
export async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  return assert.fail("expected an error");
}

/** The same error class and message, async and sync; returns the async one. */
export async function sameError(
  asyncCall: () => Promise<unknown>,
  syncCall: () => unknown,
  cls: new (...a: never[]) => Error,
  pattern: RegExp,
): Promise<Error> {
  const ea = await errorOf(asyncCall);
  const es = await errorOf(syncCall);
  assert.ok(ea instanceof cls, `async: ${ea.constructor.name}: ${ea.message}`);
  assert.equal(es.constructor, ea.constructor);
  assert.equal(es.message, ea.message);
  assert.match(ea.message, pattern);
  return ea;
}

/** A call made on both sides, with the error class and message expected from it. */
export type RefusalCase = [(q: AsyncDatabase | Database) => unknown, new (...a: never[]) => Error, RegExp];

/**
 * Runs each case on handles to a server that is not there: any statement sent would be a `ConnectionError`, so
 * the expected error proves nothing was sent. Same class and message async and sync.
 */
export async function refusedBeforeSending(cases: RefusalCase[]): Promise<void> {
  const config = Config.fromUrl("postgresql://postgres@127.0.0.1:1/postgres").with({ connectTimeout: 1000 });
  const adb = new AsyncDatabase(config);
  const db = new Database(config);
  try {
    for (const [call, cls, pattern] of cases) await sameError(async () => call(adb), () => call(db), cls, pattern);
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
