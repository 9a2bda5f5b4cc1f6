import pg from "pg";
const url = "postgresql://postgres@127.0.0.1/test";
const c = new pg.Client({ connectionString: url, pipeline: true } as any); await c.connect();
const N = 8000;
const res = new Map<string, number[]>();
for (let r = 0; r < 5; r++) for (const kind of ["unnamed", "named"]) {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await c.query(kind === "named" ? { name: "s1", text: "SELECT $1::int", values: [i] } : { text: "SELECT $1::int", values: [i] });
  res.set(kind, [...(res.get(kind) ?? []), Math.round(N / ((performance.now() - t0) / 1000))]);
}
for (const [k, v] of res) console.log(k.padEnd(10), v.sort((a, b) => a - b).join(" "));
await c.end();
