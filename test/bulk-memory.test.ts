/**
 * Backpressure of copyInsert and insertBatch: 1M rows (about 150 MB as row objects) from a generator, written in a
 * child process, async and sync, grow its RSS by less than 100 MB (the source is pulled no faster than the server
 * takes the rows); the same rows built as an array first (the control) grow it by more. The server's count is
 * read back.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { createTestSchema, rawQuery, serverUrl, type TestSchema } from "./support/db.js";

const index = new URL("../src/index.ts", import.meta.url).href;

const SCRIPT = `
import { AsyncDatabase, Database } from ${JSON.stringify(index)};
const T = process.env.COPY_TABLE;
const N = 1_000_000;
function* rows() { for (let i = 0; i < N; i++) yield { id: i, pad: "x".repeat(100) + i, t: new Date(1e12 + i) }; }
const mb = () => process.memoryUsage().rss / 2 ** 20;
async function growth(run) {
  gc();
  const base = mb();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, mb())), 20);
  const n = await run((x) => { peak = Math.max(peak, mb()); return x; });
  clearInterval(timer);
  return { n, growth: Math.round(Math.max(peak, mb()) - base) };
}
const adb = AsyncDatabase.fromUrl(process.env.DATABASE_URL);
const db = Database.fromUrl(process.env.DATABASE_URL);
db.fetchVal("SELECT 1");
const out = {};
let k = 0;
// (The sync side samples RSS from its progress callback: its timers cannot fire while the call blocks.)
const sample = (probe) => ({ onProgress: () => { if (++k % 16 === 0) probe(); } });
out.async = await growth(async (probe) => adb.copyInsert(T, rows(), sample(probe)));
out.sync = await growth(async (probe) => db.copyInsert(T, rows(), sample(probe)));
out.batchAsync = await growth(async (probe) => adb.insertBatch(T, rows(), { batchSize: 5000, onProgress: probe }));
out.batchSync = await growth(async (probe) => db.insertBatch(T, rows(), { batchSize: 5000, onProgress: probe }));
out.control = await growth(async (probe) => { const all = Array.from(rows()); probe(); return adb.copyInsert(T, all); });
out.count = await adb.fetchVal("SELECT count(*)::int FROM " + T);
console.log(JSON.stringify(out));
db.close();
await adb.close();
`;

let ctx: TestSchema;
before(async () => {
  ctx = await createTestSchema("bulkmem");
  await rawQuery(`CREATE UNLOGGED TABLE "${ctx.schema}".big (id int, pad text, t timestamptz)`);
});
after(async () => {
  await ctx?.drop();
});

test("copyInsert and insertBatch of 1M generated rows grow RSS by less than 100 MB, async and sync (the rows as an array first: more)", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", SCRIPT], {
    env: { ...process.env, DATABASE_URL: serverUrl(), COPY_TABLE: `${ctx.schema}.big` },
    timeout: 180_000,
    maxBuffer: 1 << 20,
  });
  const sides = ["async", "sync", "batchAsync", "batchSync", "control"] as const;
  const r = JSON.parse(stdout) as Record<(typeof sides)[number], { n: number; growth: number }> & { count: number };
  for (const side of sides) assert.equal(r[side].n, 1_000_000, side);
  assert.equal(r.count, 5_000_000);
  for (const side of sides.slice(0, 4)) assert.ok(r[side].growth < 100, `${side}: ${r[side].growth} MB`);
  assert.ok(r.control.growth > 100, `the control held every row at once yet grew by ${r.control.growth} MB only: the test cannot tell`);
});
