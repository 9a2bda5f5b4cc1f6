/**
 * stream()'s memory bound: 1M rows (about 150 MB as row objects) streamed in a child process, async and sync, grow
 * its RSS by less than 100 MB; the same rows read whole by execute() (the control) grow it by more.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { serverUrl } from "./support/db.js";

const index = new URL("../src/index.ts", import.meta.url).href;

const SCRIPT = `
import { AsyncDatabase, Database } from ${JSON.stringify(index)};
const SQL = "SELECT g, repeat('x', 100) || g AS pad, now() AS t FROM generate_series(1, 1000000) g";
const mb = () => process.memoryUsage().rss / 2 ** 20;
async function growth(run) {
  gc();
  const base = mb();
  let peak = base;
  let n = 0;
  const tick = () => { if (++n % 10000 === 0) peak = Math.max(peak, mb()); };
  await run(tick);
  return { n, growth: Math.round(Math.max(peak, mb()) - base) };
}
const adb = AsyncDatabase.fromUrl(process.env.DATABASE_URL);
const db = Database.fromUrl(process.env.DATABASE_URL);
db.fetchVal("SELECT 1");
const out = {};
out.async = await growth(async (tick) => { for await (const r of adb.stream(SQL)) tick(r); });
out.sync = await growth(async (tick) => { for (const r of db.stream(SQL)) tick(r); });
out.control = await growth(async (tick) => { for (const r of await adb.execute(SQL)) tick(r); });
console.log(JSON.stringify(out));
db.close();
await adb.close();
`;

test("streaming 1M rows grows RSS by less than 100 MB, async and sync (execute of the same rows: more)", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", SCRIPT], {
    env: { ...process.env, DATABASE_URL: serverUrl() },
    timeout: 120_000,
    maxBuffer: 1 << 20,
  });
  const r = JSON.parse(stdout) as Record<"async" | "sync" | "control", { n: number; growth: number }>;
  for (const side of ["async", "sync", "control"] as const) assert.equal(r[side].n, 1_000_000, side);
  assert.ok(r.async.growth < 100, `async: ${r.async.growth} MB`);
  assert.ok(r.sync.growth < 100, `sync: ${r.sync.growth} MB`);
  assert.ok(r.control.growth > 100, `the control read everything at once yet grew by ${r.control.growth} MB only: the test cannot tell`);
});
