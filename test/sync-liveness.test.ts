/**
 * Liveness of the synchronous facade's worker (issue 13 §3): a worker whose event loop is blocked for longer than
 * the stall limit is waited for, not killed, and its handles live on; a worker that really dies fails the blocked
 * call promptly with ConnectionError, and the next call runs on a new worker; a worker that does not start in
 * time fails the call instead of hanging it.
 *
 * Each scenario runs in a child process (test/fixtures/sync-liveness.ts), because the limits are read from the
 * environment at load. The worker is made busy or killed from the outside through a test-only kind
 * (test/fixtures/busy-kind.ts), loaded by the worker through the class table as a pool module would be, whose
 * methods run real CPU-bound code, `process.exit` or an allocation loop in the worker thread. None of the
 * scripts closes its Database: each must still exit by itself.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseOutput, runNode } from "./support/node-child.js";

const fixture = "test/fixtures/sync-liveness.ts";

interface Attempt {
  ok: boolean;
  value?: unknown;
  error?: string;
  message?: string;
  ms: number;
}

test("a worker busy (event loop blocked) for 3x the stall limit is waited for, and its handles live on", { timeout: 60_000 }, async () => {
  const r = await runNode(["--import", "tsx", fixture, "busy"], { TSCOPG_SYNC_STALL_MS: "1000", BUSY_MS: "3000" });
  assert.equal(r.code, 0, `exit ${r.code}: ${r.err}`);
  const out = parseOutput(r) as { a: number; spun: Attempt; b: Attempt; sameWorker: boolean };
  assert.ok(out.spun.ok, `the busy call failed: ${out.spun.message}`);
  // The worker's own measure: a timer due at once fired only after the loop, so its event loop was blocked.
  assert.ok((out.spun.value as number) >= 3000, `the worker's event loop was blocked for ${String(out.spun.value)} ms only`);
  assert.deepEqual({ a: out.a, b: out.b.value, sameWorker: out.sameWorker }, { a: 1, b: 2, sameWorker: true });
});

test("a worker that exits during a call fails it promptly with ConnectionError; the next call starts a new worker", { timeout: 60_000 }, async () => {
  // The default stall limit (60 s) applies: only the supervisor's report can make this prompt.
  const r = await runNode(["--import", "tsx", fixture, "die"], { DIE: "exit" });
  assert.equal(r.code, 0, `exit ${r.code}: ${r.err}`);
  const out = parseOutput(r) as { died: Attempt; after: Attempt; newWorker: boolean; stale: Attempt; staleBusy: Attempt; freshAlive: boolean };
  assert.equal(out.died.error, "ConnectionError", JSON.stringify(out.died));
  assert.match(out.died.message!, /worker died with exit code 7/);
  assert.ok(out.died.ms < 5_000, `took ${out.died.ms} ms`);
  assert.deepEqual({ after: out.after.value, newWorker: out.newWorker }, { after: 3, newWorker: true });
  // The objects of the dead worker fail clearly, never reaching the new worker's objects numbered like them.
  for (const stale of [out.stale, out.staleBusy]) {
    assert.equal(stale.error, "ConnectionError", JSON.stringify(stale));
    assert.match(stale.message!, /previous worker, which died/);
  }
  assert.equal(out.freshAlive, true);
});

test("a worker out of heap (--max-old-space-size applies to it) fails the call with ConnectionError, not the process", { timeout: 60_000 }, async () => {
  const r = await runNode(["--max-old-space-size=64", "--import", "tsx", fixture, "die"], { DIE: "exhaust" });
  assert.equal(r.code, 0, `exit ${r.code}: ${r.err}`);
  const out = parseOutput(r) as { died: Attempt; after: Attempt; newWorker: boolean };
  assert.equal(out.died.error, "ConnectionError", JSON.stringify(out.died));
  assert.match(out.died.message!, /ERR_WORKER_OUT_OF_MEMORY/);
  assert.ok(out.died.ms < 10_000, `took ${out.died.ms} ms`);
  assert.deepEqual({ after: out.after.value, newWorker: out.newWorker }, { after: 3, newWorker: true });
});

test("a worker that does not start within the startup limit fails the call, and the process still exits", { timeout: 60_000 }, async () => {
  // No worker loads its modules within 1 ms: every call must fail (none may hang), each with a new worker.
  const r = await runNode(["--import", "tsx", fixture, "startup"], { TSCOPG_SYNC_STARTUP_MS: "1" });
  assert.equal(r.code, 0, `exit ${r.code}: ${r.err}`);
  const out = parseOutput(r) as { first: Attempt; second: Attempt };
  for (const a of [out.first, out.second]) {
    assert.equal(a.error, "ConnectionError", JSON.stringify(a));
    assert.match(a.message!, /did not start within 1 ms/);
  }
});
