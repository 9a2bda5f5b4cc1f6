/**
 * Roles (`db.admin`): create (with a SCRAM-SHA-256 verifier computed here), alter, drop, list, membership.
 * @module
 */
import { validateIdentifier } from "../sql/identifiers.js";
import type { Executor } from "./registry.js";

/** Whether role `name` exists. */
async function roleExists(db: Executor, name: string): Promise<boolean> {
  validateIdentifier(name, "role");
  return (await db.fetchVal<boolean>("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", [name])) === true;
}

export const roleFeatures = { roleExists };
