/**
 * The built package as a user gets it: plain Node (no TypeScript loader) imports `dist/`, and the synchronous
 * facade starts its compiled worker. `npm test` builds first.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { serverUrl } from "./support/db.js";

test("dist/: ESM import, async and sync APIs, compiled worker", () => {
  assert.ok(existsSync("dist/index.js"), "npm test builds dist/ first");
  const script = `
    import { AsyncDatabase, Database, Config, TableNotFound } from "tscopg";
    const url = process.env.DATABASE_URL;
    const db = Database.fromUrl(url);
    const a = db.fetchVal("SELECT $1::int + 1", [41]);
    let cls = "";
    try { db.execute("SELECT * FROM no_such_table_dist"); } catch (e) { cls = e instanceof TableNotFound ? "TableNotFound" : String(e); }
    db.close();
    const adb = new AsyncDatabase(Config.fromUrl(url));
    const b = await adb.fetchVal("SELECT 'async'");
    await adb.close();
    console.log(JSON.stringify({ a, cls, b }));
  `;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, DATABASE_URL: serverUrl(), NODE_OPTIONS: "" },
    encoding: "utf8",
  });
  assert.deepEqual(JSON.parse(out.trim()), { a: 42, cls: "TableNotFound", b: "async" });
});
