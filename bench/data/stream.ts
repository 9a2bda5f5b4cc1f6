/**
 * Bench section "stream" (issue 15): 1M rows streamed through a server-side cursor, async (`for await`) and sync
 * (`for...of`, batches packed across the worker), against raw node-postgres reading the whole result at once and
 * raw pg-cursor reading it in batches of the same size. A real table, as the core read bench uses.
 * @module
 */
import Cursor from "pg-cursor";
import { interleaved, rate, ratio, type BenchSection, type Candidate } from "../common.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BATCH = 1000;

export const bench: BenchSection = async ({ raw, adb, sdb, record, get }) => {
  const table = `tscopg_bench_stream_${ROWS}`;
  if (!(await adb.fetchVal<boolean>("SELECT to_regclass($1) IS NOT NULL", [table]))) {
    await adb.execute(`CREATE TABLE ${table} AS SELECT i AS id, i * 1.5::float8 AS val, 'label-' || i AS label FROM generate_series(1, ${ROWS}) i`);
    await adb.execute(`VACUUM ANALYZE ${table}`);
  }
  const sql = `SELECT id, val, label FROM ${table}`;
  const check = (n: number) => {
    if (n !== ROWS) throw new Error(`short read: ${n}`);
  };
  const workload = `stream ${ROWS.toLocaleString("en-US")} rows`;
  const candidates: Candidate[] = [
    ["raw pg execute (whole result)", async () => {
      const t0 = performance.now();
      check((await raw.query(sql)).rows.length);
      return rate(ROWS, t0);
    }],
    [`raw pg-cursor (read ${BATCH})`, async () => {
      const t0 = performance.now();
      const cursor = raw.query(new Cursor(sql));
      let n = 0;
      for (let rows = await cursor.read(BATCH); rows.length > 0; rows = await cursor.read(BATCH)) n += rows.length;
      await cursor.close();
      check(n);
      return rate(ROWS, t0);
    }],
    ["tscopg stream (async)", async () => {
      const t0 = performance.now();
      let n = 0;
      for await (const row of adb.stream(sql, null, { batchSize: BATCH })) if (row.id !== undefined) n++;
      check(n);
      return rate(ROWS, t0);
    }],
    ["tscopg stream (sync)", () => {
      const t0 = performance.now();
      let n = 0;
      for (const row of sdb.stream(sql, null, { batchSize: BATCH })) if (row.id !== undefined) n++;
      check(n);
      return rate(ROWS, t0);
    }],
  ];
  (await interleaved(candidates)).forEach((v, k) => record(workload, candidates[k]![0], v, "rows/s"));
  await adb.execute(`DROP TABLE IF EXISTS ${table}`);
  const r = (a: string, b: string) => ratio(get("stream", a), get("stream", b));
  return [
    `  stream async vs raw pg execute      ${r("tscopg stream (async)", "raw pg execute")}`,
    `  stream async vs raw pg-cursor       ${r("tscopg stream (async)", "raw pg-cursor")}  [>= 0.90x]`,
    `  stream sync vs stream async         ${r("tscopg stream (sync)", "tscopg stream (async)")}  [>= 0.50x]`,
    `  stream sync vs raw pg execute       ${r("tscopg stream (sync)", "raw pg execute")}`,
  ];
};
