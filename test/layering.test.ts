/**
 * The layers: `src/core` (connections, transactions, the executor seam) depends on neither the feature modules
 * (`src/features`, installed on top of it) nor the synchronous facade (`src/sync`, generated from it). And every
 * source module stays small.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

/** The module specifiers a file imports (static imports, `import type`, re-exports and `declare module`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import|declare module)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!);
}

describe("layering", () => {
  test("src/core imports nothing from src/sync or src/features", () => {
    const offenders: string[] = [];
    for (const file of files(path.join(src, "core"))) {
      for (const spec of importsOf(file)) {
        const target = path.resolve(path.dirname(file), spec);
        if (target.startsWith(path.join(src, "sync")) || target.startsWith(path.join(src, "features"))) {
          offenders.push(`${path.relative(src, file)} → ${spec}`);
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  test("src/features does not depend on the synchronous facade", () => {
    const offenders = files(path.join(src, "features")).flatMap((file) =>
      importsOf(file)
        .filter((spec) => path.resolve(path.dirname(file), spec).startsWith(path.join(src, "sync")))
        .map((spec) => `${path.relative(src, file)} → ${spec}`),
    );
    assert.deepEqual(offenders, []);
  });

  test("no source module is over 400 lines", () => {
    const long = files(src)
      .map((f) => [path.relative(src, f), readFileSync(f, "utf8").split("\n").length] as const)
      .filter(([, n]) => n > 400);
    assert.deepEqual(long, []);
  });
});
