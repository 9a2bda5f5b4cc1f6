/**
 * `npm test`: picks a PostgreSQL server (DATABASE_URL / PG* variables, else the local server on 127.0.0.1:5432, else an
 * embedded one), then runs the test files with Node's test runner against it.
 *
 *   npm test                          all test/**\/*.test.ts
 *   npm test -- test/core.test.ts     only the given files
 *
 * The test processes get DATABASE_URL=<the server> and TSCOPG_TEST_SERVER=<env|local|embedded>.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { resolveServer, type ResolvedServer } from "../src/embedded/server.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const prefix = "[tscopg test]";

/** All `*.test.ts` files under `dir`, recursively (skipping node_modules and dot directories). */
function findTestFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith(".test.ts")) found.push(full);
    }
  };
  walk(dir);
  return found.map((file) => path.relative(process.cwd(), file)).sort();
}

/** The URL with its password (in the authority or as a `password=` parameter) replaced by `***`. */
function redact(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:)[^@/?#]*@/i, "$1***@")
    .replace(/([?&]password=)[^&#]*/gi, "$1***");
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? os.constants.signals[signal] : undefined;
  return number ? 128 + number : 1;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = args.length > 0 ? args : findTestFiles(path.join(root, "test"));
  if (files.length === 0) {
    console.error(`${prefix} no test files found under ${path.join(root, "test")}`);
    return 1;
  }

  let server: ResolvedServer | undefined;
  let child: ChildProcess | undefined;
  let interrupted: NodeJS.Signals | undefined;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      // Second signal: give up waiting. (The embedded server's own exit hook still stops it.)
      child?.kill("SIGKILL");
      process.exit(exitCodeOf(null, signal));
    }
    interrupted = signal;
    console.error(`\n${prefix} ${signal}: stopping the tests${server?.source === "embedded" ? " and the embedded server" : ""}…`);
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    const started = performance.now();
    server = await resolveServer();
    const took = ((performance.now() - started) / 1000).toFixed(2);
    const what = { env: "server from the environment", local: "local server", embedded: "embedded server" }[server.source];
    console.log(
      `${prefix} using ${what} (${server.source}): ${redact(server.url)}` + (server.source === "embedded" ? ` (started in ${took} s)` : ""),
    );
    if (interrupted) return exitCodeOf(null, interrupted);

    const nodeArgs = ["--import", "tsx", "--test", "--test-concurrency=2", ...files];
    const running = spawn(process.execPath, nodeArgs, {
      stdio: "inherit",
      env: { ...process.env, DATABASE_URL: server.url, TSCOPG_TEST_SERVER: server.source },
    });
    child = running;
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      running.once("error", reject);
      running.once("exit", (c, s) => resolve([c, s]));
    });
    if (interrupted) return exitCodeOf(null, interrupted);
    return exitCodeOf(code, signal);
  } finally {
    if (server) {
      try {
        await server.stop();
      } catch (err) {
        console.error(`${prefix} could not stop the server:`, err);
      }
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`${prefix}`, err);
    process.exit(1);
  },
);
