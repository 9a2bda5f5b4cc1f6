import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import pg from "pg";
import { resolveServer, startEmbeddedServer } from "../src/embedded/server.js";

test("startEmbeddedServer runs a second, private PostgreSQL 15 and cleans up after itself", { timeout: 60_000 }, async () => {
  const started = performance.now();
  const server = await startEmbeddedServer();
  const startMs = performance.now() - started;
  let stopped = false;
  try {
    assert.match(server.url, /^postgresql:\/\/postgres:[0-9a-f]{32}@127\.0\.0\.1:\d+\/postgres$/);
    assert.equal(new URL(server.url).port, String(server.port));
    assert.notEqual(server.url, process.env.DATABASE_URL, "must be a second server, not the one under test");
    assert.ok(existsSync(server.dataDir), "data dir exists while running");
    assert.ok(startMs < 30_000, `start took ${startMs.toFixed(0)} ms`);

    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const version = await client.query<{ server_version: string }>("SHOW server_version");
      assert.ok(version.rows[0]!.server_version.startsWith("15."), version.rows[0]!.server_version);
      await client.query("CREATE TABLE embedded_check (id int PRIMARY KEY, name text NOT NULL)");
      await client.query("INSERT INTO embedded_check VALUES ($1, $2), ($3, $4)", [1, "one", 2, "twö"]);
      const rows = await client.query("SELECT id, name FROM embedded_check ORDER BY id");
      assert.deepEqual(rows.rows, [
        { id: 1, name: "one" },
        { id: 2, name: "twö" },
      ]);
    } finally {
      await client.end();
    }

    await server.stop();
    stopped = true;
    assert.equal(existsSync(server.dataDir), false, "data dir removed by stop()");
    await server.stop(); // idempotent

    const late = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 3000 });
    late.on("error", () => undefined);
    await assert.rejects(late.connect(), "the server is gone");
  } finally {
    if (!stopped) await server.stop();
  }
});

test("startEmbeddedServer honours user and password (percent-encoded in the url)", { timeout: 60_000 }, async () => {
  const server = await startEmbeddedServer({ user: "tscopg_owner", password: "p@ss w/rd:%" });
  try {
    assert.ok(server.url.startsWith("postgresql://tscopg_owner:p%40ss%20w%2Frd%3A%25@127.0.0.1:"), server.url);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ u: string }>("SELECT current_user AS u");
      assert.equal(rows[0]!.u, "tscopg_owner");
    } finally {
      await client.end();
    }
    const wrong = new pg.Client({ host: "127.0.0.1", port: server.port, user: "tscopg_owner", password: "nope", database: "postgres" });
    wrong.on("error", () => undefined);
    await assert.rejects(wrong.connect(), /password authentication failed/);
  } finally {
    await server.stop();
  }
  assert.equal(existsSync(server.dataDir), false);
});

test("resolveServer prefers DATABASE_URL, then the PG* variables", async () => {
  const names = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"] as const;
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  const set = (values: Partial<Record<(typeof names)[number], string>>): void => {
    for (const name of names) delete process.env[name];
    Object.assign(process.env, values);
  };
  try {
    set({ DATABASE_URL: "postgresql://someone@db.example:6543/app", PGHOST: "ignored" });
    let resolved = await resolveServer();
    assert.deepEqual([resolved.url, resolved.source], ["postgresql://someone@db.example:6543/app", "env"]);
    await resolved.stop(); // no-op

    set({ PGHOST: "db.example", PGUSER: "ann@corp", PGPASSWORD: "s3cr:t/", PGDATABASE: "my db" });
    resolved = await resolveServer();
    assert.deepEqual([resolved.url, resolved.source], ["postgresql://ann%40corp:s3cr%3At%2F@db.example:5432/my%20db", "env"]);

    set({ PGPORT: "5433" });
    assert.equal((await resolveServer()).url, "postgresql://postgres@localhost:5433/postgres");

    set({ PGHOST: "/var/run/postgresql" });
    assert.equal((await resolveServer()).url, "postgresql://postgres@%2Fvar%2Frun%2Fpostgresql:5432/postgres");

    set({ PGHOST: "::1" });
    assert.equal((await resolveServer()).url, "postgresql://postgres@[::1]:5432/postgres");
  } finally {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
});
