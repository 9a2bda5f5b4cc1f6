/**
 * The usual set-up of a test file that checks both sides: a schema of its own, an `AsyncDatabase` and a sync
 * `Database` on it, closed and dropped after the file.
 */
import { after, before } from "node:test";
import { AsyncDatabase, Database } from "../../src/index.js";
import { createTestSchema, type TestSchema } from "./db.js";

/** The file's schema and its two handles. */
export interface BothHandles {
  ctx: TestSchema;
  adb: AsyncDatabase;
  db: Database;
}

/**
 * Registers the hooks: before the file's tests, a fresh schema `t_<label>_…` and both handles on it, handed to
 * `use` (`(h) => ({ ctx, adb, db } = h)`, followed by the file's own set-up when it has one: top-level `before`
 * hooks do not wait for each other, so set-up that needs the handles goes in `use`, which is awaited); after them,
 * both handles closed and the schema dropped.
 */
export function bothHandles(label: string, use: (h: BothHandles) => unknown): void {
  let h: Partial<BothHandles> = {};
  before(async () => {
    const ctx = await createTestSchema(label);
    h = { ctx, adb: new AsyncDatabase(ctx.config), db: new Database(ctx.config) };
    await use(h as BothHandles);
  });
  after(async () => {
    h.db?.close();
    await h.adb?.close();
    await h.ctx?.drop();
  });
}
