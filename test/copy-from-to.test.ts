/**
 * copyFrom and copyTo on both sides (CSV in, text and CSV out, round trips), leaving copyTo early without a leak,
 * progress, statement checks; and the COPY text decoder giving exactly what `execute` gives.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { beforeEach, describe, test } from "node:test";
import { AsyncDatabase, Database, ParameterError, TscopgError, UniqueViolation } from "../src/index.js";
import { CopyDecoder, ColumnSink, RowSink, parserFor } from "../src/copy/decode.js";
import { CopyEncoder } from "../src/copy/encode.js";
import { rawQuery, sessionsNamed, type TestSchema } from "./support/db.js";
import { refusedBeforeSending, sameError, type Either } from "./support/both-sides.js";
import { bothHandles } from "./support/handles.js";

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;

bothHandles("copyio", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  await adb.execute("CREATE TABLE big (id int PRIMARY KEY, v text)");
  await adb.execute("CREATE TABLE nokey (v text)");
  await adb.execute("INSERT INTO big SELECT i, repeat('x', 100) || i FROM generate_series(1, 50000) i");
});

beforeEach(async () => {
  await adb.execute("TRUNCATE t");
});

const CSV = 'id,v\n1,plain\n2,"with, comma"\n3,"multi\nline"\n4,"quote ""q"""\n5,\n';
const CSV_ROWS = [
  { id: 1, v: "plain" },
  { id: 2, v: "with, comma" },
  { id: 3, v: "multi\nline" },
  { id: 4, v: 'quote "q"' },
  { id: 5, v: null },
];
const COPY_CSV_IN = "COPY t (id, v) FROM STDIN (FORMAT csv, HEADER true)";

const concat = (chunks: Iterable<Buffer>): string => Buffer.concat([...chunks]).toString();
async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(c);
  return concat(out);
}

describe("copyFrom", () => {
  test("CSV as one string, as chunks cut anywhere, as a Readable, as Buffers; the same on the sync side", async () => {
    assert.equal(await adb.copyFrom(COPY_CSV_IN, CSV), 5);
    assert.deepEqual(await adb.execute("SELECT * FROM t ORDER BY id"), CSV_ROWS);
    await adb.execute("TRUNCATE t");
    const bytes = Buffer.from(CSV);
    const pieces = [bytes.subarray(0, 7), bytes.subarray(7, 30), bytes.subarray(30)];
    assert.equal(await adb.copyFrom(COPY_CSV_IN, Readable.from(pieces)), 5);
    await adb.execute("TRUNCATE t");
    async function* gen() {
      for (const ch of CSV) yield ch; // one character per chunk
    }
    assert.equal(await adb.copyFrom(COPY_CSV_IN, gen()), 5);
    await adb.execute("TRUNCATE t");
    assert.equal(db.copyFrom(COPY_CSV_IN, pieces), 5);
    assert.deepEqual(db.execute("SELECT * FROM t ORDER BY id"), CSV_ROWS);
    await adb.execute("TRUNCATE t");
    assert.equal(db.copyFrom(COPY_CSV_IN, CSV), 5);
  });

  test("a server error (duplicate key) fails it all, the same on both sides; a failing source gives its own error", async () => {
    await adb.execute("INSERT INTO t VALUES (4, 'kept')");
    await sameError(() => adb.copyFrom(COPY_CSV_IN, CSV), () => db.copyFrom(COPY_CSV_IN, CSV), UniqueViolation);
    const boom = new Error("reader failed");
    async function* failing() {
      yield "id,v\n10,a\n";
      throw boom;
    }
    await assert.rejects(adb.copyFrom(COPY_CSV_IN, failing()), (e) => e === boom);
    assert.deepEqual(await adb.execute("SELECT * FROM t"), [{ id: 4, v: "kept" }]);
  });

  test("onProgress: bytes increasing, the last call with the server's row count", async () => {
    const lines = Array.from({ length: 30000 }, (_, i) => `${i},value ${i}\n`);
    const seen: { rows: number; bytes: number }[] = [];
    assert.equal(await adb.copyFrom("COPY t FROM STDIN (FORMAT csv)", lines, { onProgress: (p) => void seen.push(p) }), 30000);
    assert.ok(seen.length >= 3);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.bytes >= seen[i - 1]!.bytes);
    assert.deepEqual(seen.at(-1), { rows: 30000, bytes: lines.join("").length });
  });
});

describe("copyTo", () => {
  test("text and CSV out, read back into another table: a round trip, async and sync", async () => {
    await adb.copyFrom(COPY_CSV_IN, CSV);
    const csv = await collect(adb.copyTo("COPY t TO STDOUT (FORMAT csv, HEADER true)"));
    assert.equal(csv, 'id,v\n1,plain\n2,"with, comma"\n3,"multi\nline"\n4,"quote ""q"""\n5,\n');
    assert.equal(concat(db.copyTo("COPY t TO STDOUT (FORMAT csv, HEADER true)")), csv);
    const text = await collect(adb.copyTo("COPY (SELECT * FROM t ORDER BY id) TO STDOUT"));
    assert.equal(text, "1\tplain\n2\twith, comma\n3\tmulti\\nline\n4\tquote \"q\"\n5\t\\N\n");
    await adb.execute("CREATE TABLE t2 (LIKE t)");
    try {
      assert.equal(await adb.copyFrom("COPY t2 FROM STDIN", text), 5);
      assert.deepEqual(await adb.execute("SELECT * FROM t2 ORDER BY id"), CSV_ROWS);
    } finally {
      await adb.execute("DROP TABLE t2");
    }
  });

  test("lazy: nothing runs before the first next(); the statement is checked at the call", async () => {
    const it = adb.copyTo("COPY (SELECT 1/0) TO STDOUT");
    await assert.rejects(it.next(), /division by zero/);
    assert.deepEqual(await it.next(), { done: true, value: undefined });
  });

  test("leaving early (break, return) ends the COPY and gives the connection back: no leak, the db still works", async () => {
    const name = `${ctx.schema}_copyto`;
    await using one = new AsyncDatabase(ctx.config.with({ applicationName: name }), { maxConnections: 1, acquireTimeout: 3000 });
    await one.fetchVal("SELECT 1");
    for (let k = 0; k < 10; k++) {
      let got = 0;
      for await (const chunk of one.copyTo("COPY big TO STDOUT")) {
        got += chunk.length;
        break;
      }
      assert.ok(got > 0);
      assert.equal(await one.fetchVal("SELECT count(*) FROM big"), 50000n);
    }
    // All of it still reads after the abandoned ones (a fresh session replaced each closed one).
    const all = await collect(one.copyTo("COPY big TO STDOUT"));
    assert.equal(all.split("\n").length - 1, 50000);
    assert.ok(one.connectionCount <= 2);
    assert.ok((await sessionsNamed(name)) <= 2);
    // Sync: break out, then the same handle still works.
    for (const chunk of db.copyTo("COPY big TO STDOUT")) {
      assert.ok(chunk.length > 0);
      break;
    }
    assert.equal(db.fetchVal("SELECT count(*) FROM big"), 50000n);
  });

  test("onProgress on both sides: increasing rows and bytes, the last call the server's count", async () => {
    for (const side of ["async", "sync"] as const) {
      const seen: { rows: number; bytes: number }[] = [];
      const onProgress = (p: { rows: number; bytes: number }) => void seen.push(p);
      const text = side === "async" ? await collect(adb.copyTo("COPY big TO STDOUT", { onProgress })) : concat(db.copyTo("COPY big TO STDOUT", { onProgress }));
      assert.ok(seen.length >= 3, `${side}: ${seen.length} calls`);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.rows >= seen[i - 1]!.rows && seen[i]!.bytes >= seen[i - 1]!.bytes);
      assert.deepEqual(seen.at(-1), { rows: 50000, bytes: Buffer.byteLength(text) });
    }
  });

  test("statements that are not the right COPY, bad options, an aborted signal: refused before anything is sent", async () => {
    // The async copyTo throws at the call (as the sync one does): seen here as a rejection, as the helper expects.
    const copyToNext = (q: Either, sql: string) => {
      try {
        return (q as AsyncDatabase).copyTo(sql).next();
      } catch (err) {
        if (q instanceof AsyncDatabase) return Promise.reject(err);
        throw err;
      }
    };
    await refusedBeforeSending(
      ctx.config,
      [
        [(q: Either) => q.copyFrom("SELECT 1", "x"), ParameterError, /COPY … FROM STDIN/],
        [(q: Either) => q.copyFrom("COPY t TO STDOUT", "x"), ParameterError, /COPY … FROM STDIN/],
        [(q: Either) => q.copyFrom("COPY t FROM STDIN", 42 as never), ParameterError, /data must be/],
        [(q: Either) => q.copyFrom("COPY t FROM STDIN", "1\tx\n", { nope: true } as never), ParameterError, /unknown option/],
        [(q: Either) => copyToNext(q, "COPY t FROM STDIN"), ParameterError, /COPY … TO STDOUT/],
        [(q: Either) => copyToNext(q, "SELECT * FROM t"), ParameterError, /COPY … TO STDOUT/],
      ],
      (q) => q.copyFrom(`COPY "${ctx.schema}".nokey FROM STDIN`, ["sent\n"]),
    );
    await assert.rejects(adb.copyFrom("COPY t FROM STDIN", "1\tx\n", { signal: AbortSignal.abort() }), (e) => e instanceof TscopgError && /abort/.test((e as Error).message));
    await assert.rejects(adb.copyTo("COPY t TO STDOUT", { signal: AbortSignal.abort() }).next(), (e) => e instanceof TscopgError && /abort/.test((e as Error).message));
  });
});

describe("the COPY text encoder, by values (for columnar sources)", () => {
  test("valuesRow encodes like objectRow; a wrong value count or a NUL is refused naming the row and field", async () => {
    const enc = new CopyEncoder("test", ["id", "v"]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) {
      const c = enc.valuesRow([i, i % 3 === 0 ? null : `v\t${i}\\`]);
      if (c) chunks.push(c);
    }
    chunks.push(enc.flush()!);
    assert.ok(chunks.length > 2, "several chunks");
    assert.equal(await adb.copyFrom("COPY t (id, v) FROM STDIN", chunks), 20_000);
    assert.deepEqual(await adb.fetchOne("SELECT * FROM t WHERE id = 7"), { id: 7, v: "v\t7\\" });
    assert.equal(await adb.fetchVal("SELECT count(*) FROM t WHERE v IS NULL"), 6667n);
    assert.throws(() => enc.valuesRow([1]), /row 20000 has 1 values for 2 columns/);
    assert.throws(() => enc.valuesRow([1, "a\0"]), /test\(\): row 20000, field 2: a NUL character/);
    assert.equal(enc.flush(), undefined, "a refused row leaves nothing behind");
  });
});

describe("the COPY text decoder", () => {
  test("gives exactly what execute gives, as rows and as columns, whatever the chunk boundaries", async () => {
    await adb.execute(`CREATE TABLE d (id int, s text, big int8, num numeric, ts timestamptz, j jsonb, b bytea, ints int[], f float8, flag bool, day date)`);
    await adb.execute(
      `INSERT INTO d SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE E'a\\tb\\nc\\\\d é😀' || i END, i * 10000000000, i / 7.0, now() - i * interval '1 hour',
         jsonb_build_object('i', i, 't', E'x\\ty'), decode('00ff0a5c', 'hex'), ARRAY[i, NULL], i / 3.0, i % 2 = 0, date '2020-01-01' + i
       FROM generate_series(1, 3000) i`,
    );
    const expected = await adb.execute("SELECT * FROM d ORDER BY id");
    const { fields } = await adb.query("SELECT * FROM d LIMIT 0");
    const out = Buffer.from(await collect(adb.copyTo("COPY (SELECT * FROM d ORDER BY id) TO STDOUT")));
    for (const step of [1, 7, 4096, out.length]) {
      const rows = new RowSink(fields.map((f) => f.name));
      const dec = new CopyDecoder(fields.map((f) => parserFor(f.dataTypeID)), rows);
      for (let i = 0; i < out.length; i += step) dec.write(out.subarray(i, i + step));
      dec.end();
      assert.deepEqual(rows.rows, expected, `chunks of ${step}`);
    }
    const cols = new ColumnSink(fields.length);
    const dec = new CopyDecoder(fields.map((f) => parserFor(f.dataTypeID)), cols);
    dec.write(out);
    dec.end();
    assert.deepEqual(cols.columns[1], expected.map((r) => r.s));
    assert.deepEqual(cols.columns[2], expected.map((r) => r.big));
    const cut = new CopyDecoder([parserFor(23)], new RowSink(["x"]));
    cut.write(Buffer.from("1\n2"));
    assert.throws(() => cut.end(), /middle of a row/);
    await rawQuery(`DROP TABLE "${ctx.schema}".d`);
  });
});
