/**
 * Test support: every test file works in its own schema on the real server chosen by `scripts/test.ts`
 * (DATABASE_URL), so files run in parallel and leave nothing behind.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { Config } from "../../src/config.js";

/** The server under test (set by `npm test`; falls back to the local default). */
export function serverUrl(): string {
  return process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
}

/** Runs SQL on a short-lived raw pg client (for setup and for checking from outside the library). */
export async function rawQuery<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as R[];
  } finally {
    await client.end();
  }
}

export interface TestSchema {
  /** The schema's name. */
  schema: string;
  /** A Config whose connections use the schema as search_path. */
  config: Config;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** Creates a fresh schema `t_<label>_<random>`. */
export async function createTestSchema(label: string): Promise<TestSchema> {
  const schema = `t_${label}_${randomBytes(4).toString("hex")}`;
  await rawQuery(`CREATE SCHEMA "${schema}"`);
  const base = Config.fromUrl(serverUrl());
  const config = base.with({ options: { ...base.options, search_path: schema }, applicationName: schema });
  return {
    schema,
    config,
    drop: () => rawQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined),
  };
}

/** Number of server sessions whose application_name is `name` (to check that nothing leaks). */
export async function sessionsNamed(name: string): Promise<number> {
  const rows = await rawQuery<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
    [name],
  );
  return rows[0]!.n;
}
