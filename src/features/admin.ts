/**
 * `db.admin`: roles and privileges (the rest of pycopg's AdminAccessor comes with the schema/admin issue).
 * @module
 */
import { validateIdentifier } from "../sql/identifiers.js";
import type { Executor } from "./registry.js";

/** Whether role `name` exists. */
async function roleExists(db: Executor, name: string): Promise<boolean> {
  validateIdentifier(name, "role");
  return (await db.fetchVal<boolean>("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", [name])) === true;
}

export const adminFeatures = { roleExists };
