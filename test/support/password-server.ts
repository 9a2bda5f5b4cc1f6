/**
 * Test support: a throwaway PostgreSQL (the embedded one of `tscopg/embedded`) that requires scram-sha-256
 * password authentication for every connection and logs every statement (`log_statement = all`), with its log
 * kept in memory, so a test can log in with a role's password and check what the server saw. The shared test
 * server (trust auth) is never reconfigured.
 */
import pg from "pg";
import { startEmbeddedServer, type EmbeddedServer } from "../../src/embedded/server.js";

export interface PasswordServer {
  /** The superuser's URL (with its password). */
  url: string;
  port: number;
  /** Every line the server logged so far. */
  log(): string;
  /**
   * Logs `marker` through the server (a `SELECT` of it as a literal) and waits until the line shows up in the log,
   * so a test knows the log holds everything sent before.
   */
  flushLog(marker: string): Promise<void>;
  /** Connects as `user` with `password` (a raw node-postgres client) and returns `current_user`. */
  login(user: string, password: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPasswordServer(): Promise<PasswordServer> {
  const lines: string[] = [];
  const server: EmbeddedServer = await startEmbeddedServer({ log: (line) => lines.push(line) });
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    // pg_hba of the embedded server: scram-sha-256 for every connection (no trust line).
    const hba = await admin.query<{ type: string; auth_method: string }>("SELECT type, auth_method FROM pg_hba_file_rules");
    if (hba.rows.length === 0 || hba.rows.some((r) => r.auth_method !== "scram-sha-256")) {
      throw new Error(`the throwaway server does not require scram-sha-256 everywhere: ${JSON.stringify(hba.rows)}`);
    }
    await admin.query("ALTER SYSTEM SET log_statement = 'all'");
    await admin.query("SELECT pg_reload_conf()");
  } finally {
    await admin.end();
  }
  const log = () => lines.join("\n");
  const flushLog = async (marker: string): Promise<void> => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query(`SELECT '${marker.replace(/'/g, "''")}' AS marker`);
    } finally {
      await client.end();
    }
    for (let i = 0; i < 100 && !log().includes(marker); i++) await new Promise((r) => setTimeout(r, 50));
    if (!log().includes(marker)) throw new Error(`the server log does not show ${marker}: is log_statement on?`);
  };
  const login = async (user: string, password: string): Promise<string> => {
    const client = new pg.Client({ host: "127.0.0.1", port: server.port, database: "postgres", user, password });
    client.on("error", () => undefined);
    await client.connect();
    try {
      return (await client.query<{ u: string }>("SELECT current_user AS u")).rows[0]!.u;
    } finally {
      await client.end();
    }
  };
  return { url: server.url, port: server.port, log, flushLog, login, stop: () => server.stop() };
}
