/**
 * Test support: throwaway PostgreSQL 15 clusters from the system's binaries (Debian's `/usr/lib/postgresql/15/bin`,
 * or `$PG_BIN`), for tests that stop, kill, restart or promote servers, or need a primary with a streaming replica
 * (several hosts, `targetSessionAttrs`, pool restarts, read-replica routing). The shared test server is never touched.
 *
 * ```ts
 * const primary = await startCluster();
 * const replica = await startCluster({ replicaOf: primary }); // pg_basebackup -R, then a hot standby
 * await primary.query("CREATE TABLE t (x int)");
 * await replica.waitForReplay();                              // the replica has replayed everything so far
 * await replica.stop();  await replica.start();               // same port, same data
 * await primary.kill();                                       // immediate shutdown: clients see a crash
 * await replica.promote();                                    // the replica becomes a primary
 * await Promise.all([replica.remove(), primary.remove()]);
 * ```
 *
 * Each cluster lives in its own temporary directory (`<tmp>/tscopg-cluster-<pid>-XXXXXX`, also its data
 * directory), listens on 127.0.0.1 only, on a free port (picked by listening on port 0; another is tried if a
 * server grabbed it first), with trust authentication for every local connection unless `hba` says otherwise, and
 * a superuser `postgres`. Tuned for speed, not safety: `initdb --no-sync`, `fsync=off`, no synchronous commit,
 * small shared buffers; starting one takes well under a second, a replica about as long again.
 *
 * PostgreSQL refuses to run as root: when the tests run as root, every PostgreSQL program runs as the `postgres`
 * system user (the directories are given to it). Clean-up: {@link Cluster.remove} at the end of a test file; a
 * process that ends without it (or on SIGINT/SIGTERM/SIGHUP) stops its clusters and deletes their directories
 * through the embedded server's exit hooks; a process killed outright takes its servers with it (they are started
 * with a parent-death signal, `setpriv --pdeathsig`), and the directories it left are removed by the next
 * {@link startCluster} of any process.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { track, untrack, type LiveServer } from "../../src/embedded/exit-hooks.js";

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Make a streaming replica of this (running) cluster: `pg_basebackup -R`, started as a hot standby. */
  replicaOf?: Cluster | undefined;
  /**
   * `pg_hba.conf` lines put before the default ones (which trust every local and replication connection), e.g.
   * `"host all app 127.0.0.1/32 scram-sha-256"` to make the role `app` log in with a password. A replica copies its
   * primary's file and ignores this.
   */
  hba?: string[] | undefined;
  /** Extra server settings, as `-c key=value` on the server's command line (they also apply to restarts). */
  settings?: Record<string, string> | undefined;
  /** Receives every line the server logs. By default the last lines are kept for error messages only. */
  log?: ((line: string) => void) | undefined;
}

/** A throwaway cluster (see the module description). Its methods are safe to call in any state. */
export interface Cluster {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The TCP port (kept across stop/start). */
  readonly port: number;
  /** `postgresql://postgres@127.0.0.1:<port>/postgres` (trust authentication: no password). */
  readonly url: string;
  /** The data directory (also the cluster's temporary directory, removed by {@link remove}). */
  readonly dataDir: string;
  /** The cluster this one was made a replica of (still set after {@link promote}). */
  readonly replicaOf: Cluster | undefined;
  /** Whether the server process is running. */
  readonly running: boolean;
  /** Starts the server again (same port, same data) and waits until it accepts connections. */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT: sessions are ended, a checkpoint is written) and waits until the server has exited. */
  stop(): Promise<void>;
  /** Immediate shutdown (SIGQUIT): sessions drop as in a crash; the next start runs crash recovery. */
  kill(): Promise<void>;
  /** {@link stop} then {@link start}. */
  restart(): Promise<void>;
  /** Promotes a standby to primary (`pg_promote`, waiting until it is done). */
  promote(): Promise<void>;
  /** On a standby: waits until it has replayed all WAL its primary had written when called. */
  waitForReplay(timeoutMs?: number): Promise<void>;
  /** Runs one statement as the superuser on database `postgres` (a fresh connection) and returns its rows. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** The server's last log lines (for messages). */
  recentLog(): string;
  /** Stops the server (immediately) and deletes its directory. Later calls do nothing. */
  remove(): Promise<void>;
}

const BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";
const HOST = "127.0.0.1";
const PREFIX = `tscopg-cluster-`;
const READY_TIMEOUT_MS = 60_000;

/** The user PostgreSQL runs as: `postgres` when we are root (it refuses root), else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (line === undefined) throw new Error("cluster: running as root, but there is no `postgres` system user to run PostgreSQL as");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** The environment of PostgreSQL's programs: nothing of ours (no PG* variables pointing elsewhere). */
const cleanEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", TZ: "UTC" });

/** Runs one of PostgreSQL's programs (as the server user) to completion. */
function runTool(tool: string, args: string[]): Promise<void> {
  const user = serverUser();
  return new Promise((resolve, reject) => {
    execFile(path.join(BIN, tool), args, { env: cleanEnv(), cwd: os.tmpdir(), ...user, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`cluster: ${tool} failed: ${err.message}\n${stdout}${stderr}`, { cause: err }));
      else resolve();
    });
  });
}

/** Picks a free TCP port on 127.0.0.1 (listen on port 0, read the port, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether process `pid` exists. */
function alivePid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

let swept = false;

/**
 * Removes the clusters of processes that died without cleaning up (killed outright): their directories, and a
 * postmaster still running there (normally gone already through its parent-death signal).
 */
function sweepLeftovers(): void {
  if (swept) return;
  swept = true;
  const tmp = os.tmpdir();
  for (const name of readdirSync(tmp)) {
    const m = /^tscopg-cluster-(\d+)-/.exec(name);
    if (!m || alivePid(Number(m[1]))) continue;
    const dir = path.join(tmp, name);
    try {
      const pid = Number(readFileSync(path.join(dir, "postmaster.pid"), "utf8").split("\n")[0]);
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres")) process.kill(pid, "SIGQUIT");
    } catch {
      // no server there
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The server's command line: its settings (port, speed, replication) and any of the options'. */
function serverArgs(dataDir: string, port: number, settings: Record<string, string>): string[] {
  const all: Record<string, string> = {
    port: String(port),
    listen_addresses: HOST,
    unix_socket_directories: "",
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    shared_buffers: "16MB",
    max_connections: "100",
    wal_level: "replica",
    max_wal_senders: "8",
    max_replication_slots: "8",
    wal_keep_size: "128MB",
    hot_standby: "on",
    logging_collector: "off",
    ...settings,
  };
  return ["-D", dataDir, ...Object.entries(all).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
}

/** Connects as the superuser (retrying is the caller's business). */
async function connect(port: number): Promise<pg.Client> {
  const client = new pg.Client({ host: HOST, port, user: "postgres", database: "postgres", connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/**
 * Starts a throwaway cluster: a new primary, or with `replicaOf` a streaming replica of one (see the module
 * description). Resolves when it accepts connections.
 * @throws Error when initdb, pg_basebackup or the server fail (with the server's last log lines).
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  sweepLeftovers();
  const user = serverUser();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  if (user) chownSync(dataDir, user.uid, user.gid);
  const settings = options.settings ?? {};
  const recent: string[] = [];
  let proc: ChildProcess | undefined;
  let port = 0;
  let removed: Promise<void> | undefined;

  const live: LiveServer = { dataDir, child: () => proc, cleanupInit: () => undefined, stop: () => cluster.remove() };
  track(live);

  const isRunning = (p: ChildProcess | undefined): p is ChildProcess => p !== undefined && p.exitCode === null && p.signalCode === null;

  const launch = (): ChildProcess => {
    const pdeath = ["--pdeathsig", "SIGQUIT"];
    const become = user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups"] : [];
    const child = spawn("setpriv", [...pdeath, ...become, "--", path.join(BIN, "postgres"), ...serverArgs(dataDir, port, settings)], {
      env: cleanEnv(),
      cwd: os.tmpdir(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let pending = "";
    const onData = (chunk: Buffer) => {
      const lines = (pending + chunk.toString("utf8")).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        recent.push(line);
        if (recent.length > 60) recent.shift();
        options.log?.(line);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    return child;
  };

  /** Starts the server and waits until it accepts connections (a standby: read-only ones). */
  const startServer = async (): Promise<void> => {
    if (isRunning(proc)) return;
    const child = (proc = launch());
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!isRunning(child)) throw new Error(`cluster: PostgreSQL on port ${port} exited while starting\n${recent.join("\n")}`);
      try {
        await (await connect(port)).end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`cluster: PostgreSQL on port ${port} did not accept connections\n${recent.join("\n")}`);
        await sleep(25);
      }
    }
  };

  /** Sends `signal` and waits for the server to exit. */
  const signalAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    const child = proc;
    if (!isRunning(child)) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const escalate = setTimeout(() => child.kill("SIGQUIT"), 15_000);
    try {
      await exited;
    } finally {
      clearTimeout(escalate);
    }
  };

  const cluster: Cluster = {
    host: HOST,
    get port() {
      return port;
    },
    get url() {
      return `postgresql://postgres@${HOST}:${port}/postgres`;
    },
    dataDir,
    replicaOf: options.replicaOf,
    get running() {
      return isRunning(proc);
    },
    start: startServer,
    stop: () => signalAndWait("SIGINT"),
    kill: () => signalAndWait("SIGQUIT"),
    async restart() {
      await signalAndWait("SIGINT");
      await startServer();
    },
    async promote() {
      await cluster.query("SELECT pg_promote(true, 60)");
    },
    async waitForReplay(timeoutMs = 30_000) {
      const primary = options.replicaOf;
      if (primary === undefined) return;
      const [{ lsn }] = await primary.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [row] = await cluster.query<{ done: boolean }>("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done", [lsn]);
        if (row?.done) return;
        if (Date.now() > deadline) throw new Error(`cluster: the replica on port ${port} did not replay up to ${lsn}`);
        await sleep(20);
      }
    },
    async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
      const client = await connect(port);
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    recentLog: () => recent.join("\n"),
    remove() {
      return (removed ??= (async () => {
        try {
          await signalAndWait("SIGQUIT");
          await rm(dataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
        } finally {
          untrack(live);
        }
      })());
    },
  };

  try {
    if (options.replicaOf !== undefined) {
      const primary = options.replicaOf;
      await runTool("pg_basebackup", ["-h", HOST, "-p", String(primary.port), "-U", "postgres", "-D", dataDir, "-R", "-X", "stream", "-c", "fast", "--no-sync"]);
    } else {
      await runTool("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"]);
      const hba = [
        ...(options.hba ?? []),
        "local all all trust",
        `host all all ${HOST}/32 trust`,
        `host replication all ${HOST}/32 trust`,
      ];
      const file = path.join(dataDir, "pg_hba.conf");
      writeFileSync(file, `${hba.join("\n")}\n`);
      if (user) chownSync(file, user.uid, user.gid);
    }
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await startServer();
        break;
      } catch (err) {
        const taken = /could not bind|could not create listen socket|address already in use/i.test(recent.join("\n"));
        if (!taken || attempt >= 3) throw err;
        recent.length = 0;
      }
    }
  } catch (err) {
    await cluster.remove().catch(() => undefined);
    throw err;
  }
  return cluster;
}

/** Whether this machine can run {@link startCluster} (the binaries and `setpriv` exist). */
export function clustersAvailable(): boolean {
  return existsSync(path.join(BIN, "postgres")) && existsSync(path.join(BIN, "initdb")) && ["/usr/bin/setpriv", "/bin/setpriv"].some((p) => existsSync(p));
}
