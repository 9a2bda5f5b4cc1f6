/**
 * `npm run demo`, the project's main job, run as `node --import tsx examples/demo.ts` against the test server
 * (`npm run demo` itself builds dist/ first, which must not happen while other test files read it; `npm test`
 * has built it). The demo imports the package by name, so this also runs it against the built dist/.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { rawQuery, serverUrl } from "./support/db.js";

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

interface RunOptions {
  url?: string;
  /** Called once, when the first line of stdout has arrived, so the test can close the pipe or send a signal. */
  afterFirstLine?: (child: ReturnType<typeof spawn>) => void;
}

function runDemo(options: RunOptions = {}): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/demo.ts"], {
    env: { ...process.env, DATABASE_URL: options.url ?? serverUrl(), NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let firstLine = false;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (!firstLine && stdout.includes("\n")) {
      firstLine = true;
      options.afterFirstLine?.(child);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid! });
    });
  });
}

/** The schema the demo announced on its first line (it works in `tscopg_demo_<pid>`). */
function schemaOf(run: Run): string {
  const m = /working in schema (tscopg_demo_(\d+))$/m.exec(run.stdout);
  assert.ok(m, `no schema on the first line: ${JSON.stringify(run.stdout.slice(0, 200))} / stderr ${run.stderr}`);
  assert.equal(Number(m[2]), run.pid, "the schema is named after the demo's process");
  return m[1]!;
}

async function schemaExists(name: string): Promise<boolean> {
  const rows = await rawQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1", [name]);
  return rows[0]!.n > 0;
}

test("the demo walks through the library on the test server and leaves nothing behind", { timeout: 90_000 }, async () => {
  const run = await runDemo();
  assert.equal(run.stderr, "");
  assert.equal(run.code, 0);
  const lines = run.stdout.split("\n").map((l) => l.trimEnd());
  const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `no line matching ${re} in:\n${run.stdout}`);

  assert.match(lines[0]!, /^tscopg demo — server: env \(postgresql:\/\/.*\), working in schema tscopg_demo_\d+$/);
  const [{ version }] = await rawQuery<{ version: string }>("SELECT version()");
  has(new RegExp(`^  ${version!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
  has(/^ {2}inserted 3 rows /);
  has(/^ {2}3 +│ linus │ 9007199254740993n$/); // int8 beyond 2^53, read back exactly
  has(/^ {2}inside: 4 users$/);
  has(/^ {2}after: {2}3 users$/);
  has(/^ {2}ada +│ 37n$/); // the outer transaction committed
  has(/^ {2}grace +│ 85n$/); // the savepoint rolled back
  has(/^ {2}UniqueViolation 23505: duplicate key value violates unique constraint "User_name_key"$/);
  has(/^ {2}constraint: User_name_key$/);
  has(/^ {2}TableNotFound \(42P01\) — and the handle is still usable: yes$/);
  has(/^ {2}copyInsert: 10000 rows \(the server's count\), streamed from a generator$/);
  has(/^ {2}stream: 10000 rows read 1,000 at a time, ids summing to 50005000$/);
  has(/^ {2}notification on tscopg_demo: \{"hello":"world"\}$/);
  has(/^ {2}identical results: true$/);
  has(/^ {2}sync transaction committed: 1 row$/);
  has(/npm run bench/);
  assert.ok(!/q\/s/.test(run.stdout), "no speed figures: `npm run bench` measures them");
  assert.match(lines.at(-2) ?? "", /^── done /);
  assert.equal(await schemaExists(schemaOf(run)), false, "schema dropped");
});

test("a reader that closes after the first line (`npm run demo | head -1`): the schema is still dropped", { timeout: 90_000 }, async () => {
  let closed = false;
  const run = await runDemo({
    afterFirstLine: (child) => {
      closed = true;
      child.stdout!.destroy(); // the demo's next writes fail with EPIPE
    },
  });
  assert.ok(closed);
  assert.equal(run.stderr, "", "EPIPE is not an error worth a stack trace");
  assert.equal(run.code, 0);
  const schema = schemaOf(run);
  assert.equal(await schemaExists(schema), false, `${schema} left behind`);
});

test("SIGTERM after the first line: the demo drops its schema and exits 143", { timeout: 90_000 }, async () => {
  let sent = false;
  const run = await runDemo({
    afterFirstLine: (child) => {
      sent = true;
      child.kill("SIGTERM");
    },
  });
  assert.ok(sent);
  assert.equal(run.stderr, "");
  assert.equal(run.code, 128 + 15);
  const schema = schemaOf(run);
  assert.equal(await schemaExists(schema), false, `${schema} left behind`);
});

test("a bad DATABASE_URL: one clear line on stderr, exit code 1, no stack trace", { timeout: 90_000 }, async () => {
  const run = await runDemo({ url: "postgresql://nobody@127.0.0.1:1/x" });
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.equal(run.stderr, "tscopg demo: could not connect to nobody@127.0.0.1:1/x: connect ECONNREFUSED 127.0.0.1:1\n");

  const malformed = await runDemo({ url: "postgresql://u:secret@host:notaport/db" });
  assert.equal(malformed.code, 1);
  assert.equal(malformed.stdout, "");
  assert.match(malformed.stderr, /^tscopg demo: [^\n]*port[^\n]*\n$/);
  assert.ok(!malformed.stderr.includes("secret"), "no password in the message");
});
