import { AsyncPooledDatabase } from "../src/index.js";
const pool = new AsyncPooledDatabase("postgresql://postgres@127.0.0.1/test", { minSize: 1, maxSize: 10 }); await pool.open();
const N = 300000;
let i = 0;
const t0 = performance.now();
async function w() { while (i < N) { i++; await pool.fetchVal("SELECT $1::int", [i]); } }
await Promise.all(Array.from({ length: 1000 }, w));
console.log(Math.round(N / ((performance.now() - t0) / 1000)));
await pool.close();
