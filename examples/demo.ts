/**
 * The main job: `npm run demo`.
 *
 * Connects to the configured database (DATABASE_URL, or PG* variables), or, when none is configured, starts an
 * embedded PostgreSQL 15 and walks through the library for real: a table, inserts, queries, a transaction that
 * rolls back, savepoints, errors with SQLSTATE, identifier safety, and the sync facade next to the async API.
 *
 * It imports the package by its name, as a user would (package self-reference, resolved to the built `dist/`).
 * It works in its own schema `tscopg_demo_<pid>`, which it drops whatever happens: when stdout is closed early
 * (`npm run demo | head`), on SIGINT/SIGTERM/SIGHUP, and on errors. A failure ends with one line on stderr and
 * exit code 1.
 */
import os from "node:os";
import {
  AsyncDatabase,
  Database,
  DatabaseError,
  InvalidIdentifier,
  TableNotFound,
  quoteIdentifier,
} from "tscopg";
import { resolveServer, type ResolvedServer } from "tscopg/embedded";

// A reader that goes away (`| head`) makes writes fail with EPIPE: stop caring about stdout, keep going, clean up.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") process.stderr.write(`tscopg demo: stdout: ${err.message}\n`);
});

const line = (title: string) => console.log(`\n── ${title} ${"─".repeat(Math.max(0, 66 - title.length))}`);

function table(rows: Record<string, unknown>[]): void {
  if (rows.length === 0) return console.log("  (no rows)");
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === "bigint" ? `${v}n` : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  console.log("  " + cols.map((c, i) => c.padEnd(widths[i]!)).join(" │ "));
  console.log("  " + widths.map((w) => "─".repeat(w)).join("─┼─"));
  for (const r of rows) console.log("  " + cols.map((c, i) => cell(r[c]).padEnd(widths[i]!)).join(" │ "));
}

const schema = `tscopg_demo_${process.pid}`;
let server: ResolvedServer | undefined;
let db: AsyncDatabase | undefined;
let schemaMayExist = false;
let interrupted: NodeJS.Signals | undefined;
let cleaning: Promise<void> | undefined;

/** Drops the demo's schema, closes the handle and stops an embedded server; runs once, whoever asks first. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    if (db && schemaMayExist) {
      await db.execute(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema, "schema")} CASCADE`).catch((err: unknown) => {
        process.stderr.write(`tscopg demo: could not drop schema ${schema}: ${oneLine(err)}\n`);
      });
    }
    await db?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  })();
  return cleaning;
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0]!.trim() || (err instanceof Error ? err.name : "unknown error");
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    interrupted = signal;
    void cleanUp().finally(() => process.exit(128 + (os.constants.signals[signal] ?? 1)));
  });
}

async function main(): Promise<void> {
  server = await resolveServer({ probeLocal: false });
  const safeUrl = server.url.replace(/:[^:@/]*@/, ":***@");
  db = AsyncDatabase.fromUrl(server.url);
  const version = await db.fetchVal<string>("SELECT version()"); // connects (or fails) before anything is created
  schemaMayExist = true;
  await db.execute(`CREATE SCHEMA ${quoteIdentifier(schema, "schema")}`);
  console.log(`tscopg demo — server: ${server.source} (${safeUrl}), working in schema ${schema}`);

  line("connect");
  console.log(`  ${version}`);

  line("create a table (identifiers quoted by the one validator)");
  const users = `${quoteIdentifier(schema, "schema")}.${quoteIdentifier("User", "table")}`;
  await db.execute(`CREATE TABLE ${users} (id serial PRIMARY KEY, name text UNIQUE NOT NULL, karma int8, joined timestamptz DEFAULT now())`);
  console.log(`  CREATE TABLE ${users} — mixed case and a reserved word, both work because they are quoted`);

  line("insert: executeMany pipelines the statements in one round trip, all-or-nothing");
  const n = await db.executeMany(`INSERT INTO ${users} (name, karma) VALUES ($1, $2)`, [
    ["ada", 36n],
    ["grace", 85n],
    ["linus", 9007199254740993n],
  ]);
  console.log(`  inserted ${n} rows (int8 is a bigint: exact beyond 2^53)`);

  line("query with named parameters, typed rows");
  type User = { id: number; name: string; karma: bigint };
  const rows = await db.execute<User>(`SELECT id, name, karma FROM ${users} WHERE karma > :min ORDER BY id`, { min: 10 });
  table(rows);

  line("transaction: an error rolls everything back");
  try {
    await db.transaction(async (tx) => {
      await tx.execute(`INSERT INTO ${users} (name, karma) VALUES ('mallory', 0)`);
      console.log(`  inside: ${await tx.fetchVal(`SELECT count(*) FROM ${users}`)} users`);
      throw new Error("something went wrong");
    });
  } catch (e) {
    console.log(`  caught "${(e as Error).message}" → rolled back`);
  }
  console.log(`  after:  ${await db.fetchVal(`SELECT count(*) FROM ${users}`)} users`);

  line("savepoints: a nested transaction fails alone");
  await db.transaction(async (tx) => {
    await tx.execute(`UPDATE ${users} SET karma = karma + 1 WHERE name = 'ada'`);
    await tx
      .transaction(async (sp) => {
        await sp.execute(`UPDATE ${users} SET karma = -1 WHERE name = 'grace'`);
        throw new Error("undo grace only");
      })
      .catch(() => console.log("  savepoint rolled back; the outer transaction goes on"));
  });
  table(await db.execute(`SELECT name, karma FROM ${users} ORDER BY id`));

  line("errors keep SQLSTATE, detail and constraint");
  try {
    await db.execute(`INSERT INTO ${users} (name) VALUES ($1)`, ["ada"]);
  } catch (e) {
    if (e instanceof DatabaseError) console.log(`  ${e.name} ${e.code}: ${e.message}\n  detail: ${e.detail}\n  constraint: ${e.constraint}`);
  }
  try {
    await db.execute("SELECT * FROM no_such_table");
  } catch (e) {
    console.log(`  ${e instanceof TableNotFound ? "TableNotFound" : "?"} (${(e as DatabaseError).code}) — and the handle is still usable: ${await db.fetchVal("SELECT 'yes'")}`);
  }
  try {
    quoteIdentifier(`users"; DROP TABLE users; --`, "table");
  } catch (e) {
    if (e instanceof InvalidIdentifier) console.log(`  InvalidIdentifier: ${e.message}`);
  }

  line("moving data: COPY in from a generator, a server-side cursor out, LISTEN/NOTIFY");
  await db.execute(`CREATE TABLE ${quoteIdentifier(schema, "schema")}.events (id int PRIMARY KEY, label text)`);
  function* generated(count: number) {
    for (let i = 1; i <= count; i++) yield { id: i, label: `event\t${i}` }; // a tab: escaped by the COPY encoder
  }
  const copied = await db.copyInsert(`${schema}.events`, generated(10_000));
  console.log(`  copyInsert: ${copied} rows (the server's count), streamed from a generator`);
  let seen = 0;
  let sum = 0;
  for await (const row of db.stream<{ id: number }>(`SELECT id FROM ${quoteIdentifier(schema, "schema")}.events`, null, { batchSize: 1000 })) {
    seen++;
    sum += row.id;
  }
  console.log(`  stream: ${seen} rows read 1,000 at a time, ids summing to ${sum}`);
  const listener = db.listen("tscopg_demo");
  try {
    await listener.ready;
    await db.notify("tscopg_demo", { hello: "world" });
    for await (const note of listener) {
      console.log(`  notification on ${note.channel}: ${note.payload}`);
      break;
    }
  } finally {
    await listener.close();
  }

  line("sync vs async: the same API, blocking or not");
  const sdb = Database.fromUrl(server.url);
  try {
    const syncRows = sdb.execute<User>(`SELECT id, name, karma FROM ${users} ORDER BY id`);
    const asyncRows = await db.execute<User>(`SELECT id, name, karma FROM ${users} ORDER BY id`);
    console.log(`  identical results: ${JSON.stringify(syncRows, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)) === JSON.stringify(asyncRows, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
    sdb.transaction((tx) => {
      tx.execute(`INSERT INTO ${users} (name, karma) VALUES ('sync-user', 1)`);
    });
    console.log(`  sync transaction committed: ${sdb.fetchVal(`SELECT count(*) FROM ${users} WHERE name = 'sync-user'`)} row`);
    console.log("  (speed: `npm run bench` compares sync, async and raw node-postgres with care)");
  } finally {
    sdb.close();
  }
  line("done");
}

try {
  await main();
} catch (err) {
  if (!interrupted) {
    process.stderr.write(`tscopg demo: ${oneLine(err)}\n`);
    process.exitCode = 1;
  }
} finally {
  await cleanUp();
}
