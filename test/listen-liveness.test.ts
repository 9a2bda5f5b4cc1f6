/**
 * Process liveness of a listener (in child processes, test/fixtures/listen-liveness.ts): a `for await` loop waiting
 * on a listener keeps the process alive until its notification comes; a listener nobody waits on does not keep
 * the process alive (a script that forgets to close it still exits).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { runNode } from "./support/node-child.js";

const fixture = "test/fixtures/listen-liveness.ts";
const lines = (out: string) => out.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as unknown);

test("a loop waiting on a listener keeps the process alive until the notification arrives", { timeout: 60_000 }, async () => {
  const r = await runNode(["--import", "tsx", fixture, "waiting"], { CHANNEL: `ch_${randomBytes(4).toString("hex")}` }, 30_000);
  assert.equal(r.code, 0, `exit ${r.code}: ${r.err}`);
  assert.deepEqual(lines(r.out), [{ got: "hello" }, { end: true }]);
});

test("a listener nobody waits on does not keep the process alive", { timeout: 60_000 }, async () => {
  const r = await runNode(["--import", "tsx", fixture, "idle"], { CHANNEL: `ch_${randomBytes(4).toString("hex")}` }, 30_000);
  assert.equal(r.code, 0, `exit ${r.code}: ${r.err}`);
  assert.deepEqual(lines(r.out), [{ end: true }]);
});
