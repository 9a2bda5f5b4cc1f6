/**
 * TLS for node-postgres: {@link sslOptions} turns a Config's `sslmode` and its `sslrootcert` / `sslcert` /
 * `sslkey` / `sslpassword` options into the `ssl` client option, reading the certificate and key files.
 * @module
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import type { SslMode } from "../config.js";
import { fail } from "./checks.js";

/** Reads a certificate or key file for TLS. */
function readTlsFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    return fail(`cannot read the ${what} file ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
}

/**
 * The `ssl` option of node-postgres for `mode` (the rules are documented on `Config.connectParams`). The files
 * are read at each call; `sslpassword` becomes a non-enumerable `passphrase`.
 * @param options The Config's `options` (`sslrootcert`, `sslcert`, `sslkey`, `sslpassword`).
 * @param unixSocket Whether the host is a unix-socket directory: then never TLS.
 * @throws ConfigurationError when a certificate or key file cannot be read.
 */
export function sslOptions(
  mode: SslMode | null,
  options: Readonly<Record<string, string>>,
  unixSocket: boolean,
): false | ConnectionOptions {
  if (unixSocket || mode === null || mode === "disable" || mode === "allow" || mode === "prefer") return false;
  const rootcert = options.sslrootcert;
  let ssl: ConnectionOptions;
  if (mode === "verify-full") ssl = { rejectUnauthorized: true };
  else if (mode === "verify-ca" || (mode === "require" && rootcert !== undefined && rootcert !== "")) {
    ssl = { rejectUnauthorized: true, checkServerIdentity: () => undefined };
  } else ssl = { rejectUnauthorized: false };
  if (rootcert !== undefined && rootcert !== "" && rootcert !== "system") ssl.ca = readTlsFile(rootcert, "sslrootcert");
  const cert = options.sslcert;
  if (cert !== undefined && cert !== "") ssl.cert = readTlsFile(cert, "sslcert");
  const key = options.sslkey;
  if (key !== undefined && key !== "") ssl.key = readTlsFile(key, "sslkey");
  const passphrase = options.sslpassword;
  if (passphrase !== undefined && passphrase !== "") {
    Object.defineProperty(ssl, "passphrase", { value: passphrase, enumerable: false, writable: true, configurable: true });
  }
  return ssl;
}
