/**
 * Process lifetime: an idle handle that was never closed does not keep the process alive, a statement in
 * flight does, and a process that dies in the middle of a statement (Ctrl-C during a blocking sync call)
 * does not leave the statement running on the server.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { rawQuery, serverUrl } from "./support/db.js";

const index = new URL("../src/index.ts", import.meta.url).href;

/** Runs an ESM script (with tsx, importing the sources) and resolves with its exit code and output, or "timeout". */
function runScript(code: string, timeoutMs: number, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    env: { ...process.env, DATABASE_URL: serverUrl(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d));
  child.stderr.on("data", (d: Buffer) => (err += d));
  const done = new Promise<{ code: number | null | "timeout"; out: string; err: string }>((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve({ code: "timeout", out, err });
    }, timeoutMs);
    child.on("exit", (c, signal) => {
      clearTimeout(timer);
      resolve({ code: c ?? (signal ? `signal ${signal}` : null) as never, out, err });
    });
  });
  return { child, done };
}

test("a script that never closes its AsyncDatabase (shared, transaction, connection) still exits", async () => {
  const { done } = runScript(
    `import { AsyncDatabase } from ${JSON.stringify(index)};
     const db = AsyncDatabase.fromUrl(process.env.DATABASE_URL);
     const a = await db.fetchVal("SELECT 40 + $1::int", [2]);
     const conn = await db.connect(); // in use, never closed
     const b = await conn.fetchVal("SELECT 'left open'");
     await db.transaction(async (tx) => { await tx.execute("SELECT 1"); }); // its connection goes to the idle cache
     console.log(JSON.stringify({ a, b, n: db.connectionCount }));`,
    15_000,
  );
  const r = await done;
  assert.equal(r.code, 0, `exit: ${r.code}\n${r.err}`);
  assert.deepEqual(JSON.parse(r.out), { a: 42, b: "left open", n: 3 });
});

test("a statement in flight keeps the process alive until it answers", async () => {
  const { done } = runScript(
    `import { AsyncDatabase } from ${JSON.stringify(index)};
     const db = AsyncDatabase.fromUrl(process.env.DATABASE_URL);
     await db.fetchVal("SELECT 1");
     // Not awaited, nothing else pending: the socket must hold the loop open.
     db.fetchVal("SELECT pg_sleep(0.4)::text || 'answered'").then((v) => console.log(v));`,
    15_000,
  );
  const r = await done;
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), "answered");
});

test("Ctrl-C during a blocking sync statement: the server cancels it instead of running it to the end", async () => {
  const app = `tscopg_sigint_${randomBytes(4).toString("hex")}`;
  const { child, done } = runScript(
    `import { Database } from ${JSON.stringify(index)};
     const db = Database.fromUrl(process.env.DATABASE_URL + "?application_name=${app}");
     db.execute("SELECT pg_sleep(60)");`,
    30_000,
  );
  const active = () =>
    rawQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'", [app]).then(
      (r) => r[0]!.n,
    );
  let seen = false;
  for (let i = 0; i < 100 && !seen; i++) {
    seen = (await active()) === 1;
    if (!seen) await sleep(100);
  }
  assert.ok(seen, "the sleeping statement never showed up on the server");
  child.kill("SIGINT");
  const r = await done;
  assert.notEqual(r.code, "timeout");
  const t0 = Date.now();
  let left = 1;
  while (Date.now() - t0 < 8_000 && (left = await active()) > 0) await sleep(200);
  assert.equal(left, 0, "the statement kept running on the server after the client died");
});

test("every connection asks the server to watch for a vanished client (unless the configuration says otherwise)", async () => {
  const { done } = runScript(
    `import { AsyncDatabase, Config } from ${JSON.stringify(index)};
     const base = Config.fromUrl(process.env.DATABASE_URL);
     const db = new AsyncDatabase(base);
     const own = new AsyncDatabase(base.with({ options: { ...base.options, client_connection_check_interval: "5s" } }));
     const shared = await db.fetchVal("SHOW client_connection_check_interval");
     const dedicated = await db.transaction((tx) => tx.fetchVal("SHOW client_connection_check_interval"));
     const mine = await own.fetchVal("SHOW client_connection_check_interval");
     console.log(JSON.stringify({ shared, dedicated, mine }));
     await db.close(); await own.close();`,
    15_000,
  );
  const r = await done;
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), { shared: "1s", dedicated: "1s", mine: "5s" });
});

test("close() resolves even when a statement (here the repairing ROLLBACK after an error) is still in flight", async () => {
  const { done } = runScript(
    `import { AsyncDatabase } from ${JSON.stringify(index)};
     const db = AsyncDatabase.fromUrl(process.env.DATABASE_URL);
     const e = await db.execute("SELECT * FROM no_such_table_lifetime").catch((x) => x.constructor.name);
     const pending = db.fetchVal("SELECT pg_sleep(0.2)::text").catch((x) => x.constructor.name);
     await db.close();
     console.log(JSON.stringify({ e, closed: true, pending: await pending }));`,
    15_000,
  );
  const r = await done;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.err}`);
  assert.deepEqual(JSON.parse(r.out), { e: "TableNotFound", closed: true, pending: "" });
});
