/**
 * Settings from the environment (the work of `Config.fromEnv`): `DATABASE_URL`, else the `DB_*` / `PG*` variables,
 * with an optional `.env` file read by `util.parseEnv` underneath (never copied into `process.env`).
 * @module
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import type { ConfigInit, FromEnvOptions, SslMode } from "../config.js";
import { combineHosts, fail, isSslMode, oneOf, SSL_MODES, TARGET_SESSION_ATTRS, toNonNegativeInt } from "./checks.js";

/** What the environment names: a connection URL (`DATABASE_URL`) or the settings of the separate variables. */
export type EnvSettings = { kind: "url"; url: string } | { kind: "init"; init: ConfigInit };

function isFile(file: string): boolean {
  try {
    return existsSync(file) && statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads the environment (and the `.env` file) the way `Config.fromEnv` documents.
 * @throws ConfigurationError when an explicit `dotenvPath` does not exist or a value is invalid (port `abc`, …).
 */
export function readEnv(dotenvPath: string | null | undefined, opts: FromEnvOptions): EnvSettings {
  const env = opts.env ?? process.env;
  let fileVars: Record<string, string | undefined> = {};
  if (opts.loadDotenvFile ?? true) {
    let file: string | null = null;
    if (dotenvPath !== undefined && dotenvPath !== null && dotenvPath !== "") {
      file = path.resolve(dotenvPath);
      if (!isFile(file)) fail(`the .env file ${JSON.stringify(file)} does not exist`);
    } else {
      const fallback = path.resolve(process.cwd(), ".env");
      if (isFile(fallback)) file = fallback;
    }
    if (file !== null) {
      try {
        fileVars = parseEnv(readFileSync(file, "utf8"));
      } catch (err) {
        fail(`cannot read the .env file ${JSON.stringify(file)}: ${(err as Error).message}`);
      }
    }
  }
  const vars: Record<string, string | undefined> = { ...fileVars };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) vars[key] = value;

  /** The first non-empty variable among `names`. */
  const get = (...names: string[]): { name: string; value: string } | undefined => {
    for (const name of names) {
      const value = vars[name];
      if (value !== undefined && value !== "") return { name, value };
    }
    return undefined;
  };

  const databaseUrl = get("DATABASE_URL");
  if (databaseUrl) return { kind: "url", url: databaseUrl.value };

  const host = get("DB_HOST", "PGHOST");
  const port = get("DB_PORT", "PGPORT");
  const hosts = combineHosts(
    host ? host.value.split(",") : [],
    port ? port.value.split(",") : [],
    `invalid ${[host, port].flatMap((v) => (v ? [`${v.name}=${JSON.stringify(v.value)}`] : [])).join(", ")}`,
  );

  const sslmode = get("DB_SSLMODE", "PGSSLMODE");
  if (sslmode && !isSslMode(sslmode.value)) {
    fail(`invalid ${sslmode.name} ${JSON.stringify(sslmode.value)} (expected one of ${SSL_MODES.join(", ")})`);
  }
  const connectTimeout = get("DB_CONNECT_TIMEOUT", "PGCONNECT_TIMEOUT");
  const statementTimeout = get("DB_STATEMENT_TIMEOUT");
  const queryTimeout = get("DB_QUERY_TIMEOUT");
  const target = get("PGTARGETSESSIONATTRS");

  const options: Record<string, string> = {};
  const extra: [string, string][] = [
    ["PGOPTIONS", "options"],
    ["PGSSLROOTCERT", "sslrootcert"],
    ["PGSSLCERT", "sslcert"],
    ["PGSSLKEY", "sslkey"],
  ];
  for (const [variable, key] of extra) {
    const found = get(variable);
    if (found) options[key] = found.value;
  }

  return {
    kind: "init",
    init: {
      hosts,
      database: get("DB_NAME", "PGDATABASE")?.value,
      user: get("DB_USER", "PGUSER")?.value,
      password: get("DB_PASSWORD", "PGPASSWORD")?.value,
      sslmode: (sslmode?.value as SslMode | undefined) ?? null,
      applicationName: get("DB_APPLICATION_NAME", "PGAPPNAME")?.value ?? null,
      connectTimeout: connectTimeout ? toNonNegativeInt(connectTimeout.value, connectTimeout.name) : null,
      statementTimeout: statementTimeout ? toNonNegativeInt(statementTimeout.value, statementTimeout.name) : null,
      queryTimeout: queryTimeout ? toNonNegativeInt(queryTimeout.value, queryTimeout.name) : null,
      targetSessionAttrs: target ? oneOf(target.value, TARGET_SESSION_ATTRS, target.name) : null,
      options,
    },
  };
}
