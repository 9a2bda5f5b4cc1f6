/**
 * Test support: runs Node in a child process (against the server under test) and collects its exit and output.
 */
import { spawn } from "node:child_process";
import { serverUrl } from "./db.js";

export interface ChildResult {
  /** The exit code, `signal …` when killed by a signal, or "timeout" when it had to be killed. */
  code: number | string | null;
  out: string;
  err: string;
  /** Wall time in milliseconds. */
  ms: number;
}

/** Runs `node …args` with DATABASE_URL and `env` set (NODE_OPTIONS cleared), killing it after `timeoutMs`. */
export function runNode(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ChildResult> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, NODE_OPTIONS: "", DATABASE_URL: serverUrl(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d));
  child.stderr.on("data", (d: Buffer) => (err += d));
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? "timeout" : (code ?? `signal ${signal}`), out, err, ms: Math.round(performance.now() - t0) });
    });
  });
}

/** The JSON line a fixture printed, or an assertion-friendly error with its output. */
export function parseOutput(r: ChildResult): unknown {
  try {
    return JSON.parse(r.out.trim());
  } catch {
    throw new Error(`exit ${r.code}, no JSON output:\n${r.out}\n${r.err}`);
  }
}
