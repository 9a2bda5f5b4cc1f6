/**
 * The Config fields of several-host connections: `targetSessionAttrs` (field, URL, DSN, options, environment),
 * `pooler`, and a password given as a function (kept by `with`/`toInit`, never shown, not writable into a DSN or
 * URL). Connecting with them is tested against real servers in multihost.test.ts.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, test } from "node:test";
import { Config, ConfigurationError } from "../src/index.js";

const SECRET = "tok-3f9a1c";
const tokenFn = () => SECRET;

describe("targetSessionAttrs", () => {
  test('defaults to "any"; every libpq 14 value is accepted, from a field, a URL, options and the environment', () => {
    assert.equal(new Config().targetSessionAttrs, "any");
    for (const v of ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"] as const) {
      assert.equal(new Config({ targetSessionAttrs: v }).targetSessionAttrs, v);
      assert.equal(Config.fromUrl(`postgresql://h1,h2/db?target_session_attrs=${v}`).targetSessionAttrs, v);
      assert.equal(new Config({ options: { target_session_attrs: v } }).targetSessionAttrs, v);
      const env = { PGHOST: "h1,h2", PGTARGETSESSIONATTRS: v };
      assert.equal(Config.fromEnv(null, { env, loadDotenvFile: false }).targetSessionAttrs, v);
    }
    // The field wins over the options key (like every other field).
    assert.equal(new Config({ targetSessionAttrs: "primary", options: { target_session_attrs: "standby" } }).targetSessionAttrs, "primary");
    assert.deepEqual(Config.fromUrl("postgresql://h/db?target_session_attrs=standby").options, {});
  });

  test("an invalid value is a ConfigurationError naming where it came from", () => {
    assert.throws(() => new Config({ targetSessionAttrs: "master" as never }), (e: unknown) => e instanceof ConfigurationError && /targetSessionAttrs "master"/.test(e.message));
    assert.throws(() => Config.fromUrl("postgresql://h/db?target_session_attrs=writable"), ConfigurationError);
    const env = { PGTARGETSESSIONATTRS: "replica" };
    assert.throws(() => Config.fromEnv(null, { env, loadDotenvFile: false }), (e: unknown) => e instanceof ConfigurationError && /PGTARGETSESSIONATTRS "replica"/.test(e.message));
  });

  test("dsn and url carry it (when not any), and the URL round-trips", () => {
    const c = new Config({ hosts: [{ host: "h1", port: 5432 }, { host: "h2", port: 5433 }], targetSessionAttrs: "read-write" });
    assert.match(c.dsn, / target_session_attrs=read-write/);
    assert.match(c.url, /[?&]target_session_attrs=read-write/);
    assert.deepEqual(Config.fromUrl(c.url).toInit(), c.toInit());
    assert.doesNotMatch(new Config().dsn, /target_session_attrs/);
    assert.doesNotMatch(new Config().url, /target_session_attrs/);
    // Not a server setting: never sent at start-up.
    assert.equal(c.connectParams().options, undefined);
  });

  test("toString shows it (and the pooler) when set", () => {
    assert.equal(String(new Config({ host: "h" })), "Config(postgres@h:5432/postgres)");
    const c = new Config({ hosts: [{ host: "h1", port: 1 }, { host: "h2", port: 2 }], targetSessionAttrs: "read-write", pooler: "transaction" });
    assert.equal(String(c), "Config(postgres@h1:1,h2:2/postgres target_session_attrs=read-write pooler=transaction)");
  });

  test("with() keeps it, and can change it", () => {
    const c = new Config({ targetSessionAttrs: "standby" });
    assert.equal(c.with({ database: "x" }).targetSessionAttrs, "standby");
    assert.equal(c.with({ targetSessionAttrs: "primary" }).targetSessionAttrs, "primary");
    assert.equal(c.with({ targetSessionAttrs: null }).targetSessionAttrs, "any");
  });
});

describe("pooler", () => {
  test('null by default; "transaction" from the field, a URL or options; anything else refused', () => {
    assert.equal(new Config().pooler, null);
    assert.equal(new Config({ pooler: "transaction" }).pooler, "transaction");
    assert.equal(Config.fromUrl("postgresql://h/db?pooler=transaction").pooler, "transaction");
    assert.equal(new Config({ options: { pooler: "transaction" } }).pooler, "transaction");
    assert.throws(() => new Config({ pooler: "session" as never }), (e: unknown) => e instanceof ConfigurationError && /pooler "session"/.test(e.message));
    assert.throws(() => Config.fromUrl("postgresql://h/db?pooler=statement"), ConfigurationError);
  });

  test("kept by with(), toInit() and the URL; left out of the DSN (libpq does not know it) and of the start-up packet", () => {
    const c = new Config({ pooler: "transaction", statementTimeout: 100 });
    assert.equal(c.with({ database: "x" }).pooler, "transaction");
    assert.equal(c.with({ pooler: null }).pooler, null);
    assert.equal(c.toInit().pooler, "transaction");
    assert.deepEqual(Config.fromUrl(c.url).toInit(), c.toInit());
    assert.doesNotMatch(c.dsn, /pooler/);
    assert.equal(c.connectParams().options, undefined);
    assert.equal(c.connectParams().statement_timeout, 100); // what you ask for yourself is still sent
  });
});

describe("a password function", () => {
  test("is kept by with() and toInit(), and handed to node-postgres as it is (not enumerable)", () => {
    const c = new Config({ host: "h", password: tokenFn });
    assert.equal(c.password, tokenFn);
    assert.equal(c.with({ database: "x" }).password, tokenFn);
    assert.equal(c.toInit().password, tokenFn);
    assert.deepEqual(new Config(c.toInit()).toInit(), c.toInit());
    const params = c.connectParams();
    assert.equal(params.password, tokenFn);
    assert.ok(!Object.keys(params).includes("password"));
    assert.equal(c.with({ password: "plain" }).password, "plain");
  });

  test("is never shown: toString, inspect, JSON", () => {
    const c = new Config({ host: "h", user: "app", password: tokenFn });
    for (const shown of [String(c), inspect(c), JSON.stringify(c), inspect(c, { depth: 5, showHidden: true })]) {
      assert.ok(!shown.includes(SECRET) && !shown.includes("tokenFn"), shown);
    }
    assert.equal(c.toJSON().password, "***");
  });

  test("cannot be written into a DSN or a URL: ConfigurationError", () => {
    const c = new Config({ host: "h", password: tokenFn });
    assert.throws(() => c.dsn, (e: unknown) => e instanceof ConfigurationError && /password is a function has no dsn/.test(e.message));
    assert.throws(() => c.url, (e: unknown) => e instanceof ConfigurationError && /password is a function has no url/.test(e.message));
    assert.match(c.with({ password: SECRET }).dsn, new RegExp(`password=${SECRET}`));
  });

  test("a password that is neither a string nor a function is refused", () => {
    assert.throws(() => new Config({ password: 42 as never }), (e: unknown) => e instanceof ConfigurationError && /string or a function/.test(e.message));
  });
});
