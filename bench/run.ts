/**
 * `npm run bench`: tscopg side by side with raw node-postgres (and pgbench, the C ceiling, when installed),
 * same run, same server. Prints rates and ratios; asserts nothing (speed is measured here, not in tests).
 *
 * Options: BENCH_ROWS (default 1000000), BENCH_QUERIES (default 20000), BENCH_TX (default 5000), BENCH_RUNS (default 3,
 * best kept; the pool section keeps the median), BENCH_POOL_QUERIES (default 20000), BENCH_ONLY (sections).
 */
import { execFileSync } from "node:child_process";
import pg from "pg";
import { AsyncDatabase, Database } from "../src/index.js";
import { resolveServer } from "../src/embedded/server.js";
import { interleaved, rate, ratio, RUNS, type Candidate } from "./common.js";
import { dataSections } from "./data/index.js";
import { bench as pool } from "./pool.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 20_000);
const TXS = Number(process.env.BENCH_TX ?? 5_000);

/** pycopg 0.10.1 on this kind of machine (psycopg 3.3 C build), from DEVELOPERS.md: the first bar. */
const PYCOPG = { seqSession: 4_900, seqPerCall: 370, read1M: 1_140_000 };

/** `BENCH_ONLY=core,copy,bulk,stream,pool`: only those sections (default: all). */
const ONLY = process.env.BENCH_ONLY?.split(",").map((x) => x.trim());
const want = (name: string) => ONLY === undefined || ONLY.includes(name);
const ratioLines: string[] = [];

const server = await resolveServer({ probeLocal: true });
console.log(`server: ${server.source}; runs: best of ${RUNS}; node ${process.version}`);

const raw = new pg.Client({ connectionString: server.url });
await raw.connect();
const adb = AsyncDatabase.fromUrl(server.url);
const sdb = Database.fromUrl(server.url);

const results: { workload: string; name: string; value: number; unit: string }[] = [];
const get = (w: string, n: string) => results.find((r) => r.workload.startsWith(w) && r.name.startsWith(n))?.value ?? NaN;
const record = (workload: string, name: string, value: number, unit: string) => {
  results.push({ workload, name, value, unit });
  console.log(`  ${workload.padEnd(34)} ${name.padEnd(34)} ${Math.round(value).toLocaleString("en-US").padStart(12)} ${unit}`);
};

try {
  if (want("core")) {
    // warm-up: connections, worker, JIT
    for (let i = 0; i < 2000; i++) {
      await raw.query("SELECT $1::int", [i]);
      await adb.fetchVal("SELECT $1::int", [i]);
      sdb.fetchVal("SELECT $1::int", [i]);
    }

    // Interleaved rounds (raw, async, sync, raw, …), best of each: a noisy neighbour hurts all three alike.
    const seq = "sequential SELECT $1::int";
    const seqCandidates: Candidate[] = [
      ["raw pg (async, await each)", async () => {
        const t0 = performance.now();
        for (let i = 0; i < QUERIES; i++) await raw.query("SELECT $1::int", [i]);
        return rate(QUERIES, t0);
      }],
      ["tscopg AsyncDatabase.fetchVal", async () => {
        const t0 = performance.now();
        for (let i = 0; i < QUERIES; i++) await adb.fetchVal("SELECT $1::int", [i]);
        return rate(QUERIES, t0);
      }],
      ["tscopg Database.fetchVal (sync)", () => {
        const t0 = performance.now();
        for (let i = 0; i < QUERIES; i++) sdb.fetchVal("SELECT $1::int", [i]);
        return rate(QUERIES, t0);
      }],
    ];
    const seqBest = await interleaved(seqCandidates, RUNS + 2);
    seqCandidates.forEach(([name], k) => record(seq, name, seqBest[k]!, "q/s"));
    try {
      const out = execFileSync(
        "bash",
        ["-c", `printf 'SELECT 1;\\n' > /tmp/tscopg-bench.sql && pgbench -n -c 1 -T 5 -f /tmp/tscopg-bench.sql "$BENCH_URL" 2>/dev/null`],
        { env: { ...process.env, BENCH_URL: server.url }, encoding: "utf8" },
      );
      const m = /tps = ([\d.]+)/.exec(out);
      if (m) record(seq, "pgbench -c 1 (C ceiling)", Number(m[1]), "q/s");
    } catch {
      console.log("  (pgbench not available: no C ceiling this run)");
    }

    // Transactions on a dedicated connection, one after the other: what taking, using and giving back a connection
    // costs next to the three statements themselves.
    const txw = "transaction throughput, sequential";
    const txCandidates: Candidate[] = [
      ["raw pg BEGIN; SELECT 1; COMMIT", async () => {
        const t0 = performance.now();
        for (let i = 0; i < TXS; i++) {
          await raw.query("BEGIN");
          await raw.query("SELECT 1");
          await raw.query("COMMIT");
        }
        return rate(TXS, t0);
      }],
      ["tscopg db.transaction(tx.fetchVal)", async () => {
        const t0 = performance.now();
        for (let i = 0; i < TXS; i++) await adb.transaction(async (tx) => tx.fetchVal("SELECT 1"));
        return rate(TXS, t0);
      }],
    ];
    (await interleaved(txCandidates, RUNS + 2)).forEach((v, k) => record(txw, txCandidates[k]![0], v, "tx/s"));

    const read = `read ${ROWS.toLocaleString("en-US")} rows x 3 cols (int, float8, text) as objects`;
    // A real table, as pycopg's and the raw drivers' figures were taken: the server only reads, it computes nothing.
    const table = `tscopg_bench_read_${ROWS}`;
    if (!(await adb.fetchVal<boolean>("SELECT to_regclass($1) IS NOT NULL", [table]))) {
      await adb.execute(
        `CREATE TABLE ${table} AS SELECT i AS id, i * 1.5::float8 AS val, 'label-' || i AS label FROM generate_series(1, ${ROWS}) i`,
      );
      await adb.execute(`VACUUM ANALYZE ${table}`);
    }
    const readSql = `SELECT id, val, label FROM ${table}`;
    const readCandidates: Candidate[] = [
      ["raw pg client.query", async () => {
        const t0 = performance.now();
        const r = await raw.query(readSql);
        if (r.rows.length !== ROWS) throw new Error("short read");
        return rate(ROWS, t0);
      }],
      ["tscopg AsyncDatabase.execute", async () => {
        const t0 = performance.now();
        const rows = await adb.execute(readSql);
        if (rows.length !== ROWS) throw new Error("short read");
        return rate(ROWS, t0);
      }],
      ["tscopg Database.execute (sync)", () => {
        const t0 = performance.now();
        const rows = sdb.execute(readSql);
        if (rows.length !== ROWS) throw new Error("short read");
        return rate(ROWS, t0);
      }],
    ];
    (await interleaved(readCandidates)).forEach((v, k) => record(read, readCandidates[k]![0], v, "rows/s"));

    // Iterating a cursor's rows, timed alone (its execute, which reads the rows into the worker, is not) and with
    // the execute (what a script waits for): the sync loop gets its rows in batches.
    const iter = `iterate ${ROWS.toLocaleString("en-US")} cursor rows`;
    const iterTotal = `execute + iterate ${ROWS.toLocaleString("en-US")} cursor rows`;
    const acur = await adb.cursor();
    const scur = sdb.cursor();
    const withExecute = [0, 0];
    const iterCandidates: Candidate[] = [
      ["tscopg AsyncCursor for await", async () => {
        const t0 = performance.now();
        await acur.execute(readSql);
        const t1 = performance.now();
        let n = 0;
        for await (const row of acur) if (row.id !== undefined) n++;
        if (n !== ROWS) throw new Error("short read");
        withExecute[0] = Math.max(withExecute[0]!, rate(ROWS, t0));
        return rate(ROWS, t1);
      }],
      ["tscopg Cursor for...of (sync)", () => {
        const t0 = performance.now();
        scur.execute(readSql);
        const t1 = performance.now();
        let n = 0;
        for (const row of scur) if (row.id !== undefined) n++;
        if (n !== ROWS) throw new Error("short read");
        withExecute[1] = Math.max(withExecute[1]!, rate(ROWS, t0));
        return rate(ROWS, t1);
      }],
    ];
    (await interleaved(iterCandidates)).forEach((v, k) => record(iter, iterCandidates[k]![0], v, "rows/s"));
    iterCandidates.forEach(([name], k) => record(iterTotal, name, withExecute[k]!, "rows/s"));
    await acur.close();
    scur.close();
    await adb.execute(`DROP TABLE IF EXISTS ${table}`);

    const conc = "10,000 concurrent SELECT $1::int";
    const rawPipe = new pg.Client({ connectionString: server.url, pipeline: true } as pg.ClientConfig);
    await rawPipe.connect();
    const concCandidates: Candidate[] = [
      ["raw pg (1 conn, pipeline mode)", async () => {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 10_000 }, (_, i) => rawPipe.query("SELECT $1::int", [i])));
        return rate(10_000, t0);
      }],
      ["tscopg (1 conn, pipelined)", async () => {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 10_000 }, (_, i) => adb.fetchVal("SELECT $1::int", [i])));
        return rate(10_000, t0);
      }],
    ];
    (await interleaved(concCandidates, RUNS + 2)).forEach((v, k) => record(conc, concCandidates[k]![0], v, "q/s"));
    await rawPipe.end();
  }
  for (const [name, section] of [...dataSections, ["pool", pool] as const]) {
    if (want(name)) ratioLines.push(...(await section({ url: server.url, raw, adb, sdb, record, get })));
  }
} finally {
  sdb.close();
  await adb.close();
  await raw.end();
  await server.stop();
}

console.log("\nratios (target in brackets)");
if (want("core")) {
  console.log(`  async sequential vs raw pg          ${ratio(get("sequential", "tscopg Async"), get("sequential", "raw pg"))}  [>= 0.90x]`);
  console.log(`  sync sequential vs raw pg           ${ratio(get("sequential", "tscopg Database"), get("sequential", "raw pg"))}`);
  console.log(`  sync sequential vs pycopg session   ${ratio(get("sequential", "tscopg Database"), PYCOPG.seqSession)}  [>= 1.25x; pycopg 4.9k q/s, 370 q/s per-call]`);
  console.log(`  sync sequential, absolute           ${Math.round(get("sequential", "tscopg Database"))} q/s  [>= 8000]`);
  console.log(`  read 1M vs raw pg                   ${ratio(get("read", "tscopg Async"), get("read", "raw pg"))}  [>= 0.90x]`);
  console.log(`  read 1M vs pycopg                   ${ratio(get("read", "tscopg Async"), PYCOPG.read1M)}  [>= 1.25x; pycopg 1.14M rows/s]`);
  console.log(`  sync read vs async read             ${ratio(get("read", "tscopg Database"), get("read", "tscopg Async"))}  [>= 0.80x]`);
  console.log(`  sync read vs raw pg                 ${ratio(get("read", "tscopg Database"), get("read", "raw pg"))}`);
  console.log(`  sync cursor iteration vs async      ${ratio(get("iterate", "tscopg Cursor"), get("iterate", "tscopg AsyncCursor"))}  [>= 0.50x]`);
  console.log(`  sync cursor execute+iterate vs async ${ratio(get("execute + iterate", "tscopg Cursor"), get("execute + iterate", "tscopg AsyncCursor"))}`);
  console.log(`  transactions vs raw pg              ${ratio(get("transaction", "tscopg"), get("transaction", "raw pg"))}`);
  console.log(`  pipelined concurrent vs raw pg      ${ratio(get("10,000", "tscopg"), get("10,000", "raw pg"))}`);
}
for (const line of ratioLines) console.log(line);
