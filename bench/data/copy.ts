/**
 * Bench section "copy" (issue 15): copyInsert (async and sync) against `psql \copy` of the same rows and against
 * pg-copy-streams fed bytes already encoded, on 1M rows × (int, text, float8, timestamptz, bool) (`BENCH_COPY_ROWS`)
 * and on pycopg's shape, 100k × (int, float8, text); and the read path: COPY TO decoded by the COPY engine against
 * `execute`, 1M rows × 3 columns.
 * @module
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFromStream } from "pg-copy-streams";
import { CopyDecoder, RowSink, parserFor } from "../../src/copy/decode.js";
import { CopyEncoder } from "../../src/copy/encode.js";
import { interleaved, rate, ratio, type BenchEnv, type BenchSection, type Candidate } from "../common.js";

const ROWS = Number(process.env.BENCH_COPY_ROWS ?? 1_000_000);
const SMALL = 100_000;
/** pycopg 0.10.1's copy_insert, best measured (100k × (int, float8, text)). */
const PYCOPG_COPY = 1_040_000;

interface Shape {
  label: string;
  table: string;
  ddl: string;
  rows: Record<string, unknown>[];
}

function shapes(): Shape[] {
  const base = Date.UTC(2024, 0, 1);
  return [
    {
      label: `${ROWS / 1e6}M x (int, text, float8, timestamptz, bool)`,
      table: "bench_copy5",
      ddl: "(id int, name text, score float8, at timestamptz, ok bool)",
      rows: Array.from({ length: ROWS }, (_, i) => ({ id: i, name: `name ${i}`, score: i * 0.25, at: new Date(base + i * 1000), ok: i % 2 === 0 })),
    },
    {
      label: "100k x (int, float8, text)",
      table: "bench_copy3",
      ddl: "(id int, score float8, name text)",
      rows: Array.from({ length: SMALL }, (_, i) => ({ id: i, score: i * 0.25, name: `name ${i}` })),
    },
  ];
}

/** The rows as COPY text chunks (made once: "bytes ready"). */
function encoded(rows: Record<string, unknown>[]): Buffer[] {
  const enc = new CopyEncoder("bench", Object.keys(rows[0]!));
  const out: Buffer[] = [];
  for (const r of rows) {
    const c = enc.objectRow(r);
    if (c) out.push(c);
  }
  const rest = enc.flush();
  if (rest) out.push(rest);
  return out;
}

async function writeShape(env: BenchEnv, s: Shape): Promise<void> {
  const { raw, adb, sdb, record } = env;
  await raw.query(`DROP TABLE IF EXISTS ${s.table}; CREATE TABLE ${s.table} ${s.ddl}`);
  const chunks = encoded(s.rows);
  const file = join(tmpdir(), `tscopg-bench-${process.pid}-${s.table}.txt`);
  writeFileSync(file, Buffer.concat(chunks));
  const n = s.rows.length;
  /** Times `run` on an empty table (the TRUNCATE is not timed). */
  const timed = (run: () => Promise<unknown> | unknown) => async () => {
    await raw.query(`TRUNCATE ${s.table}`);
    const t0 = performance.now();
    await run();
    return rate(n, t0);
  };
  const candidates: Candidate[] = [
    ["tscopg AsyncDatabase.copyInsert", timed(() => adb.copyInsert(s.table, s.rows))],
    ["tscopg Database.copyInsert (sync)", timed(() => sdb.copyInsert(s.table, s.rows))],
    ["psql \\copy (text file)", timed(() => {
      const r = spawnSync("/usr/bin/psql", [env.url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", `\\copy ${s.table} FROM '${file}'`], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
    })],
    ["pg-copy-streams, bytes ready", timed(() => pipeline(Readable.from(chunks), raw.query(copyFromStream(`COPY ${s.table} FROM STDIN`))))],
  ];
  try {
    (await interleaved(candidates)).forEach((v, k) => record(`copyInsert ${s.label}`, candidates[k]![0], v, "rows/s"));
  } finally {
    rmSync(file, { force: true });
    await raw.query(`DROP TABLE ${s.table}`);
  }
}

/** The read path: 1M rows × 3 columns by `execute` and by COPY TO decoded with the COPY engine. */
async function readPath(env: BenchEnv): Promise<void> {
  const { raw, adb, record } = env;
  await raw.query("DROP TABLE IF EXISTS bench_copy_read; CREATE TABLE bench_copy_read AS SELECT i AS id, i * 0.5::float8 AS score, 'name ' || i AS name FROM generate_series(1, 1000000) i");
  const { fields } = await adb.query("SELECT * FROM bench_copy_read LIMIT 0");
  const candidates: Candidate[] = [
    ["tscopg AsyncDatabase.execute", async () => {
      const t0 = performance.now();
      const rows = await adb.execute("SELECT * FROM bench_copy_read");
      return rate(rows.length, t0);
    }],
    ["copyTo + COPY engine decoder (rows)", async () => {
      const t0 = performance.now();
      const sink = new RowSink(fields.map((f) => f.name));
      const dec = new CopyDecoder(fields.map((f) => parserFor(f.dataTypeID)), sink);
      for await (const chunk of adb.copyTo("COPY bench_copy_read TO STDOUT")) dec.write(chunk);
      dec.end();
      return rate(sink.rows.length, t0);
    }],
  ];
  try {
    (await interleaved(candidates)).forEach((v, k) => record("read 1M x 3 cols", candidates[k]![0], v, "rows/s"));
  } finally {
    await raw.query("DROP TABLE bench_copy_read");
  }
}

export const bench: BenchSection = async (env) => {
  const all = shapes();
  for (const s of all) await writeShape(env, s);
  await readPath(env);
  const { get } = env;
  const big = `copyInsert ${all[0]!.label}`;
  const small = `copyInsert ${all[1]!.label}`;
  return [
    `  copyInsert ${ROWS / 1e6}M x5 vs psql \\copy`.padEnd(44) + `${ratio(get(big, "tscopg Async"), get(big, "psql"))}  [>= 0.90x]`,
    `  sync copyInsert ${ROWS / 1e6}M x5 vs psql \\copy`.padEnd(44) + ratio(get(big, "tscopg Database"), get(big, "psql")),
    `  copyInsert ${ROWS / 1e6}M x5 vs pg-copy-streams`.padEnd(44) + `${ratio(get(big, "tscopg Async"), get(big, "pg-copy"))}  (bytes ready)`,
    `  copyInsert ${ROWS / 1e6}M x5 vs pycopg (other shape)`.padEnd(44) + `${ratio(get(big, "tscopg Async"), PYCOPG_COPY)}  [>= 1.25x; pycopg 1.04M rows/s, 100k x3]`,
    "  copyInsert 100k x3 vs psql \\copy".padEnd(44) + ratio(get(small, "tscopg Async"), get(small, "psql")),
    "  copyInsert 100k x3 vs pycopg".padEnd(44) + `${ratio(get(small, "tscopg Async"), PYCOPG_COPY)}  [>= 1.25x; pycopg 1.04M rows/s]`,
    "  sync copyInsert 100k x3 vs pycopg".padEnd(44) + `${ratio(get(small, "tscopg Database"), PYCOPG_COPY)}  [>= 1.25x]`,
    "  read 1M x3: COPY decoder vs execute".padEnd(44) + ratio(get("read 1M", "copyTo"), get("read 1M", "tscopg Async")),
  ];
};
