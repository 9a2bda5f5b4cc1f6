import pg from "pg";
import postgres from "postgres";
const url = "postgresql://postgres@127.0.0.1/test";
const c = new pg.Client({ connectionString: url }); await c.connect();
const sql = postgres(url, { max: 1 });
const N = 10000;
async function run(kind: string) {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    if (kind === "pjs") await sql`SELECT ${i}::int`;
    else await c.query(kind === "named" ? { name: "s1", text: "SELECT $1::int", values: [i] } : { text: "SELECT $1::int", values: [i] });
  }
  return Math.round(N / ((performance.now() - t0) / 1000));
}
for (let r = 0; r < 3; r++) console.log("unnamed", await run("unnamed"), "named", await run("named"), "postgres.js", await run("pjs"));
await c.end(); await sql.end();
