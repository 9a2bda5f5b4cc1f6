/**
 * Bench section "pool" (issue 16): connection pools side by side. Concurrent `SELECT $1::int` (a fresh int each
 * call, its answer checked) over 10 connections, with 1, 10, 100 and 1000 calls in flight: that many async workers,
 * each awaiting one call at a time until the round's shared count of calls is used up. Rounds interleaved
 * (every candidate, then again), the median of each candidate's `BENCH_RUNS` rounds kept.
 *
 * Candidates: tscopg `AsyncPooledDatabase` (10), tscopg `AsyncDatabase` (its one shared pipelined connection: a
 * reference line, not a peer), node-postgres `Pool` (max 10), 10 node-postgres `Client`s in pipeline mode (round
 * robin), postgres.js with `max: 10` and `max: 1` (its defaults otherwise: prepared statements, pipelining).
 * pycopg's `AsyncPooledDatabase` cannot run here: its figures from the issue are printed as a fixed line; pgbench
 * (`-M prepared -c 10`, the C ceiling) runs when installed, and has 10 calls in flight.
 *
 * Then the same candidates with statements the server spends real time on (`HEAVY`, 50 in flight), where spreading
 * over connections matters instead of pipelining depth.
 *
 * `BENCH_POOL_QUERIES` (default 20000): calls per round at 10, 100 and 1000 in flight; a quarter of it at 1.
 * `BENCH_POOL_HEAVY_QUERIES` (default 6000): calls per round of the heavy workload.
 * `BENCH_POOL_ROUND_LIMIT_MS` (default 60000): a round taking longer fails its candidate, which is left out after.
 * @module
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import postgres from "postgres";
import { AsyncDatabase, AsyncPooledDatabase, Config } from "../src/index.js";
import { rate, ratio, RUNS, type BenchSection } from "./common.js";

const QUERIES = Number(process.env.BENCH_POOL_QUERIES ?? 20_000);
/** Calls in flight. */
const LEVELS = [1, 10, 100, 1000] as const;
const SIZE = 10;
/** A round that takes longer than this (ms) counts as a failure of its candidate. */
const ROUND_LIMIT = Number(process.env.BENCH_POOL_ROUND_LIMIT_MS ?? 60_000);
/** pycopg `AsyncPooledDatabase` (psycopg_pool, 10 connections) as measured in the issue (q/s by level); PyPI is
 * unreachable here. */
const PYCOPG: Record<number, number> = { 1: 3_400, 10: 6_700, 100: 5_700, 1000: 4_800 };
const PYCOPG_NAME = "pycopg AsyncPooledDatabase (10)";
const APP = `tscopg-bench-pool-${process.pid}`;

const callsAt = (inFlight: number) => (inFlight === 1 ? Math.ceil(QUERIES / 4) : QUERIES);

/** One call: `SELECT <i>::int`, resolving to the int the server sent back. */
type Call = (i: number) => Promise<unknown>;
/** Handles of an opened candidate: the quick call, the heavy one (same answer), and closing. */
interface Opened {
  call: Call;
  heavy: Call;
  close(): Promise<unknown>;
}

/**
 * A statement the server spends real time on (about 0.2 ms here) and that still answers `$1`: the workload where
 * spreading over connections (server processes) matters, unlike `SELECT $1::int`.
 */
const HEAVY = "SELECT $1::int + (SELECT count(*) FROM generate_series(1, 3000))::int - 3000 AS int4";
const HEAVY_IN_FLIGHT = 50;
const HEAVY_CALLS = Number(process.env.BENCH_POOL_HEAVY_QUERIES ?? 6000);

interface Contender {
  name: string;
  /** The pool under test, tscopg's reference line, or a peer (only peers count for "best peer"). */
  role: "pool" | "reference" | "peer";
  /** Opens the candidate's connections; `app` is the application_name its connections show. */
  open(url: string, app: string): Promise<Opened>;
}

const contenders: Contender[] = [
  {
    name: `tscopg AsyncPooledDatabase (${SIZE})`,
    role: "pool",
    async open(url, app) {
      const pool = new AsyncPooledDatabase(Config.fromUrl(url).with({ applicationName: app }), { minSize: SIZE, maxSize: SIZE });
      const opener = (pool as { open?: () => Promise<unknown> }).open;
      if (typeof opener === "function") await opener.call(pool);
      return { call: (i) => pool.fetchVal("SELECT $1::int", [i]), heavy: (i) => pool.fetchVal(HEAVY, [i]), close: () => pool.close() };
    },
  },
  {
    name: "tscopg AsyncDatabase (1 pipelined)",
    role: "reference",
    async open(url, app) {
      const db = new AsyncDatabase(Config.fromUrl(url).with({ applicationName: app }));
      return { call: (i) => db.fetchVal("SELECT $1::int", [i]), heavy: (i) => db.fetchVal(HEAVY, [i]), close: () => db.close() };
    },
  },
  {
    name: `pg Pool (max ${SIZE})`,
    role: "peer",
    async open(url, app) {
      const pool = new pg.Pool({ connectionString: url, max: SIZE, application_name: app });
      return {
        call: async (i) => (await pool.query<{ int4: number }>("SELECT $1::int", [i])).rows[0]?.int4,
        heavy: async (i) => (await pool.query<{ int4: number }>(HEAVY, [i])).rows[0]?.int4,
        close: () => pool.end(),
      };
    },
  },
  {
    name: `pg pipelined Client ×${SIZE}`,
    role: "peer",
    async open(url, app) {
      const clients = Array.from({ length: SIZE }, () => new pg.Client({ connectionString: url, pipeline: true, application_name: app }));
      const close = () => Promise.allSettled(clients.map((c) => c.end()));
      try {
        await Promise.all(clients.map((c) => c.connect()));
      } catch (err) {
        await close();
        throw err;
      }
      let next = 0;
      return {
        call: async (i) => (await clients[next++ % SIZE]!.query<{ int4: number }>("SELECT $1::int", [i])).rows[0]?.int4,
        heavy: async (i) => (await clients[next++ % SIZE]!.query<{ int4: number }>(HEAVY, [i])).rows[0]?.int4,
        close,
      };
    },
  },
  ...[SIZE, 1].map(
    (max): Contender => ({
      name: `postgres.js (max ${max})`,
      role: "peer",
      async open(url, app) {
        const sql = postgres(url, { max, connection: { application_name: app }, onnotice: () => {} });
        return {
          call: async (i) => (await sql<{ int4: number }[]>`SELECT ${i}::int`)[0]?.int4,
          heavy: async (i) => (await sql.unsafe<{ int4: number }[]>(HEAVY, [i], { prepare: true }))[0]?.int4,
          close: () => sql.end({ timeout: 5 }),
        };
      },
    }),
  ),
];

/** Makes `total` calls with `inFlight` workers; q/s. The first failure stops every worker and is thrown. */
async function drive(call: Call, total: number, inFlight: number): Promise<number> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < total && failure === undefined) {
      const i = next++;
      try {
        const v = await call(i);
        if (v !== i) throw new Error(`SELECT ${i}::int answered ${String(v)}`);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      failure ??= { err: new Error(`round not done after ${ROUND_LIMIT} ms`) };
      resolve();
    }, ROUND_LIMIT);
  });
  await Promise.race([Promise.all(Array.from({ length: inFlight }, worker)), limit]);
  clearTimeout(timer);
  if (failure !== undefined) throw failure.err;
  return rate(total, t0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const message = (err: unknown) => (err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err));

/** pgbench with 10 clients on 2 threads, prepared statements, 5 s: q/s, or `undefined` when pgbench is missing or fails. */
async function pgbench(url: string): Promise<number | undefined> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tscopg-bench-pool-"));
  try {
    const script = path.join(dir, "select.sql");
    writeFileSync(script, "\\set r random(1, 1000000)\nSELECT :r::int;\n");
    // The connection settings go through the environment: the password stays out of argv.
    const c = Config.fromUrl(url);
    const env = { ...process.env, PGHOST: c.host, PGPORT: String(c.port), PGDATABASE: c.database, PGUSER: c.user, PGPASSWORD: typeof c.password === "string" ? c.password : "" };
    const { stdout } = await promisify(execFile)("pgbench", ["-n", "-M", "prepared", "-c", String(SIZE), "-j", "2", "-T", "5", "-f", script], { env });
    const m = /tps = ([\d.]+)/.exec(stdout);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Closes a candidate, waiting at most 5 s (one stuck mid-round may never close). */
function closeSoon(h: Opened | undefined): Promise<unknown> {
  return Promise.race([h?.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
}

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "—" : Math.round(v).toLocaleString("en-US"));

export const bench: BenchSection = async ({ url, raw, record }) => {
  // Open and warm every candidate: all its connections opened (1000 in flight), the JIT warmed (1 and 10 in flight).
  const open: (Opened | undefined)[] = [];
  const errors: (string | undefined)[] = [];
  const fail = (k: number, workload: string, err: unknown) => {
    errors[k] = message(err);
    console.log(`  ${workload.padEnd(34)} ${contenders[k]!.name.padEnd(34)} error: ${errors[k]} (left out from here on)`);
    const h = open[k];
    open[k] = undefined;
    return closeSoon(h);
  };
  for (const [k, c] of contenders.entries()) {
    try {
      open[k] = await c.open(url, `${APP}-${k}`);
      await drive(open[k]!.call, 5000, 1000);
      await drive(open[k]!.call, 2000, 10);
      await drive(open[k]!.call, 500, 1);
    } catch (err) {
      await fail(k, "pool warm-up", err);
    }
  }
  const counts = await raw.query<{ app: string; n: number }>(
    "SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1 GROUP BY 1",
    [`${APP}-%`],
  );
  const conns = contenders.map((_, k) => counts.rows.find((r) => r.app === `${APP}-${k}`)?.n ?? 0);
  console.log(`  pool connections after warm-up: ${contenders.map((c, k) => `${c.name} ${conns[k]}`).join(", ")}`);

  const medians: number[][] = contenders.map(() => []);
  const heavyMedians: number[] = contenders.map(() => NaN);
  let ceiling: number | undefined;
  try {
    for (const inFlight of LEVELS) {
      const workload = `pool, ${inFlight} in flight`;
      const samples: number[][] = contenders.map(() => []);
      for (let r = 0; r < RUNS; r++) {
        for (const [k, h] of open.entries()) {
          if (h === undefined) continue;
          try {
            samples[k]!.push(await drive(h.call, callsAt(inFlight), inFlight));
          } catch (err) {
            await fail(k, workload, err);
          }
        }
      }
      contenders.forEach((c, k) => {
        medians[k]!.push(open[k] === undefined ? NaN : median(samples[k]!));
        if (open[k] !== undefined) record(workload, c.name, medians[k]!.at(-1)!, "q/s");
      });
      if (inFlight === SIZE) {
        ceiling = await pgbench(url);
        if (ceiling === undefined) console.log("  (pgbench not available: no C ceiling this run)");
        else record(workload, "pgbench -M prepared -c 10 -j 2", ceiling, "q/s");
      }
    }
    const workload = `pool, heavy, ${HEAVY_IN_FLIGHT} in flight`;
    const samples: number[][] = contenders.map(() => []);
    for (let r = 0; r < RUNS + 1; r++) {
      for (const [k, h] of open.entries()) {
        if (h === undefined) continue;
        try {
          const q = await drive(h.heavy, HEAVY_CALLS, HEAVY_IN_FLIGHT);
          if (r > 0) samples[k]!.push(q); // the first round warms up (and lets the pool find its spread)
        } catch (err) {
          await fail(k, workload, err);
        }
      }
    }
    contenders.forEach((c, k) => {
      heavyMedians[k] = open[k] === undefined ? NaN : median(samples[k]!);
      if (open[k] !== undefined) record(workload, c.name, heavyMedians[k]!, "q/s");
    });
  } finally {
    await Promise.all(open.map(closeSoon));
  }

  // The table: candidates × levels.
  const row = (label: string, conns: string, cells: string[]) =>
    `  ${label.padEnd(56)} ${conns.padStart(5)}${cells.map((c) => ` ${c.padStart(9)}`).join("")}`.trimEnd();
  console.log(`\npool: SELECT $1::int, q/s (median of ${RUNS} rounds), by calls in flight; conns: open after warm-up`);
  console.log(row("candidate", "conns", LEVELS.map(String)));
  contenders.forEach((c, k) => {
    console.log(row(c.name, String(conns[k]), LEVELS.map((_, l) => fmt(medians[k]![l]))));
    if (errors[k] !== undefined) console.log(`    error: ${errors[k]}`);
  });
  console.log(row(`${PYCOPG_NAME}, measured, not run here`, String(SIZE), LEVELS.map((l) => fmt(PYCOPG[l]))));
  if (ceiling !== undefined) {
    const label = `pgbench -M prepared -c ${SIZE} -j 2 (C ceiling, ${SIZE} in flight)`;
    console.log(row(label, String(SIZE), LEVELS.map((l) => (l === SIZE ? fmt(ceiling) : ""))));
  }
  console.log(`\npool, heavy statements (about 0.2 ms of server time each), ${HEAVY_IN_FLIGHT} in flight, q/s (median of ${RUNS} rounds)`);
  contenders.forEach((c, k) => console.log(row(c.name, "", [fmt(heavyMedians[k])])));

  // Ratios: the tscopg pool against the best peer at each level, and against pycopg.
  const lines: string[] = [];
  const mine = medians[contenders.findIndex((c) => c.role === "pool")]!;
  LEVELS.forEach((inFlight, l) => {
    const ours = mine[l] ?? NaN;
    let best = -1;
    contenders.forEach((c, k) => {
      const v = medians[k]![l] ?? NaN;
      if (c.role === "peer" && Number.isFinite(v) && (best < 0 || v > medians[best]![l]!)) best = k;
    });
    const peer = best < 0 ? NaN : medians[best]![l]!;
    const peerName = best < 0 ? "no peer ran" : `${contenders[best]!.name}, ${fmt(peer)} q/s`;
    lines.push(`  pool vs best peer, ${`${inFlight} in flight`.padEnd(16)} ${ratio(ours, peer)}  [${peerName}]`);
    lines.push(`  pool vs pycopg pool, ${`${inFlight} in flight`.padEnd(14)} ${ratio(ours, PYCOPG[inFlight]!)}  [pycopg ${fmt(PYCOPG[inFlight])} q/s, measured, not run here]`);
  });
  if (ceiling !== undefined) lines.push(`  pool vs pgbench -c ${SIZE}, ${SIZE} in flight ${ratio(mine[LEVELS.indexOf(SIZE)] ?? NaN, ceiling)}  [C ceiling]`);
  let bestHeavy = -1;
  contenders.forEach((c, k) => {
    if (c.role === "peer" && Number.isFinite(heavyMedians[k]!) && (bestHeavy < 0 || heavyMedians[k]! > heavyMedians[bestHeavy]!)) bestHeavy = k;
  });
  const ownHeavy = heavyMedians[contenders.findIndex((c) => c.role === "pool")] ?? NaN;
  const heavyPeer = bestHeavy < 0 ? NaN : heavyMedians[bestHeavy]!;
  lines.push(`  pool vs best peer, heavy, ${HEAVY_IN_FLIGHT} in flight ${ratio(ownHeavy, heavyPeer)}  [${bestHeavy < 0 ? "no peer ran" : `${contenders[bestHeavy]!.name}, ${fmt(heavyPeer)} q/s`}]`);
  return lines;
};
