/**
 * Bench section "bulk" (issue 15): insertMany and insertBatch of 100k rows × (int, float8, text), async and sync,
 * against raw node-postgres multi-row `INSERT … VALUES` chunks (pycopg's `insert_batch` mechanism) and pycopg's best
 * `insert_batch` (336k rows/s, Debian's older stack). Also what the sync facade spends before the worker sees the
 * rows: the main thread's row check and encoding, and structured cloning. `BENCH_BULK_ROWS` (default 100000).
 * @module
 */
import { rowForWorker } from "../../src/features/bulk-rows.js";
import { interleaved, rate, ratio, type BenchSection, type Candidate } from "../common.js";

const N = Number(process.env.BENCH_BULK_ROWS ?? 100_000);
/** pycopg 0.10.1's best `insert_batch` on this machine (rows/s). */
const PYCOPG_INSERT_BATCH = 336_000;
const SCHEMA = `bench_bulk_${process.pid}`;
const TABLE = `"${SCHEMA}".t`;

export const bench: BenchSection = async ({ raw, adb, sdb, record, get }) => {
  const rows = Array.from({ length: N }, (_, i) => ({ a: i, b: i * 1.25, c: `name ${i}` }));
  await raw.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE; CREATE SCHEMA "${SCHEMA}"; CREATE TABLE ${TABLE} (a int, b float8, c text)`);
  const fresh = () => raw.query(`TRUNCATE ${TABLE}`);
  const timed = async (run: () => Promise<unknown> | unknown) => {
    await fresh();
    const t0 = performance.now();
    await run();
    return rate(N, t0);
  };
  const rawChunks = (size: number) => async () => {
    await raw.query("BEGIN");
    for (let s = 0; s < N; s += size) {
      const chunk = rows.slice(s, s + size);
      const values: unknown[] = [];
      const tuples = chunk.map((r, i) => {
        values.push(r.a, r.b, r.c);
        return `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`;
      });
      await raw.query(`INSERT INTO ${TABLE} (a, b, c) VALUES ${tuples.join(", ")}`, values);
    }
    await raw.query("COMMIT");
  };
  function* generated() {
    for (let i = 0; i < N; i++) yield { a: i, b: i * 1.25, c: `name ${i}` };
  }
  const opts = { schema: SCHEMA };
  const workload = `bulk insert ${N.toLocaleString("en-US")} × (int, float8, text)`;
  const candidates: Candidate[] = [
    ["raw pg VALUES chunks of 1,000", () => timed(rawChunks(1000))],
    ["raw pg VALUES chunks of 21,845", () => timed(rawChunks(21_845))],
    ["tscopg AsyncDatabase.insertMany", () => timed(() => adb.insertMany("t", rows, opts))],
    ["tscopg AsyncDatabase.insertBatch gen", () => timed(() => adb.insertBatch("t", generated(), opts))],
    ["tscopg AsyncDatabase.insertBatch 5000", () => timed(() => adb.insertBatch("t", generated(), { ...opts, batchSize: 5000 }))],
    ["tscopg Database.insertMany", () => timed(() => sdb.insertMany("t", rows, opts))],
    ["tscopg Database.insertBatch gen", () => timed(() => sdb.insertBatch("t", generated(), opts))],
    ["sync main thread: check + encode", () => {
      const t0 = performance.now();
      rows.map((r, i) => rowForWorker("insertMany", r, i));
      return rate(N, t0);
    }],
    ["sync main thread: structuredClone", () => {
      const t0 = performance.now();
      structuredClone(rows);
      return rate(N, t0);
    }],
  ];
  try {
    (await interleaved(candidates)).forEach((v, k) => record(workload, candidates[k]![0], v, "rows/s"));
    await wide({ raw, adb, sdb, record });
  } finally {
    await raw.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  }
  const g = (name: string) => get(workload, name);
  const w = (name: string) => get(`bulk insert ${WIDE_N.toLocaleString("en-US")} × 12 typed`, name);
  const best = Math.max(g("raw pg VALUES chunks of 1,000"), g("raw pg VALUES chunks of 21,845"));
  return [
    `  insertMany async vs pycopg insert_batch  ${ratio(g("tscopg AsyncDatabase.insertMany"), PYCOPG_INSERT_BATCH)}  [>= 1.25x; pycopg 336k rows/s]`,
    `  insertBatch async vs pycopg insert_batch ${ratio(g("tscopg AsyncDatabase.insertBatch gen"), PYCOPG_INSERT_BATCH)}  [>= 1.25x]`,
    `  insertMany sync vs pycopg insert_batch   ${ratio(g("tscopg Database.insertMany"), PYCOPG_INSERT_BATCH)}  [>= 1.25x]`,
    `  insertBatch sync vs pycopg insert_batch  ${ratio(g("tscopg Database.insertBatch gen"), PYCOPG_INSERT_BATCH)}  [>= 1.25x]`,
    `  insertMany async vs raw pg VALUES chunks ${ratio(g("tscopg AsyncDatabase.insertMany"), best)}`,
    `  insertMany sync vs async                 ${ratio(g("tscopg Database.insertMany"), g("tscopg AsyncDatabase.insertMany"))}`,
    `  wide insertMany vs raw pg VALUES chunks  ${ratio(w("tscopg AsyncDatabase.insertMany"), w("raw pg VALUES chunks"))}`,
    `  wide insertMany vs jsonb_populate_recordset ${ratio(w("tscopg AsyncDatabase.insertMany"), w("raw pg jsonb_populate"))}`,
  ];
};

const WIDE_N = Number(process.env.BENCH_BULK_WIDE_ROWS ?? 20_000);
const WIDE = `"${SCHEMA}".w`;
const WIDE_COLUMNS = ["i", "big", "num", "t", "ts", "j", "b", "by", "u", "d", "f", "ia"] as const;

/** The candidates on a wide table of typed columns (where `unnest` gets one array per column). */
async function wide({ raw, adb, sdb, record }: Pick<Parameters<BenchSection>[0], "raw" | "adb" | "sdb" | "record">): Promise<void> {
  await raw.query(`CREATE TABLE ${WIDE} (i int, big int8, num numeric, t text, ts timestamptz, j jsonb, b bool, by bytea, u uuid, d date, f float8, ia int[])`);
  const base = Date.UTC(2024, 0, 1);
  const rows = Array.from({ length: WIDE_N }, (_, k) => ({
    i: k, big: BigInt(k) * 1_000_000_007n, num: `${k}.25`, t: `text "${k}" \\ é`, ts: new Date(base + k * 1000), j: { k, tags: ["a", "b"] },
    b: k % 2 === 0, by: Buffer.from([k & 255, 0, 92]), u: `00000000-0000-4000-8000-${String(k).padStart(12, "0")}`, d: "2024-02-29", f: k / 3, ia: [k, k + 1],
  }));
  const cols = WIDE_COLUMNS.join(", ");
  const timed = async (run: () => Promise<unknown> | unknown) => {
    await raw.query(`TRUNCATE ${WIDE}`);
    const t0 = performance.now();
    await run();
    return rate(WIDE_N, t0);
  };
  const values = async () => {
    const per = Math.floor(65_535 / WIDE_COLUMNS.length);
    await raw.query("BEGIN");
    for (let s = 0; s < WIDE_N; s += per) {
      const params: unknown[] = [];
      const tuples = rows.slice(s, s + per).map((r) => `(${WIDE_COLUMNS.map((c) => `$${params.push(typeof r[c] === "bigint" ? String(r[c]) : r[c])}`).join(", ")})`);
      await raw.query(`INSERT INTO ${WIDE} (${cols}) VALUES ${tuples.join(", ")}`, params);
    }
    await raw.query("COMMIT");
  };
  const populate = async () => {
    const json = JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    // Buffers come out of JSON.stringify as {type, data}; a fair comparison needs them as \x hex.
    const fixed = json.replace(/\{"type":"Buffer","data":\[([0-9,]*)\]\}/g, (_m, d: string) => `"\\\\x${Buffer.from(d.split(",").map(Number)).toString("hex")}"`);
    await raw.query(`INSERT INTO ${WIDE} (${cols}) SELECT ${cols} FROM jsonb_populate_recordset(NULL::${WIDE}, $1::jsonb)`, [fixed]);
  };
  const opts = { schema: SCHEMA };
  const workload = `bulk insert ${WIDE_N.toLocaleString("en-US")} × 12 typed`;
  const candidates: Candidate[] = [
    ["raw pg VALUES chunks (65,535 params)", () => timed(values)],
    ["raw pg jsonb_populate_recordset", () => timed(populate)],
    ["tscopg AsyncDatabase.insertMany", () => timed(() => adb.insertMany("w", rows, opts))],
    ["tscopg Database.insertMany", () => timed(() => sdb.insertMany("w", rows, opts))],
  ];
  (await interleaved(candidates)).forEach((v, k) => record(workload, candidates[k]![0], v, "rows/s"));
  const [check] = (await raw.query(`SELECT count(*)::int AS n, sum(big)::text AS big, count(DISTINCT by) AS by FROM ${WIDE}`)).rows as { n: number; big: string; by: string }[];
  if (check?.n !== WIDE_N) throw new Error(`wide bench: ${check?.n} rows, expected ${WIDE_N}`);
}
