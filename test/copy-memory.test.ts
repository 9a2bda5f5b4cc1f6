/**
 * copyInsert's backpressure: 1M rows (about 150 MB as row objects) from a generator, copied in a child process,
 * async and sync, grow its RSS by less than 100 MB (the source is pulled no faster than the server reads); the
 * same rows built as an array first (the control) grow it by more. The server's count is read back each time.
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
out.control = await growth(async (probe) => { const all = Array.from(rows()); probe(); return adb.copyInsert(T, all); });
out.count = await adb.fetchVal("SELECT count(*)::int FROM " + T);
console.log(JSON.stringify(out));
db.close();
await adb.close();
`;

let ctx: TestSchema;
before(async () => {
  ctx = await createTestSchema("copymem");
  await rawQuery(`CREATE UNLOGGED TABLE "${ctx.schema}".big (id int, pad text, t timestamptz)`);
});
after(async () => {
  await ctx?.drop();
});

test("copyInsert of 1M generated rows grows RSS by less than 100 MB, async and sync (the rows as an array first: more)", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", SCRIPT], {
    env: { ...process.env, DATABASE_URL: serverUrl(), COPY_TABLE: `${ctx.schema}.big` },
    timeout: 180_000,
    maxBuffer: 1 << 20,
  });
  const r = JSON.parse(stdout) as Record<"async" | "sync" | "control", { n: number; growth: number }> & { count: number };
  for (const side of ["async", "sync", "control"] as const) assert.equal(r[side].n, 1_000_000, side);
  assert.equal(r.count, 3_000_000);
  assert.ok(r.async.growth < 100, `async: ${r.async.growth} MB`);
  assert.ok(r.sync.growth < 100, `sync: ${r.sync.growth} MB`);
  assert.ok(r.control.growth > 100, `the control held every row at once yet grew by ${r.control.growth} MB only: the test cannot tell`);
});
