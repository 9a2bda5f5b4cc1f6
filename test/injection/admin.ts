/**
 * Injection call table for the roles and grants features (`db.admin`): every name, keyword and checked-value
 * position, the hostile value `bad` there and everything else valid. Role names are valid but never created, so
 * a call that slipped through would change the catalog (or fail on the server, having sent a statement).
 */
import type { InjectionSpec } from "./spec.js";

const ROLE = "tscopg_injection_role";
const OTHER = "tscopg_injection_other";

export const specs: InjectionSpec[] = [
  // roles
  { method: "createRole", kind: "name", position: "name", args: (bad) => [bad, { password: "not-sent" }] },
  { method: "createRole", kind: "name", position: "options.inRoles[]", args: (bad) => [ROLE, { inRoles: [OTHER, bad] }] },
  { method: "createRole", kind: "name", position: "options.inRoles", args: (bad) => [ROLE, { inRoles: bad }] },
  { method: "createRole", kind: "value", position: "options.validUntil", args: (bad) => [ROLE, { validUntil: bad }] },
  { method: "dropRole", kind: "name", position: "name", args: (bad) => [bad] },
  { method: "roleExists", kind: "name", position: "name", args: (bad) => [bad] },
  { method: "alterRole", kind: "name", position: "name", args: (bad) => [bad, { login: true }] },
  { method: "alterRole", kind: "name", position: "options.renameTo", args: (bad) => [ROLE, { renameTo: bad }] },
  { method: "alterRole", kind: "value", position: "options.validUntil", args: (bad) => [ROLE, { validUntil: bad }] },
  { method: "grantRole", kind: "name", position: "role", args: (bad) => [bad, ROLE] },
  { method: "grantRole", kind: "name", position: "member", args: (bad) => [ROLE, bad] },
  { method: "revokeRole", kind: "name", position: "role", args: (bad) => [bad, ROLE] },
  { method: "revokeRole", kind: "name", position: "member", args: (bad) => [ROLE, bad] },
  { method: "listRoleMembers", kind: "name", position: "role", args: (bad) => [bad] },
  // grants (objects that do not exist: anything sent would fail on the server)
  { method: "grant", kind: "keyword", position: "privileges", args: (bad) => [bad, "tscopg_injection_table", ROLE] },
  { method: "grant", kind: "keyword", position: "privileges[]", args: (bad) => [["SELECT", bad], "tscopg_injection_table", ROLE] },
  { method: "grant", kind: "name", position: "on (table)", args: (bad) => ["SELECT", bad, ROLE] },
  { method: "grant", kind: "name", position: "on[] (table)", args: (bad) => ["SELECT", ["tscopg_injection_table", bad], ROLE] },
  { method: "grant", kind: "name", position: "on (function)", args: (bad) => ["EXECUTE", bad, ROLE, { objectType: "FUNCTION" }] },
  { method: "grant", kind: "name", position: "on (schema)", args: (bad) => ["USAGE", bad, ROLE, { objectType: "SCHEMA" }] },
  { method: "grant", kind: "name", position: "on[] (database)", args: (bad) => ["CONNECT", ["postgres", bad], ROLE, { objectType: "DATABASE" }] },
  { method: "grant", kind: "name", position: "to", args: (bad) => ["SELECT", "tscopg_injection_table", bad] },
  { method: "grant", kind: "name", position: "to[]", args: (bad) => ["SELECT", "tscopg_injection_table", [ROLE, bad]] },
  { method: "grant", kind: "keyword", position: "options.objectType", args: (bad) => ["SELECT", "tscopg_injection_table", ROLE, { objectType: bad }] },
  { method: "grant", kind: "name", position: "options.schema", args: (bad) => ["SELECT", "tscopg_injection_table", ROLE, { schema: bad }] },
  { method: "grant", kind: "name", position: "options.schema (ALL TABLES)", args: (bad) => ["SELECT", "ALL TABLES", ROLE, { schema: bad }] },
  { method: "revoke", kind: "keyword", position: "privileges", args: (bad) => [bad, "tscopg_injection_table", ROLE] },
  { method: "revoke", kind: "keyword", position: "privileges[]", args: (bad) => [["SELECT", bad], "tscopg_injection_table", ROLE] },
  { method: "revoke", kind: "name", position: "on (table)", args: (bad) => ["SELECT", bad, ROLE] },
  { method: "revoke", kind: "name", position: "on (schema)", args: (bad) => ["USAGE", bad, ROLE, { objectType: "SCHEMA" }] },
  { method: "revoke", kind: "name", position: "fromRole", args: (bad) => ["SELECT", "tscopg_injection_table", bad] },
  { method: "revoke", kind: "name", position: "fromRole[]", args: (bad) => ["SELECT", "tscopg_injection_table", [ROLE, bad]] },
  { method: "revoke", kind: "keyword", position: "options.objectType", args: (bad) => ["SELECT", "tscopg_injection_table", ROLE, { objectType: bad }] },
  { method: "revoke", kind: "name", position: "options.schema", args: (bad) => ["SELECT", "tscopg_injection_table", ROLE, { schema: bad }] },
  { method: "listRoleGrants", kind: "name", position: "role", args: (bad) => [bad] },
];
