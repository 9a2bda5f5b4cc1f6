/**
 * node-postgres client options for one host of a Config (the work of `Config.connectParams`). The password is
 * passed in by the Config, which keeps it private, and set as a non-enumerable property.
 * @module
 */
import type { ClientConfig } from "pg";
import type { Config, PasswordFunction } from "../config.js";
import { DEFAULT_CONNECT_TIMEOUT_SECONDS, fail, settingWords } from "./checks.js";
import { sslOptions } from "./tls.js";

/** `config.connectParams(hostIndex)`; see there for what it contains. */
export function clientParams(config: Config, password: string | PasswordFunction, hostIndex: number): ClientConfig {
  const target = config.hosts[hostIndex];
  if (!Number.isInteger(hostIndex) || target === undefined) {
    fail(`host index ${hostIndex} is out of range (this Config has ${config.hosts.length} host(s))`);
  }
  const params: ClientConfig = {
    host: target.host,
    port: target.port,
    database: config.database,
    user: config.user,
    keepAlive: true,
    connectionTimeoutMillis: (config.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000,
    ssl: sslOptions(config.sslmode, config.options, target.host.startsWith("/")),
  };
  Object.defineProperty(params, "password", { value: password, enumerable: false, writable: true, configurable: true });
  if (config.applicationName !== null) params.application_name = config.applicationName;
  const fallbackName = config.options.fallback_application_name;
  if (fallbackName !== undefined) params.fallback_application_name = fallbackName;
  if (config.statementTimeout !== null) params.statement_timeout = config.statementTimeout;
  const negotiation = config.options.sslnegotiation;
  if (params.ssl && (negotiation === "postgres" || negotiation === "direct")) params.sslnegotiation = negotiation;

  const words: string[] = [];
  if (config.options.options) words.push(config.options.options);
  if (config.statementTimeout === 0) words.push("-c statement_timeout=0");
  words.push(...settingWords(config.options));
  if (words.length > 0) params.options = words.join(" ");
  return params;
}
