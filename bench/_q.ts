import { AsyncPooledDatabase } from "../src/index.js";
const pool = new AsyncPooledDatabase("postgresql://postgres@127.0.0.1/test", { minSize: 1, maxSize: 1 }); await pool.open();
const N = 30000;
const t0 = performance.now();
for (let i = 0; i < N; i++) await pool.fetchVal("SELECT $1::int", [i]);
console.log(Math.round(N / ((performance.now() - t0) / 1000)));
await pool.close();
