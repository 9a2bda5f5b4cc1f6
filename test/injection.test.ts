/**
 * The injection test: a corpus of hostile inputs (quotes, semicolons, comments, spaces, NUL, control and look-alike
 * characters, over-long, empty, leading dashes, `a.b.c`, …) is fed to every name- and keyword-taking position of
 * every feature method (the call table is `test/injection/*.ts`, one file per feature area), async and sync. Each
 * call must be refused with `InvalidIdentifier` (names, keywords) or another non-server `TscopgError` (values);
 * no statement may reach the server (the handles count what their sessions send), and the catalog must be
 * unchanged: the sentinel tables the payloads name still hold their rows, nothing in this file's schema changed,
 * and no schema, role, database, extension or public relation named as a corpus entry appeared.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { ConnectionError, DatabaseError, InvalidIdentifier, TscopgError } from "../src/index.js";
import { asyncOnlyFeatures, featureFunctions } from "../src/features/registry.js";
import { MALICIOUS_IDENTIFIERS } from "../src/sql/identifiers.js";
import { AsyncRecordingDatabase, RecordingDatabase } from "./fixtures/recording-db.js";
import type { InjectionSpec } from "./injection/spec.js";
import { createTestSchema, rawQuery, type TestSchema } from "./support/db.js";

let ctx: TestSchema;
let adb: AsyncRecordingDatabase;
let db: RecordingDatabase;
let specs: InjectionSpec[] = [];

/** Valid qualified names are accepted where tables are (`schema.table`); every other dotted form is hostile. */
const QUALIFIED_OK = new Set(["schema.table"]);
const NAMES = [...MALICIOUS_IDENTIFIERS.filter((n) => !QUALIFIED_OK.has(n)), "x.", ".x", "s.t; DROP TABLE users", 'a."b"', "users\u0000"];
/** Extension names may contain `-` (`uuid-ossp`), so `a--b` is a valid one. */
const EXTENSIONS = NAMES.filter((n) => n !== "a--b");
const KEYWORDS = [
  ...NAMES,
  "btree; DROP TABLE users",
  "CASCADE --",
  "SELECT, DROP",
  "ALL PRIVILEGES; DROP ROLE postgres",
  "NO ACTION); DROP TABLE users; --",
  "json) ; DROP TABLE users",
  " ",
  "SELECT\u0000",
  "ＳＥＬＥＣＴ",
];
const VALUES = [
  ...NAMES,
  "2030-01-01'; DROP TABLE users; --",
  "infinity' OR '1'='1",
  "1 day; DROP TABLE users",
  "2030-13-45",
  "' || pg_sleep(10) || '",
  "E'\\x27'",
];
/** Features whose only parameters are booleans (nothing for the corpus to reach). */
const TAKES_NO_NAMES = new Set(["listDatabases", "listExtensions", "listSchemas", "listRoles", "size"]);
const CORPUS: Record<InjectionSpec["kind"], readonly string[]> = { name: NAMES, extension: EXTENSIONS, keyword: KEYWORDS, value: VALUES };

before(async () => {
  ctx = await createTestSchema("injection");
  for (const file of readdirSync(new URL("./injection/", import.meta.url))) {
    if (!file.endsWith(".ts") || file === "spec.ts") continue;
    const mod = (await import(new URL(`./injection/${file}`, import.meta.url).href)) as { specs: InjectionSpec[] };
    specs.push(...mod.specs);
  }
  // Sentinels named by the payloads (`DROP TABLE users`, `DROP TABLE y`), in this schema and in public's place.
  await rawQuery(`CREATE TABLE "${ctx.schema}".users (id int); INSERT INTO "${ctx.schema}".users VALUES (1);
                  CREATE TABLE "${ctx.schema}".y (id int); INSERT INTO "${ctx.schema}".y VALUES (2)`);
  adb = new AsyncRecordingDatabase(ctx.config);
  db = new RecordingDatabase(ctx.config);
});

after(async () => {
  db?.close();
  await adb?.close();
  await ctx?.drop();
});

/** What must not change: this schema's objects and rows, and cluster-wide names that could come from the corpus. */
async function catalog(): Promise<unknown> {
  const own = await rawQuery(
    `SELECT c.relname, c.relkind, (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid)::int AS constraints
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
    [ctx.schema],
  );
  const rows = await rawQuery(`SELECT (SELECT id FROM "${ctx.schema}".users) AS u, (SELECT id FROM "${ctx.schema}".y) AS y`);
  // A corpus entry itself (other test files create mixed-case names meanwhile: only the corpus is ours to check).
  const odd = "name = ANY($1)";
  const cluster = await rawQuery(
    `SELECT kind, name FROM (
       SELECT 'schema' AS kind, nspname::text AS name FROM pg_namespace UNION ALL
       SELECT 'role', rolname::text FROM pg_roles UNION ALL
       SELECT 'database', datname::text FROM pg_database UNION ALL
       SELECT 'extension', extname::text FROM pg_extension UNION ALL
       SELECT 'relation', relname::text FROM pg_class WHERE relnamespace = 'public'::regnamespace) x
     WHERE ${odd} ORDER BY 1, 2`,
    [[...new Set([...NAMES, ...KEYWORDS, ...VALUES])].filter((n) => !n.includes("\u0000"))],
  );
  return { own, rows, cluster };
}

/** The refusal a position must give. */
function refused(spec: InjectionSpec, bad: string, err: unknown, side: string): void {
  const label = `${side} ${spec.method} ${spec.position} ${JSON.stringify(bad)}`;
  assert.ok(err instanceof TscopgError, `${label}: ${String(err)}`);
  assert.ok(!(err instanceof DatabaseError) && !(err instanceof ConnectionError), `${label}: reached the server: ${(err as Error).message}`);
  if (spec.kind !== "value") assert.ok(err instanceof InvalidIdentifier, `${label}: ${(err as Error).constructor.name}: ${(err as Error).message}`);
}

describe("hostile names, keywords and values", () => {
  test("the call table covers every feature that takes a name, keyword or value", () => {
    assert.ok(specs.length > 0, "no injection specs found in test/injection/");
    for (const s of specs) assert.ok(s.method in adb, `${s.method} is not a method`);
    const covered = new Set(specs.map((s) => s.method));
    const missing = [...featureFunctions.keys()].filter((n) => !covered.has(n) && !TAKES_NO_NAMES.has(n));
    assert.deepEqual(missing, [], "features missing from test/injection/*.ts");
  });

  test("every position refuses every hostile input, async and sync, before anything is sent; the catalog is unchanged", async () => {
    const before = await catalog();
    const sentBefore = (await adb.statementsSent()).length;
    const syncSentBefore = db.statementsSent().length;
    const call = (target: object, method: string, args: unknown[]) => (target as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
    for (const spec of specs) {
      for (const bad of CORPUS[spec.kind]) {
        let err: unknown;
        try {
          await call(adb, spec.method, spec.args(bad));
        } catch (e) {
          err = e;
        }
        refused(spec, bad, err, "async");
        if (asyncOnlyFeatures.has(spec.method)) continue; // absent from the sync side
        let syncErr: unknown;
        try {
          call(db, spec.method, spec.args(bad));
        } catch (e) {
          syncErr = e;
        }
        refused(spec, bad, syncErr, "sync");
        assert.equal((syncErr as Error).constructor, (err as Error).constructor, `${spec.method} ${spec.position}: same class both sides`);
        assert.equal((syncErr as Error).message, (err as Error).message, `${spec.method} ${spec.position}: same message both sides`);
      }
      assert.deepEqual((await adb.statementsSent()).slice(sentBefore), [], `${spec.method} ${spec.position}: statements were sent (async)`);
      assert.deepEqual(db.statementsSent().slice(syncSentBefore), [], `${spec.method} ${spec.position}: statements were sent (sync)`);
    }
    assert.deepEqual(await catalog(), before);
  });

  test("the statement counter does count (a valid call sends its statements)", async () => {
    const n = (await adb.statementsSent()).length;
    await adb.execute("SELECT 1");
    assert.deepEqual((await adb.statementsSent()).slice(n), ["SELECT 1"]);
    const m = db.statementsSent().length;
    db.fetchVal("SELECT 2");
    assert.deepEqual(db.statementsSent().slice(m), ["SELECT 2"]);
  });
});
