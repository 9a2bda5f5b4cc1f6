import pg from "pg";
const url = "postgresql://postgres@127.0.0.1/test";
const c = new pg.Client({ connectionString: url, pipeline: true } as any); await c.connect();
const N = 20000;
async function run(inflight: number, named: boolean) {
  let i = 0; const t0 = performance.now();
  async function w() { while (i < N) { i++; await c.query(named ? { name: "s1", text: "SELECT $1::int", values: [i] } : { text: "SELECT $1::int", values: [i] }); } }
  await Promise.all(Array.from({ length: inflight }, w));
  return Math.round(N / ((performance.now() - t0) / 1000));
}
for (let r = 0; r < 2; r++) for (const f of [1, 10, 100]) console.log(f, "unnamed", await run(f, false), "named", await run(f, true));
await c.end();
