import { AsyncPooledDatabase, AsyncDatabase } from "../src/index.js";
import { Members } from "../src/pool/members.js";
const orig = Members.prototype.forStatement;
const hist = new Map<string, number>();
Members.prototype.forStatement = function (o: boolean) { const r = orig.call(this, o); const k = r.member ? String(this.list.indexOf(r.member)) : "none"; hist.set(k, (hist.get(k) ?? 0) + 1); if (r.crowded) hist.set("crowded", (hist.get("crowded") ?? 0) + 1); return r; };
const url = "postgresql://postgres@127.0.0.1/test";
const pool = new AsyncPooledDatabase(url, { minSize: 10, maxSize: 10 });
const adb = new AsyncDatabase(url);
await pool.open(); await adb.fetchVal("SELECT 1");
const N = 100000;
async function run(db: AsyncDatabase, inflight: number) {
  let i = 0; const t0 = performance.now();
  async function w() { while (i < N) { i++; await db.fetchVal("SELECT $1::int", [i]); } }
  await Promise.all(Array.from({ length: inflight }, w));
  return Math.round(N / ((performance.now() - t0) / 1000));
}
for (const f of [100, 1000]) for (let r = 0; r < 2; r++) { hist.clear(); console.log(f, "pool", await run(pool, f), "adb", await run(adb, f), JSON.stringify([...hist])); }
await pool.close(); await adb.close();
