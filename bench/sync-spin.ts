/**
 * `npx tsx bench/sync-spin.ts`: sequential sync round trips (`db.fetchVal("SELECT 1")`) on a quiet machine and
 * with busy-loop processes eating CPU cores, to check how the blocked main thread's spin-then-wait behaves when
 * spinning does not pay. Prints queries/s; asserts nothing.
 *
 * A shared machine is rarely quiet: on Linux, a window is kept only when processes other than this one, its
 * PostgreSQL backend and the busy loops used at most BENCH_MAX_OUTSIDE % of a core meanwhile (from /proc); the
 * rest are counted as rejected and rerun, up to BENCH_MINUTES per case.
 *
 * Options: BENCH_WINDOW ms (default 1000), BENCH_WINDOWS kept per case (default 5, median printed), BENCH_HOGS
 * the cases, as the CPU cores the busy loops take (default "0,1,0.65": quiet, one core, 65 % of a core; a
 * fraction is a loop busy that share of each 10 ms), BENCH_MAX_OUTSIDE (default 8), BENCH_MINUTES (default 5),
 * TSCOPG_SYNC_SPIN (the spin limit, read by the bridge and the worker).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Database } from "../src/index.js";
import { resolveServer } from "../src/embedded/server.js";

const WINDOW_MS = Number(process.env.BENCH_WINDOW ?? 1000);
const WANT = Number(process.env.BENCH_WINDOWS ?? 5);
const HOGS = (process.env.BENCH_HOGS ?? "0,1,0.65").split(",").map(Number);
const MAX_OUTSIDE = Number(process.env.BENCH_MAX_OUTSIDE ?? 8);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 5);
const proc = existsSync("/proc/stat");

const server = await resolveServer({ probeLocal: true });
const db = Database.fromUrl(server.url);
const backend = Number(db.fetchVal("SELECT pg_backend_pid()"));

/** CPU ticks (user + system) of process `pid`, 0 when it cannot be read. */
function ticksOf(pid: number | "self"): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Busy CPU ticks of the whole machine. */
function busyTicks(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return user! + nice! + system! + irq! + softirq! + steal!;
}

/** A process busy `share` of a core (1: all of it). */
function hog(share: number): ChildProcess {
  const busyMs = share * 10;
  const code =
    share >= 1
      ? "for (;;);"
      : `const tick = () => { const t = performance.now(); while (performance.now() - t < ${busyMs}); setTimeout(tick, ${10 - busyMs}); }; tick();`;
  return spawn(process.execPath, ["-e", code], { stdio: "ignore" });
}

/** One window of round trips: queries/s, and the CPU others used meanwhile (% of a core; 0 without /proc). */
function window(hogs: ChildProcess[]): { qps: number; outside: number } {
  const ours = () => ticksOf("self") + ticksOf(backend) + hogs.reduce((sum, h) => sum + ticksOf(h.pid!), 0);
  const [b0, o0] = proc ? [busyTicks(), ours()] : [0, 0];
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < WINDOW_MS) {
    db.fetchVal("SELECT 1");
    n++;
  }
  const secs = (performance.now() - t0) / 1000;
  const outside = proc ? (busyTicks() - b0 - (ours() - o0)) / secs : 0;
  return { qps: n / secs, outside };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`sync fetchVal("SELECT 1"), sequential; ${WINDOW_MS} ms windows, median of ${WANT}; node ${process.version}`);
for (const cores of HOGS) {
  const hogs: ChildProcess[] = [];
  for (let left = cores; left > 0; left -= 1) hogs.push(hog(Math.min(1, left)));
  await sleep(300);
  const kept: number[] = [];
  let rejected = 0;
  const deadline = Date.now() + MINUTES * 60_000;
  try {
    window(hogs); // warm-up
    while (kept.length < WANT && Date.now() < deadline) {
      const w = window(hogs);
      if (w.outside <= MAX_OUTSIDE) kept.push(w.qps);
      else rejected++;
    }
  } finally {
    for (const h of hogs) h.kill("SIGKILL");
  }
  const label = cores === 0 ? "quiet" : `busy loops: ${cores} core${cores === 1 ? "" : "s"}`;
  const rate = kept.length > 0 ? `${Math.round(median(kept))} q/s` : "no quiet window";
  console.log(`${label.padEnd(22)} ${rate.padStart(10)}  (kept: ${kept.map(Math.round).join(", ")}; rejected ${rejected})`);
  await sleep(300);
}
db.close();
