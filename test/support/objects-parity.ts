/**
 * Test support for the databases/extensions/schemas/tables features: calling a feature on the async and the sync
 * database alike and checking they agree (same value, or same error class and message), and handles on a port
 * where nothing listens, to show that a refusal happened before anything was sent.
 */
import assert from "node:assert/strict";
import { AsyncDatabase, Config, Database } from "../../src/index.js";

type AnyFn = (...args: unknown[]) => unknown;

/** Calls feature `name` flat on the async handle. */
export function callAsync(adb: unknown, name: string, ...args: unknown[]): Promise<unknown> {
  return (adb as Record<string, AnyFn>)[name]!(...args) as Promise<unknown>;
}

/** Calls feature `name` flat on the sync handle. */
export function callSync(db: unknown, name: string, ...args: unknown[]): unknown {
  return (db as Record<string, AnyFn>)[name]!(...args);
}

/** Calls `name(...args)` on both handles (async first) and asserts the answers are equal; returns the answer. */
export async function same(adb: AsyncDatabase, db: Database, name: string, ...args: unknown[]): Promise<unknown> {
  const a = await callAsync(adb, name, ...args);
  const s = callSync(db, name, ...args);
  assert.deepEqual(s, a, `${name}: sync and async differ`);
  return a;
}

/** The error `fn` throws or rejects with (fails when it does not). */
export async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail("expected an error");
}

/**
 * Calls `name(...args)` on both handles and asserts both fail with an instance of `cls`, of the same class and
 * message (matching `message` when given); returns the async error.
 */
export async function sameError(
  adb: AsyncDatabase,
  db: Database,
  cls: abstract new (...a: never[]) => Error,
  message: RegExp | undefined,
  name: string,
  ...args: unknown[]
): Promise<Error> {
  const a = await errorOf(() => callAsync(adb, name, ...args));
  const s = await errorOf(() => callSync(db, name, ...args));
  assert.ok(a instanceof cls, `${name} async: expected ${cls.name}, got ${a.constructor.name}: ${a.message}`);
  assert.equal(s.constructor, a.constructor, `${name}: sync ${s.constructor.name} vs async ${a.constructor.name}`);
  assert.equal(s.message, a.message, `${name}: messages differ`);
  if (message) assert.match(a.message, message);
  return a;
}

/**
 * A pair of handles on a port where no server listens: a call that reaches for the server fails with a
 * ConnectionError, so a call that fails otherwise sent nothing.
 */
export function unreachable(): { adb: AsyncDatabase; db: Database; close(): Promise<void> } {
  const config = new Config({ host: "127.0.0.1", port: 1, user: "nobody", database: "nowhere", connectTimeout: 2 });
  const adb = new AsyncDatabase(config);
  const db = new Database(config);
  return {
    adb,
    db,
    close: async () => {
      db.close();
      await adb.close();
    },
  };
}
