/**
 * Batches crossing the synchronous facade's worker boundary are bounded in bytes as well as in items: a sync
 * `copyTo` asks for thousands of 64 KB chunks per round trip, which must not gather hundreds of MB first.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BATCH_BYTES, takeAsync, takeSync } from "../src/sync/batch.js";

const CHUNK = 64 * 1024;
function* chunks(n: number): Generator<Buffer> {
  for (let i = 0; i < n; i++) yield Buffer.alloc(CHUNK, i & 255);
}
async function* chunksAsync(n: number): AsyncGenerator<Buffer> {
  yield* chunks(n);
}

describe("batch limits", () => {
  test("4,096 chunks of 64 KB asked for: a batch stops at BATCH_BYTES, the rest follow in order (both sides)", async () => {
    const perBatch = BATCH_BYTES / CHUNK;
    const it = chunks(100);
    const first = takeSync(it, 4096);
    assert.equal(first.values.length, perBatch);
    assert.equal(first.done, false);
    const second = takeSync(it, 4096);
    assert.equal((second.values[0] as Buffer)[0], perBatch);

    const ait = chunksAsync(100);
    const a = await takeAsync(ait, 4096);
    assert.equal(a.values.length, perBatch);
    let total = a.values.length;
    for (let b = await takeAsync(ait, 4096); ; b = await takeAsync(ait, 4096)) {
      total += b.values.length;
      if (b.done) break;
    }
    assert.equal(total, 100);
  });

  test("an object counts the strings and bytes it holds directly (a COPY chunk { data, rows })", () => {
    const chunk = (i: number) => ({ data: Buffer.alloc(CHUNK, i & 255), rows: 100 });
    const it = Array.from({ length: 100 }, (_, i) => chunk(i))[Symbol.iterator]();
    assert.equal(takeSync(it, 4096).values.length, BATCH_BYTES / CHUNK);
  });

  test("strings count by length; other items only by number; the end is reported", async () => {
    assert.equal(takeSync(["x".repeat(BATCH_BYTES), "y"][Symbol.iterator](), 10).values.length, 1);
    const rows = Array.from({ length: 50 }, (_, i) => ({ i }));
    assert.deepEqual(takeSync(rows[Symbol.iterator](), 10).values.length, 10);
    assert.deepEqual(takeSync(rows.slice(0, 3)[Symbol.iterator](), 10), { values: rows.slice(0, 3), done: true });
    const live = (async function* () {
      yield 1;
      yield 2;
    })();
    assert.deepEqual(await takeAsync(live, 10, () => 0), { values: [1], done: false });
  });
});
