/**
 * `targetSessionAttrs`: whether a server that accepted a connection is the kind the Config wants, checked the way
 * libpq 14+ checks it (`CONNECTION_CHECK_TARGET` in libpq's `fe-connect.c`).
 *
 * PostgreSQL 14+ reports `in_hot_standby` and `default_transaction_read_only` at start-up (ParameterStatus), so
 * the answer usually costs nothing; otherwise one query asks: `SHOW transaction_read_only` for `read-write` /
 * `read-only`, `SELECT pg_catalog.pg_is_in_recovery()` for `primary` / `standby` / `prefer-standby`.
 * @module
 */
import type { Client } from "pg";
import type { TargetSessionAttrs } from "../config.js";

/** What a server is: a primary, or a standby in recovery (hot standby). */
export type ServerRole = "primary" | "standby";

/** What is known about the server of a new connection (each field only when known). */
export interface ServerState {
  /** `standby` when the server is in recovery (a hot standby), else `primary`. */
  role?: ServerRole | undefined;
  /** Whether the session is read-only (a standby, or `default_transaction_read_only = on`). */
  readOnly?: boolean | undefined;
}

/** The start-up ParameterStatus values that answer the question, collected before the connection completes. */
export type ReportedStatus = ReadonlyMap<string, string>;

/** `on` / `off` as a boolean, `undefined` when not reported. */
function flag(value: string | undefined): boolean | undefined {
  return value === undefined ? undefined : value === "on";
}

/** What the start-up reports tell (PostgreSQL 14+ reports both settings; older servers neither). */
export function reportedState(status: ReportedStatus): ServerState {
  const standby = flag(status.get("in_hot_standby"));
  const defaultReadOnly = flag(status.get("default_transaction_read_only"));
  const state: ServerState = {};
  if (standby !== undefined) state.role = standby ? "standby" : "primary";
  // libpq: read-only = default_transaction_read_only || in_hot_standby, when both are known.
  if (standby !== undefined && defaultReadOnly !== undefined) state.readOnly = standby || defaultReadOnly;
  return state;
}

/** The single value of a one-row, one-column answer. */
async function scalar(client: Client, text: string): Promise<unknown> {
  const result = await client.query({ text, rowMode: "array" });
  return (result.rows[0] as unknown[] | undefined)?.[0];
}

const isTrue = (v: unknown) => v === true || v === "t" || v === "on" || v === "true";

/**
 * Completes `state` as far as `wanted` needs it (querying when the start-up reports did not tell) and says why the
 * server does not match: `undefined` when it does. `prefer-standby` is checked as `standby` (the caller falls back
 * to any host when no standby matched).
 */
export async function mismatch(client: Client, state: ServerState, wanted: TargetSessionAttrs): Promise<string | undefined> {
  switch (wanted) {
    case "any":
      return undefined;
    case "read-write":
    case "read-only": {
      state.readOnly ??= isTrue(await scalar(client, "SHOW transaction_read_only"));
      if (wanted === "read-write" && state.readOnly) {
        return state.role === "standby" ? "server is a standby, read-write wanted" : "session is read-only, read-write wanted";
      }
      if (wanted === "read-only" && !state.readOnly) return "session is read-write, read-only wanted";
      return undefined;
    }
    case "primary":
    case "standby":
    case "prefer-standby": {
      state.role ??= isTrue(await scalar(client, "SELECT pg_catalog.pg_is_in_recovery()")) ? "standby" : "primary";
      if (wanted === "primary") return state.role === "standby" ? "server is a standby, primary wanted" : undefined;
      return state.role === "primary" ? `server is a primary, standby ${wanted === "standby" ? "wanted" : "preferred"}` : undefined;
    }
  }
}
