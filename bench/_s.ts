import pg from "pg";
import { AsyncDatabase, AsyncPooledDatabase } from "../src/index.js";
const url = "postgresql://postgres@127.0.0.1/test";
const raw = new pg.Client({ connectionString: url }); await raw.connect();
const rawp = new pg.Client({ connectionString: url, pipeline: true } as any); await rawp.connect();
const adb = new AsyncDatabase(url); await adb.fetchVal("SELECT 1");
const pool = new AsyncPooledDatabase(url, { minSize: 1, maxSize: 10 }); await pool.open();
const N = 8000;
const cands: [string, (i: number) => Promise<unknown>][] = [
  ["raw", (i) => raw.query("SELECT $1::int", [i])],
  ["raw pipelined", (i) => rawp.query("SELECT $1::int", [i])],
  ["adb", (i) => adb.fetchVal("SELECT $1::int", [i])],
  ["pool", (i) => pool.fetchVal("SELECT $1::int", [i])],
];
const res = new Map<string, number[]>();
for (let r = 0; r < 5; r++) for (const [name, f] of cands) {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await f(i);
  const v = Math.round(N / ((performance.now() - t0) / 1000));
  res.set(name, [...(res.get(name) ?? []), v]);
}
for (const [k, v] of res) console.log(k.padEnd(14), v.sort((a, b) => a - b).join(" "), "median", v[2]);
await raw.end(); await rawp.end(); await adb.close(); await pool.close();
