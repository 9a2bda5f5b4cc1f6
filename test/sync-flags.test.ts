/**
 * Node flags and the synchronous facade (issue 13 §3): per-process and V8 flags (`--max-old-space-size`,
 * `--expose-gc`, `--stack-size`, `--title`) used to make the first sync call throw ERR_WORKER_INVALID_EXEC_ARGV,
 * because the worker got them as an explicit `execArgv`. The worker now inherits the process's options: each
 * flag works from the sources (tsx) and from the built package (plain Node), and the worker sees its effect.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseOutput, runNode, type ChildResult } from "./support/node-child.js";

const flags = ["", "--max-old-space-size=96", "--expose-gc", "--stack-size=800", "--title=tscopg-flags-test"];

interface Seen {
  heapLimitMb: number;
  gc: boolean;
  title: string;
}

/** Runs the jobs at most `n` at a time. */
async function limited<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: n }, lane));
  return results;
}

const argsOf = (flag: string) => (flag === "" ? [] : [flag]);

test("a sync query under each flag, from the sources and from dist/; the worker inherits the flags", { timeout: 120_000 }, async () => {
  const runs: { label: string; run: () => Promise<ChildResult> }[] = [];
  for (const flag of flags) {
    runs.push({ label: `tsx ${flag}`, run: () => runNode([...argsOf(flag), "--import", "tsx", "test/fixtures/sync-flags.ts"]) });
    runs.push({ label: `dist ${flag}`, run: () => runNode([...argsOf(flag), "test/fixtures/sync-flags-dist.mjs"]) });
  }
  // An evaluated ES module entry: --input-type is inherited too, and refuses a worker started from a file.
  runs.push({
    label: "tsx --input-type=module -e",
    run: () => runNode(["--expose-gc", "--import", "tsx", "--input-type=module", "-e", `await import("./test/fixtures/sync-flags.ts");`]),
  });
  runs.push({
    label: "dist --input-type=module -e",
    run: () => runNode(["--stack-size=800", "--input-type=module", "-e", `await import("./test/fixtures/sync-flags-dist.mjs");`]),
  });
  const results = await limited(3, runs.map((r) => r.run));
  results.forEach((r, i) => {
    const { label } = runs[i]!;
    assert.equal(r.code, 0, `${label}: exit ${r.code}\n${r.err}`);
    const out = parseOutput(r) as { value: number; main?: Seen; worker?: Seen };
    assert.equal(out.value, 42, label);
    if (out.main === undefined) return;
    // What the worker sees of the flags is what the main thread sees: same heap limit, gc(), title.
    assert.deepEqual(out.worker, out.main, label);
    if (label.includes("max-old-space-size")) assert.ok(out.main.heapLimitMb < 200, `${label}: heap limit ${out.main.heapLimitMb} MB`);
    if (label.includes("expose-gc")) assert.equal(out.main.gc, true, label);
    if (label.includes("--title")) assert.equal(out.main.title, "tscopg-flags-test", label);
  });
});
