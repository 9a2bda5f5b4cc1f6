/**
 * Unit tests of src/config.ts (no database needed).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import util from "node:util";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Config, type ConfigInit } from "../src/config.js";
import { ConfigurationError } from "../src/errors.js";

/** A password full of URL metacharacters. */
const NASTY = "p@ss/:w rd'%#?&=";

/** Asserts that `fn` throws a ConfigurationError whose message does not contain any of `secrets`; returns the message. */
function throwsConfig(fn: () => unknown, ...secrets: string[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigurationError, `expected a ConfigurationError, got ${String(caught)}`);
  for (const s of secrets) assert.ok(!caught.message.includes(s), `message leaks ${JSON.stringify(s)}: ${caught.message}`);
  return caught.message;
}

/** Every field of a Config that must survive a round trip. */
function fields(c: Config): ConfigInit {
  return c.toInit();
}

describe("defaults", () => {
  test("new Config() has libpq-like defaults", () => {
    const c = new Config();
    assert.equal(c.host, "localhost");
    assert.equal(c.port, 5432);
    assert.deepEqual(c.hosts, [{ host: "localhost", port: 5432 }]);
    assert.equal(c.database, "postgres");
    assert.equal(c.user, "postgres");
    assert.equal(c.password, "");
    assert.equal(c.sslmode, null);
    assert.deepEqual(c.options, {});
    assert.equal(c.statementTimeout, null);
    assert.equal(c.applicationName, null);
    assert.equal(c.connectTimeout, null);
    assert.ok(Object.isFrozen(c.options));
    assert.ok(Object.isFrozen(c.hosts));
  });

  test("invalid fields are rejected", () => {
    for (const port of [0, 65536, 1.5, Number.NaN]) throwsConfig(() => new Config({ port }));
    throwsConfig(() => new Config({ statementTimeout: -1 }));
    throwsConfig(() => new Config({ statementTimeout: 1.5 }));
    throwsConfig(() => new Config({ connectTimeout: -3 }));
    throwsConfig(() => new Config({ sslmode: "bogus" as never }));
    throwsConfig(() => new Config({ host: "a,b" }));
    throwsConfig(() => new Config({ options: { search_path: "a\0b" } }));
    throwsConfig(() => new Config({ options: { password: "x" } }));
  });

  test("hosts wins over host/port", () => {
    const c = new Config({ host: "ignored", port: 1, hosts: [{ host: "h1", port: 6000 }, { host: "h2", port: 6001 }] });
    assert.equal(c.host, "h1");
    assert.equal(c.port, 6000);
    assert.equal(c.hosts.length, 2);
  });

  test("field keywords in options move to their fields", () => {
    const c = new Config({ options: { application_name: "app", statement_timeout: "250", connect_timeout: "3", sslmode: "require", lock_timeout: "1s" } });
    assert.equal(c.applicationName, "app");
    assert.equal(c.statementTimeout, 250);
    assert.equal(c.connectTimeout, 3);
    assert.equal(c.sslmode, "require");
    assert.deepEqual(c.options, { lock_timeout: "1s" });
  });
});

describe("fromUrl", () => {
  test("percent-encoded user and password are decoded", () => {
    const c = Config.fromUrl("postgresql://us%40er%20x:p%40ss%2F%3A%20%27%25%23%3F%26%3D@db.example.com:6543/my%2Fdb");
    assert.equal(c.user, "us@er x");
    assert.equal(c.password, "p@ss/: '%#?&=");
    assert.equal(c.host, "db.example.com");
    assert.equal(c.port, 6543);
    assert.equal(c.database, "my/db");
  });

  test("the spec example decodes", () => {
    assert.equal(Config.fromUrl("postgresql://u:p%40ss%2F%3A%20%27@h/db").password, "p@ss/: '");
  });

  test("url → fromUrl round-trips every field", () => {
    const original = new Config({
      hosts: [
        { host: "h1.example.com", port: 5432 },
        { host: "::1", port: 5433 },
      ],
      database: "d b/%?",
      user: "u@s:er",
      password: NASTY,
      sslmode: "verify-full",
      applicationName: "my app & co",
      connectTimeout: 7,
      statementTimeout: 1234,
      options: { search_path: "a b, public", timezone: "UTC", options: "-c geqo=off", target_session_attrs: "read-write" },
    });
    const copy = Config.fromUrl(original.url);
    assert.deepEqual(fields(copy), fields(original));
    assert.ok(original.url.startsWith("postgresql://u%40s%3Aer:p%40ss%2F%3Aw%20rd'%25%23%3F%26%3D@h1.example.com:5432,[::1]:5433/"));
  });

  test("round trip with a unix socket and with defaults", () => {
    for (const init of [{}, { host: "/var/run/postgresql", port: 5433, password: NASTY }, { password: "" }] as ConfigInit[]) {
      const c = new Config(init);
      assert.deepEqual(fields(Config.fromUrl(c.url)), fields(c));
    }
    assert.equal(new Config({ host: "/tmp" }).url, "postgresql://postgres@/postgres?host=/tmp&port=5432");
  });

  test("missing parts fall back to the defaults", () => {
    assert.deepEqual(fields(Config.fromUrl("postgresql://")), fields(new Config()));
    assert.deepEqual(fields(Config.fromUrl("postgresql:///")), fields(new Config()));
    const c = Config.fromUrl("postgresql://h/");
    assert.equal(c.host, "h");
    assert.equal(c.port, 5432);
    assert.equal(c.database, "postgres");
    assert.equal(c.user, "postgres");
    assert.equal(c.password, "");
    const d = Config.fromUrl("postgresql://alice@:6000/app");
    assert.equal(d.host, "localhost");
    assert.equal(d.port, 6000);
    assert.equal(d.user, "alice");
    assert.equal(d.database, "app");
  });

  test("postgres:// and postgresql+driver:// schemes", () => {
    for (const scheme of ["postgres", "postgresql", "postgresql+psycopg", "postgresql+asyncpg", "POSTGRESQL"]) {
      const c = Config.fromUrl(`${scheme}://u:pw-scheme@h:1234/db`);
      assert.equal(c.user, "u");
      assert.equal(c.port, 1234);
      assert.equal(c.database, "db");
    }
  });

  test("bad scheme, garbage and bad percent-encoding never show the password", () => {
    const pw = "Sup3rS3cretPw";
    throwsConfig(() => Config.fromUrl(`mysql://u:${pw}@h/db`), pw);
    throwsConfig(() => Config.fromUrl(`http://u:${pw}@h/db`), pw);
    throwsConfig(() => Config.fromUrl(`postgresql+:/u:${pw}@h/db`), pw);
    throwsConfig(() => Config.fromUrl(`garbage ${pw}`), pw);
    throwsConfig(() => Config.fromUrl(""), pw);
    const m = throwsConfig(() => Config.fromUrl(`postgresql://u:${pw}%ZZ@h/db`), pw);
    assert.match(m, /percent-encoding/);
    throwsConfig(() => Config.fromUrl(`postgresql://u:${pw}%E0%A4%A@h/db`), pw);
    throwsConfig(() => Config.fromUrl(`postgresql://u:${pw}@h:notaport/db`), pw);
    throwsConfig(() => Config.fromUrl(`postgresql://u:${pw}/db`), pw); // forgot the host: the password lands in the port
    throwsConfig(() => Config.fromUrl(`postgresql://u:ab/${pw}@h/db`), pw); // unencoded "/" in the password
    throwsConfig(() => Config.fromUrl(`postgresql://u@h/db?password=${pw}&sslmode=nope`), pw);
    throwsConfig(() => Config.fromUrl(`postgresql://u@h:99999/db`));
  });

  test("sslmode parameter", () => {
    for (const mode of ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]) {
      assert.equal(Config.fromUrl(`postgresql://h/db?sslmode=${mode}`).sslmode, mode);
    }
    const m = throwsConfig(() => Config.fromUrl("postgresql://u:pw-ssl@h/db?sslmode=sometimes"), "pw-ssl");
    assert.match(m, /sometimes/);
  });

  test("multiple hosts, with and without ports", () => {
    const a = Config.fromUrl("postgresql://u:pw-multi@h1:5432,h2:5433/db");
    assert.deepEqual(a.hosts, [
      { host: "h1", port: 5432 },
      { host: "h2", port: 5433 },
    ]);
    assert.equal(a.host, "h1");
    const b = Config.fromUrl("postgresql://h1,h2:6000,h3/db");
    assert.deepEqual(b.hosts, [
      { host: "h1", port: 5432 },
      { host: "h2", port: 6000 },
      { host: "h3", port: 5432 },
    ]);
    assert.equal(b.dsn.split(" ").slice(0, 2).join(" "), "host=h1,h2,h3 port=5432,6000,5432");
    assert.deepEqual(
      b.connectParamsList().map((p) => `${p.host}:${p.port}`),
      ["h1:5432", "h2:6000", "h3:5432"],
    );
    assert.equal(b.url, "postgresql://postgres@h1:5432,h2:6000,h3:5432/db");
    throwsConfig(() => b.connectParams(3));
  });

  test("IPv6", () => {
    const c = Config.fromUrl("postgresql://u@[::1]:5433/db");
    assert.equal(c.host, "::1");
    assert.equal(c.port, 5433);
    assert.equal(Config.fromUrl("postgresql://[fe80::1%25eth0]/db").host, "fe80::1%eth0");
    assert.equal(Config.fromUrl("postgresql://[::1]/db").port, 5432);
    assert.equal(c.toString(), "Config(u@[::1]:5433/db)");
    assert.equal(c.connectParams().host, "::1");
    throwsConfig(() => Config.fromUrl("postgresql://::1:5432/db"));
    throwsConfig(() => Config.fromUrl("postgresql://[::1/db"));
  });

  test("unix socket, both forms", () => {
    const a = Config.fromUrl("postgresql://user@%2Fvar%2Frun%2Fpostgresql/db");
    assert.equal(a.host, "/var/run/postgresql");
    assert.equal(a.user, "user");
    assert.equal(a.database, "db");
    const b = Config.fromUrl("postgresql:///db?host=/var/run/postgresql");
    assert.equal(b.host, "/var/run/postgresql");
    assert.equal(b.port, 5432);
    assert.equal(b.database, "db");
    const c = Config.fromUrl("postgresql://h:1/db?host=%2Ftmp&port=6543");
    assert.equal(c.host, "/tmp");
    assert.equal(c.port, 6543);
    // unix sockets never use TLS (like libpq)
    assert.equal(Config.fromUrl("postgresql:///db?host=/tmp&sslmode=require").connectParams().ssl, false);
  });

  test("query parameters map to fields and options", () => {
    const c = Config.fromUrl(
      "postgresql://h/db?application_name=my%20app&connect_timeout=5&statement_timeout=3000&options=-c%20geqo%3Doff&target_session_attrs=read-write&search_path=a%20b&TimeZone=UTC",
    );
    assert.equal(c.applicationName, "my app");
    assert.equal(c.connectTimeout, 5);
    assert.equal(c.statementTimeout, 3000);
    assert.deepEqual(c.options, { options: "-c geqo=off", search_path: "a b", TimeZone: "UTC" });
    assert.equal(c.targetSessionAttrs, "read-write"); // a field now (see config-hosts.test.ts)
    const p = c.connectParams();
    assert.equal(p.options, "-c geqo=off -c search_path=a\\ b -c TimeZone=UTC");
    assert.equal(p.application_name, "my app");
    assert.equal(p.connectionTimeoutMillis, 5000);
    throwsConfig(() => Config.fromUrl("postgresql://h/db?connect_timeout=soon"));
    throwsConfig(() => Config.fromUrl("postgresql://h/db?statement_timeout=-5"));
  });

  test("query user/password/dbname override the URL parts", () => {
    const c = Config.fromUrl("postgresql://a:b@h/x?user=bob&password=pw%20q&dbname=y");
    assert.equal(c.user, "bob");
    assert.equal(c.password, "pw q");
    assert.equal(c.database, "y");
  });
});

describe("server settings (GUC options)", () => {
  test("values with spaces and backslashes are escaped for the start-up packet", () => {
    const c = new Config({ options: { search_path: "a b" } });
    assert.equal(c.connectParams().options, "-c search_path=a\\ b");
    const d = new Config({ options: { search_path: "x\\y z", "my.setting": "v" } });
    assert.equal(d.connectParams().options, "-c search_path=x\\\\y\\ z -c my.setting=v");
    assert.equal(new Config().connectParams().options, undefined);
  });

  test("the raw options keyword is passed through first", () => {
    const c = new Config({ options: { options: "-c geqo=off", lock_timeout: "5s" } });
    assert.equal(c.connectParams().options, "-c geqo=off -c lock_timeout=5s");
  });

  test("invalid setting names are rejected with the name in the message", () => {
    for (const key of ["x y", "a;b", "1abc", "", "a-b", "a=b"]) {
      const m = throwsConfig(() => new Config({ options: { [key]: "1" } }));
      assert.ok(m.includes(JSON.stringify(key)), m);
    }
    throwsConfig(() => Config.fromUrl("postgresql://h/db?a%3Bb=1"));
  });
});

describe("statement timeout", () => {
  test("goes to connectParams and to the dsn", () => {
    const c = new Config({ statementTimeout: 1500, options: { search_path: "s" } });
    assert.equal(c.connectParams().statement_timeout, 1500);
    assert.match(c.dsn, / options='-c statement_timeout=1500 -c search_path=s'$/);
    assert.match(c.url, /[?&]statement_timeout=1500(&|$)/);
    assert.equal(new Config().connectParams().statement_timeout, undefined);
  });

  test("0 (no limit) is sent too, through options", () => {
    const p = new Config({ statementTimeout: 0 }).connectParams();
    assert.equal(p.options, "-c statement_timeout=0");
  });
});

describe("dsn", () => {
  test("quotes values as libpq expects", () => {
    const c = new Config({ host: "db", password: "it's a pass\\word", database: "", user: "plain" });
    assert.equal(c.dsn, "host=db port=5432 dbname=postgres user=plain password='it\\'s a pass\\\\word'");
  });

  test("omits an empty password, includes the optional keywords", () => {
    const c = new Config({ sslmode: "require", applicationName: "a b", connectTimeout: 3, options: { sslrootcert: "/ca.pem" } });
    assert.equal(c.dsn, "host=localhost port=5432 dbname=postgres user=postgres sslmode=require application_name='a b' connect_timeout=3 sslrootcert=/ca.pem");
  });

  test("an empty value is quoted", () => {
    assert.match(new Config({ options: { search_path: "" } }).dsn, /options='-c search_path='$/);
  });
});

describe("connectParams", () => {
  test("basic shape, hidden password", () => {
    const pw = "cp-secret-pw";
    const p = new Config({ host: "db", port: 6000, database: "app", user: "u", password: pw }).connectParams();
    assert.equal(p.host, "db");
    assert.equal(p.port, 6000);
    assert.equal(p.database, "app");
    assert.equal(p.user, "u");
    assert.equal(p.password, pw);
    assert.equal(p.keepAlive, true);
    assert.equal(p.connectionTimeoutMillis, 10000);
    assert.equal(p.ssl, false);
    assert.ok(!Object.keys(p).includes("password"));
    assert.ok(!JSON.stringify(p).includes(pw));
    assert.ok(!util.inspect(p).includes(pw));
    assert.equal(({ ...p } as { password?: string }).password, undefined);
  });

  test("ssl from sslmode", () => {
    for (const mode of [null, "disable", "allow", "prefer"] as const) {
      assert.equal(new Config({ sslmode: mode }).connectParams().ssl, false);
    }
    assert.deepEqual(new Config({ sslmode: "require" }).connectParams().ssl, { rejectUnauthorized: false });
    assert.deepEqual(new Config({ sslmode: "verify-full" }).connectParams().ssl, { rejectUnauthorized: true });
    const ca = new Config({ sslmode: "verify-ca" }).connectParams().ssl as { rejectUnauthorized: boolean; checkServerIdentity: () => unknown };
    assert.equal(ca.rejectUnauthorized, true);
    assert.equal(ca.checkServerIdentity(), undefined);
  });

  test("certificate files are read; a missing one is a ConfigurationError", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tscopg-config-"));
    try {
      writeFileSync(path.join(dir, "ca.pem"), "CA");
      writeFileSync(path.join(dir, "cert.pem"), "CERT");
      writeFileSync(path.join(dir, "key.pem"), "KEY");
      const c = new Config({
        sslmode: "verify-full",
        options: { sslrootcert: path.join(dir, "ca.pem"), sslcert: path.join(dir, "cert.pem"), sslkey: path.join(dir, "key.pem") },
      });
      const ssl = c.connectParams().ssl as { ca: Buffer; cert: Buffer; key: Buffer };
      assert.equal(ssl.ca.toString(), "CA");
      assert.equal(ssl.cert.toString(), "CERT");
      assert.equal(ssl.key.toString(), "KEY");
      assert.deepEqual(c.connectParams().options, undefined); // not sent as server settings
      throwsConfig(() => new Config({ sslmode: "require", options: { sslrootcert: path.join(dir, "nope.pem") } }).connectParams());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("fromEnv", () => {
  const noFile = { loadDotenvFile: false };

  test("DATABASE_URL wins over DB_* and PG*", () => {
    const c = Config.fromEnv(null, { ...noFile, env: { DATABASE_URL: "postgresql://url-user@url-host/url-db", DB_HOST: "dbhost", PGHOST: "pghost" } });
    assert.equal(c.host, "url-host");
    assert.equal(c.user, "url-user");
    assert.equal(c.database, "url-db");
  });

  test("DB_* beats PG*, field by field", () => {
    const c = Config.fromEnv(null, {
      ...noFile,
      env: {
        DB_HOST: "dbhost",
        PGHOST: "pghost",
        PGPORT: "6001",
        DB_NAME: "dbname",
        PGDATABASE: "pgdb",
        PGUSER: "pguser",
        DB_PASSWORD: "env-pass-word",
        PGPASSWORD: "pg-pass-word",
        PGSSLMODE: "require",
        DB_APPLICATION_NAME: "app",
        PGCONNECT_TIMEOUT: "4",
        DB_STATEMENT_TIMEOUT: "900",
      },
    });
    assert.equal(c.host, "dbhost");
    assert.equal(c.port, 6001);
    assert.equal(c.database, "dbname");
    assert.equal(c.user, "pguser");
    assert.equal(c.password, "env-pass-word");
    assert.equal(c.sslmode, "require");
    assert.equal(c.applicationName, "app");
    assert.equal(c.connectTimeout, 4);
    assert.equal(c.statementTimeout, 900);
  });

  test("empty environment gives the defaults", () => {
    assert.deepEqual(fields(Config.fromEnv(null, { ...noFile, env: {} })), fields(new Config()));
  });

  test("PGHOST comma list with one or several ports", () => {
    const a = Config.fromEnv(null, { ...noFile, env: { PGHOST: "h1,h2", PGPORT: "5432,5433" } });
    assert.deepEqual(a.hosts, [
      { host: "h1", port: 5432 },
      { host: "h2", port: 5433 },
    ]);
    const b = Config.fromEnv(null, { ...noFile, env: { PGHOST: "h1,h2", PGPORT: "7000" } });
    assert.deepEqual(b.hosts, [
      { host: "h1", port: 7000 },
      { host: "h2", port: 7000 },
    ]);
    throwsConfig(() => Config.fromEnv(null, { ...noFile, env: { PGHOST: "h1,h2", PGPORT: "1,2,3" } }));
  });

  test("bad values are ConfigurationErrors", () => {
    const m = throwsConfig(() => Config.fromEnv(null, { ...noFile, env: { DB_PORT: "abc" } }));
    assert.match(m, /DB_PORT/);
    throwsConfig(() => Config.fromEnv(null, { ...noFile, env: { PGSSLMODE: "maybe" } }));
    throwsConfig(() => Config.fromEnv(null, { ...noFile, env: { DB_STATEMENT_TIMEOUT: "1s" } }));
    throwsConfig(() => Config.fromEnv(null, { ...noFile, env: { PGCONNECT_TIMEOUT: "x" } }));
  });

  test(".env file: the environment beats the file; process.env is untouched", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tscopg-env-"));
    const before = { ...process.env };
    try {
      const file = path.join(dir, "custom.env");
      writeFileSync(file, "DB_HOST=filehost\nDB_NAME=filedb\nDB_PASSWORD='file pass word'\nTSCOPG_ONLY_IN_FILE=1\n");
      const c = Config.fromEnv(file, { env: { DB_HOST: "envhost" } });
      assert.equal(c.host, "envhost");
      assert.equal(c.database, "filedb");
      assert.equal(c.password, "file pass word");
      assert.deepEqual({ ...process.env }, before);
      assert.equal(process.env.TSCOPG_ONLY_IN_FILE, undefined);

      // loadDotenvFile: false ignores the file
      const d = Config.fromEnv(file, { loadDotenvFile: false, env: {} });
      assert.equal(d.host, "localhost");
      assert.equal(d.database, "postgres");

      // DATABASE_URL in the file counts too, unless the environment has one
      const urlFile = path.join(dir, "url.env");
      writeFileSync(urlFile, "DATABASE_URL=postgresql://fileuser@filehost/filedb\n");
      assert.equal(Config.fromEnv(urlFile, { env: {} }).host, "filehost");
      assert.equal(Config.fromEnv(urlFile, { env: { DATABASE_URL: "postgresql://e@envhost/x" } }).host, "envhost");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("./.env in the current directory is used by default", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tscopg-cwd-"));
    const cwd = process.cwd();
    try {
      writeFileSync(path.join(dir, ".env"), "PGHOST=cwdhost\nPGPORT=7777\n");
      process.chdir(dir);
      const c = Config.fromEnv(undefined, { env: {} });
      assert.equal(c.host, "cwdhost");
      assert.equal(c.port, 7777);
      assert.equal(Config.fromEnv(undefined, { loadDotenvFile: false, env: {} }).host, "localhost");
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an explicit dotenv path that does not exist is a ConfigurationError", () => {
    const missing = path.join(os.tmpdir(), "tscopg-definitely-missing", ".env");
    const m = throwsConfig(() => Config.fromEnv(missing, { env: {} }));
    assert.ok(m.includes("tscopg-definitely-missing"));
    // ...but not when files are not loaded at all
    assert.equal(Config.fromEnv(missing, { loadDotenvFile: false, env: {} }).host, "localhost");
  });
});

describe("copies", () => {
  const base = new Config({
    hosts: [
      { host: "h1", port: 5432 },
      { host: "h2", port: 5433 },
    ],
    database: "one",
    user: "u",
    password: "copy-secret-pw",
    sslmode: "verify-full",
    options: { search_path: "s", sslrootcert: "/ca.pem" },
    statementTimeout: 10,
    applicationName: "app",
    connectTimeout: 2,
  });

  test("withDatabase keeps every other field", () => {
    const other = base.withDatabase("two");
    assert.equal(other.database, "two");
    assert.equal(base.database, "one");
    assert.deepEqual({ ...fields(other), database: "one" }, fields(base));
    assert.equal(other.password, "copy-secret-pw");
  });

  test("with changes some fields", () => {
    const c = base.with({ statementTimeout: 99, applicationName: null, user: undefined });
    assert.equal(c.statementTimeout, 99);
    assert.equal(c.applicationName, null);
    assert.equal(c.user, "u");
    assert.equal(c.hosts.length, 2);
    const single = base.with({ host: "solo" });
    assert.deepEqual(single.hosts, [{ host: "solo", port: 5432 }]);
    const extended = base.with({ options: { ...base.options, lock_timeout: "1s" } });
    assert.deepEqual(extended.options, { search_path: "s", sslrootcert: "/ca.pem", lock_timeout: "1s" });
  });

  test("toInit is a full plain copy including the password", () => {
    const init = base.toInit();
    assert.equal(init.password, "copy-secret-pw");
    assert.deepEqual(fields(new Config(init)), init);
    assert.deepEqual(structuredClone(init), init);
  });
});

describe("the password never shows", () => {
  const pw = "Never-Show-This-Pw";
  const c = new Config({ host: "db", user: "alice", database: "app", password: pw });

  test("toString, String(), template literals", () => {
    assert.equal(c.toString(), "Config(alice@db:5432/app)");
    assert.equal(String(c), "Config(alice@db:5432/app)");
    assert.equal(`${c}`, "Config(alice@db:5432/app)");
    assert.equal(new Config().toString(), "Config(postgres@localhost:5432/postgres)");
  });

  test("util.inspect, JSON.stringify, Object.keys, spreading", () => {
    const shown = [util.inspect(c), util.inspect(c, { depth: 0 }), util.inspect({ nested: { deeper: c } }, { depth: 5 }), util.format("%o", c), JSON.stringify(c), JSON.stringify({ c })];
    for (const s of shown) assert.ok(!s.includes(pw), s);
    assert.match(util.inspect(c), /password: '\*\*\*'/);
    assert.ok(!Object.keys(c).includes("password"));
    assert.ok(!Object.getOwnPropertyNames(c).includes("password"));
    assert.equal(({ ...c } as { password?: string }).password, undefined);
    assert.equal(JSON.parse(JSON.stringify(c)).password, "***");
    assert.equal(JSON.parse(JSON.stringify(new Config())).password, "");
  });

  test("but the explicit accessors return it", () => {
    assert.equal(c.password, pw);
    assert.equal(c.toInit().password, pw);
    assert.ok(c.dsn.includes(`password=${pw}`));
    assert.ok(c.url.includes(`:${pw}@`));
    assert.equal(c.connectParams().password, pw);
  });
});
