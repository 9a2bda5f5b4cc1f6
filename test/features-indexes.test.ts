/**
 * Indexes (`db.schema.createIndex / dropIndex / listIndexes`): the statement builders and the default names
 * without a server; then each method against the real server, async and sync, read back from the catalog and from
 * the planner (the index exists with that method and is used), inside transactions, and its errors.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AsyncDatabase,
  Database,
  DuplicateTable,
  InvalidIdentifier,
  ObjectNotInPrerequisiteState,
  ParameterError,
  TableNotFound,
  UndefinedObject,
  UniqueViolation,
} from "../src/index.js";
import { createIndexStatement, dropIndexStatement, type IndexSpec } from "../src/features/indexes.js";
import { defaultName } from "../src/features/names.js";
import { expression, expressionProblem } from "../src/features/predicate.js";
import { target } from "../src/features/target.js";
import { loose, sameErrorOn, type Loose } from "./support/both-sides.js";
import { rawQuery, type TestSchema } from "./support/db.js";
import { bothHandles } from "./support/handles.js";

describe("default names (no server)", () => {
  test("as PostgreSQL names them while they fit in 63 bytes", () => {
    assert.equal(defaultName("orders", ["customer_id"], "idx"), "orders_customer_id_idx");
    assert.equal(defaultName("Order", ["user", "select"], "idx"), "Order_user_select_idx");
    assert.equal(defaultName("orders", [], "pkey"), "orders_pkey");
    assert.equal(defaultName("orders", ["a", "b"], "fkey"), "orders_a_b_fkey");
    assert.equal(defaultName("orders", ["email"], "key"), "orders_email_key");
    const exact = `${"t".repeat(55)}_c_idx`; // 61 bytes
    assert.equal(defaultName("t".repeat(55), ["c"], "idx"), exact);
    assert.equal(defaultName("t".repeat(57), ["c"], "idx"), `${"t".repeat(57)}_c_idx`); // 63 bytes: kept
  });

  test("longer ones are cut, get a hash of the whole input, stay within 63 bytes, and are deterministic", () => {
    const cols = ["a_rather_long_column_name", "another_rather_long_column_name"];
    const name = defaultName("a_table_with_a_long_name", cols, "idx");
    assert.ok(Buffer.byteLength(name) <= 63, name);
    assert.match(name, /^a_table_with_a_long_name_a_rather_long_column_name_[0-9a-f]{8}_idx$/);
    assert.equal(defaultName("a_table_with_a_long_name", cols, "idx"), name);
    // Inputs that differ only after the cut, or only in how `_` splits them, keep distinct names.
    const other = defaultName("a_table_with_a_long_name", [...cols.slice(0, 1), "another_rather_long_column_nam3"], "idx");
    assert.notEqual(other, name);
    assert.equal(other.slice(0, -13), name.slice(0, -13)); // same readable part, different hash
    assert.notEqual(defaultName("t".repeat(40), ["a_b", "c".repeat(30)], "idx"), defaultName("t".repeat(40), ["a", "b_" + "c".repeat(30)], "idx"));
    assert.notEqual(defaultName("t".repeat(60), [], "pkey"), defaultName("t".repeat(61), [], "pkey"));
    assert.equal(Buffer.byteLength(defaultName("t".repeat(63), [], "pkey")), 63);
    assert.notEqual(defaultName("t".repeat(60), ["c"], "idx"), defaultName("t".repeat(60), ["c"], "key"));
  });

  test("multi-byte names are cut on a character boundary", () => {
    const name = defaultName("é".repeat(31), ["ü".repeat(31)], "idx");
    assert.ok(Buffer.byteLength(name) <= 63);
    assert.match(name, /^é+_[0-9a-f]{8}_idx$/u);
    assert.ok(!name.includes("\ufffd"));
  });

  test("invalid names are refused", () => {
    assert.throws(() => defaultName("a b", ["c"], "idx"), InvalidIdentifier);
    assert.throws(() => defaultName("t", ["c;"], "idx"), InvalidIdentifier);
  });
});

describe("partial-index predicates (no server)", () => {
  test("one expression is accepted, strings, identifiers, dollar quotes and comments read as PostgreSQL reads them", () => {
    for (const ok of [
      "deleted_at IS NULL",
      "(a OR b) AND c > 0",
      "note <> 'a;b)('",
      "\"we;ird)\" > 0",
      "note = $$;)$$",
      "note = $t$ $$ ; $t$",
      "note = E'it\\'s; )'",
      "note = 'it''s'",
      "n > 0 -- a comment; with ) in it",
      "/* ; ( */ n > 0 /* nested /* ; */ */",
      "a$b > 0",
    ]) {
      assert.equal(expressionProblem(ok), undefined, ok);
    }
    assert.equal(expression("n > 0 -- c", "where").text, "(n > 0 -- c\n)");
  });

  test("more than one expression, or an unterminated piece, is refused", () => {
    const bad: [string, RegExp][] = [
      ["n > 0; DROP TABLE t", /;/],
      ["n > 0) OR (true", /closes a parenthesis/],
      ["(n > 0", /not closed/],
      ["note = 'abc", /string constant/],
      ["\"abc > 0", /quoted identifier/],
      ["n > 0 /* x", /block comment/],
      ["note = $$abc", /dollar-quoted/],
      ["note = E'abc\\'", /string constant/],
      ["note = 'a\\' OR true --'", /backslash/],
      ["n \\ 2", /backslash/],
      ["n > 0\u0000", /NUL/],
      ["", /empty/],
      ["   ", /empty/],
    ];
    for (const [text, reason] of bad) {
      assert.match(expressionProblem(text) ?? "(accepted)", reason, JSON.stringify(text));
      assert.throws(() => expression(text, "createIndex(): option where"), (e: unknown) => e instanceof ParameterError && /one SQL expression/.test(e.message));
    }
    assert.throws(() => expression(5, "where"), ParameterError);
  });
});

describe("statement builders (no server)", () => {
  const t = target("test", "Order", "app");
  const base: IndexSpec = { table: t, name: "Order_user_idx", columns: ["user"] };

  test("CREATE INDEX with every clause, names quoted, the method checked", () => {
    assert.equal(createIndexStatement(base).text, 'CREATE INDEX IF NOT EXISTS "Order_user_idx" ON "app"."Order" USING btree ("user")');
    assert.equal(
      createIndexStatement({ ...base, columns: ["user", "select"], unique: true, method: "HASH", concurrently: true, ifNotExists: false, include: ["n"], where: "n > 0" }).text,
      'CREATE UNIQUE INDEX CONCURRENTLY "Order_user_idx" ON "app"."Order" USING hash ("user", "select") INCLUDE ("n") WHERE (n > 0\n)',
    );
    for (const m of ["GiST", "spgist", "GIN", "Brin", " btree "]) assert.match(createIndexStatement({ ...base, method: m }).text, /USING (gist|spgist|gin|brin|btree) /);
    for (const m of ["rtree", "btree;", "gin --", "", "b tree"]) assert.throws(() => createIndexStatement({ ...base, method: m }), InvalidIdentifier, m);
    assert.throws(() => createIndexStatement({ ...base, columns: ["a;b"] }), InvalidIdentifier);
    assert.throws(() => createIndexStatement({ ...base, columns: [] }), InvalidIdentifier);
    assert.throws(() => createIndexStatement({ ...base, name: "x".repeat(64) }), InvalidIdentifier);
    assert.throws(() => createIndexStatement({ ...base, where: "true); DROP TABLE x; --" }), ParameterError);
  });

  test("DROP INDEX", () => {
    const i = target("test", "app.Order_user_idx", undefined, "index");
    assert.equal(dropIndexStatement(i).text, 'DROP INDEX IF EXISTS "app"."Order_user_idx"');
    assert.equal(dropIndexStatement(i, { ifExists: false, concurrently: true }).text, 'DROP INDEX CONCURRENTLY "app"."Order_user_idx"');
  });
});

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
const A = () => loose(adb);
const S = () => loose(db);
/** The test table, schema-qualified (the table methods default to schema `public`). */
const O = () => `${ctx.schema}.Order`;

interface Catalog {
  method: string;
  unique: boolean;
  valid: boolean;
  table: string;
  def: string;
}

/** The index as the catalog has it, read without the library; undefined when there is none. */
async function catalog(name: string): Promise<Catalog | undefined> {
  const rows = await rawQuery<Catalog & Record<string, unknown>>(
    `SELECT am.amname AS method, x.indisunique AS unique, x.indisvalid AS valid, t.relname AS table, pg_get_indexdef(x.indexrelid) AS def
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = i.relnamespace JOIN pg_am am ON am.oid = i.relam
      WHERE n.nspname = $1 AND i.relname = $2`,
    [ctx.schema, name],
  );
  return rows[0];
}

/** The plan of `query` with sequential scans disabled (inside a transaction that is rolled back). */
async function plan(query: string): Promise<string> {
  return adb.transaction(async (tx) => {
    await tx.execute("SET LOCAL enable_seqscan = off");
    const rows = await tx.execute<{ "QUERY PLAN": string }>(`EXPLAIN ${query}`);
    await tx.rollback();
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  });
}

function usesIndex(p: string, name: string): boolean {
  return new RegExp(`(Index Scan|Index Only Scan|Bitmap Index Scan) (using|on) "?${name}"? `).test(p);
}

async function indexNames(table = "Order"): Promise<string[]> {
  const rows = await rawQuery<{ n: string }>(
    "SELECT i.relname AS n FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = $1 AND t.relname = $2 ORDER BY 1",
    [ctx.schema, table],
  );
  return rows.map((r) => r.n);
}

bothHandles("indexes", async (h) => {
  ({ ctx, adb, db } = h);
  await adb.execute(`CREATE TABLE "Order" (id int PRIMARY KEY, "user" text, "select" int, tags text[], span int4range, n int, email text, note text)`);
  await adb.execute(`INSERT INTO "Order" SELECT g, 'u' || g, g % 10, ARRAY['t' || (g % 5)], int4range(g, g + 10), g, 'e' || g || '@x', CASE WHEN g % 2 = 0 THEN 'even' END
    FROM generate_series(1, 300) g`);
  await adb.execute(`ANALYZE "Order"`);
});

describe("createIndex", () => {
  const methods: { method: string; column: string; query: string }[] = [
    { method: "BTREE", column: "user", query: `SELECT id FROM "Order" WHERE "user" = 'u7'` },
    { method: "Hash", column: "email", query: `SELECT id FROM "Order" WHERE email = 'e7@x'` },
    { method: "GiST", column: "span", query: `SELECT id FROM "Order" WHERE span && int4range(3, 5)` },
    { method: "spgist", column: "note", query: `SELECT id FROM "Order" WHERE note = 'even'` },
    { method: "GIN", column: "tags", query: `SELECT id FROM "Order" WHERE tags @> ARRAY['t1']` },
    { method: "brin", column: "n", query: `SELECT id FROM "Order" WHERE n = 7` },
  ];

  test("each method, any case, async and sync: the index exists with that method and the planner uses it", async () => {
    for (const { method, column, query } of methods) {
      const expected = `Order_${column}_idx`;
      assert.equal(await A().createIndex!(O(), [column], { method }), expected);
      const c = await catalog(expected);
      assert.equal(c?.method, method.toLowerCase(), method);
      assert.equal(c?.table, "Order");
      assert.ok(c?.valid);
      assert.ok(usesIndex(await plan(query), expected), `${method}: ${await plan(query)}`);
      await A().dropIndex!(`${ctx.schema}.${expected}`);
      assert.equal(await catalog(expected), undefined);
      // The same on the synchronous Database, with the column as a single name.
      assert.equal(S().createIndex!(O(), column, { method }), expected);
      assert.equal((await catalog(expected))?.method, method.toLowerCase());
      S().dropIndex!(`${ctx.schema}.${expected}`);
      assert.equal(await catalog(expected), undefined);
    }
  });

  test("unique, multi-column in order, INCLUDE, partial (the predicate is used), reserved-word names", async () => {
    const name = await A().createIndex!(`${ctx.schema}.Order`, ["select", "user"], { unique: true, include: ["note"], where: "n > 0 -- positive" });
    assert.equal(name, "Order_select_user_idx");
    const c = await catalog(name as string);
    assert.equal(c?.unique, true);
    assert.equal(c?.def, `CREATE UNIQUE INDEX "Order_select_user_idx" ON ${ctx.schema}."Order" USING btree ("select", "user") INCLUDE (note) WHERE (n > 0)`);
    await assert.rejects(adb.execute(`INSERT INTO "Order" (id, "select", "user", n) VALUES (1000, 7, 'u7', 1)`), /duplicate key/);
    await adb.execute(`INSERT INTO "Order" (id, "select", "user", n) VALUES (1000, 7, 'u7', -1)`); // outside the predicate
    await adb.execute(`DELETE FROM "Order" WHERE id = 1000`);
    assert.ok(usesIndex(await plan(`SELECT note FROM "Order" WHERE "select" = 3 AND n > 0`), name as string));
    const sName = S().createIndex!(O(), ["select", "user"], { unique: true, include: "note", where: "n > 0", schema: ctx.schema });
    assert.equal(sName, name); // already there, the same index: nothing done
    await A().dropIndex!(name, { schema: ctx.schema });
  });

  test("a given name, and ifNotExists: the same index again is nothing; a name taken by something else is DuplicateTable", async () => {
    assert.equal(await A().createIndex!(O(), ["n"], { name: "ByN" }), "ByN");
    assert.equal(await A().createIndex!(O(), ["n"], { name: "ByN" }), "ByN");
    assert.equal(S().createIndex!(O(), ["n"], { name: "ByN" }), "ByN");
    const other = await sameErrorOn(A(), S(), (q) => q.createIndex!(O(), ["n", "user"], { name: "ByN" }));
    assert.ok(other instanceof DuplicateTable);
    assert.match(other.message, /index t_indexes_\w+\.ByN already exists with another definition \(CREATE INDEX "ByN"/);
    for (const opts of [{ method: "hash" }, { unique: true }, { include: ["note"] }, { where: "n > 1" }]) {
      await assert.rejects(A().createIndex!(O(), ["n"], { name: "ByN", ...opts }), DuplicateTable, JSON.stringify(opts));
    }
    const table = await sameErrorOn(A(), S(), (q) => q.createIndex!(O(), ["n"], { name: "Order" }));
    assert.ok(table instanceof DuplicateTable);
    assert.match(table.message, /relation t_indexes_\w+\.Order already exists and is not an index/);
    await adb.execute(`CREATE TABLE "Other" (n int)`);
    await assert.rejects(A().createIndex!(`${ctx.schema}.Other`, ["n"], { name: "ByN" }), DuplicateTable); // an index of another table
    const strict = await sameErrorOn(A(), S(), (q) => q.createIndex!(O(), ["n"], { name: "ByN", ifNotExists: false }));
    assert.ok(strict instanceof DuplicateTable);
    assert.match(strict.message, /relation "ByN" already exists/);
    assert.deepEqual(await indexNames(), ["ByN", "Order_pkey"]);
    assert.deepEqual(await indexNames("Other"), []);
    await A().dropIndex!(`${ctx.schema}.ByN`);
    await adb.execute(`DROP TABLE "Other"`);
  });

  test("over-long generated names are shortened with a hash; a given over-long name is refused", async () => {
    const col = "c".repeat(40);
    const table = "t".repeat(30);
    await adb.execute(`CREATE TABLE "${table}" ("${col}" int, "${col}2" int)`);
    const one = (await A().createIndex!(`${ctx.schema}.${table}`, [col])) as string;
    const two = S().createIndex!(`${ctx.schema}.${table}`, [`${col}2`]) as string;
    assert.notEqual(one, two);
    for (const n of [one, two]) {
      assert.ok(Buffer.byteLength(n) <= 63);
      assert.equal((await catalog(n))?.table, table);
    }
    assert.equal(await A().createIndex!(`${ctx.schema}.${table}`, [col]), one); // deterministic: found again
    const e = await sameErrorOn(A(), S(), (q) => q.createIndex!(`${ctx.schema}.${table}`, [col], { name: "n".repeat(64) }));
    assert.ok(e instanceof InvalidIdentifier);
    await adb.execute(`DROP TABLE "${table}"`);
  });

  test("inside a transaction it joins it (and rolls back with it), async and sync", async () => {
    await adb.transaction(async (tx) => {
      assert.equal(await tx.schema.createIndex(O(), ["select"]), "Order_select_idx");
      assert.equal(await tx.listIndexes(O()).then((l) => l.some((i) => i.name === "Order_select_idx")), true);
      assert.equal(await catalog("Order_select_idx"), undefined); // not committed: invisible outside
      await tx.rollback();
    });
    assert.equal(await catalog("Order_select_idx"), undefined);
    assert.throws(() =>
      db.transaction((tx) => {
        assert.equal(tx.schema.createIndex(O(), ["select"]), "Order_select_idx");
        assert.equal(db.listIndexes(O()).some((i) => i.name === "Order_select_idx"), true); // joins the transaction
        throw new Error("roll back");
      }),
    /roll back/);
    assert.equal(await catalog("Order_select_idx"), undefined);
  });

  test("concurrently: built on a session of its own, valid; refused inside a transaction, where it would wait forever", async () => {
    assert.equal(await A().createIndex!(O(), ["n"], { concurrently: true }), "Order_n_idx");
    assert.equal((await catalog("Order_n_idx"))?.valid, true);
    await A().dropIndex!(`${ctx.schema}.Order_n_idx`, { concurrently: true });
    assert.equal(await catalog("Order_n_idx"), undefined);
    assert.equal(S().createIndex!(O(), ["n"], { concurrently: true, method: "brin" }), "Order_n_idx");
    assert.equal((await catalog("Order_n_idx"))?.method, "brin");
    assert.equal(S().createIndex!(O(), ["n"], { concurrently: true, method: "brin" }), "Order_n_idx"); // exists: nothing
    await assert.rejects(A().createIndex!(O(), ["n"], { concurrently: true }), DuplicateTable); // another method
    S().dropIndex!(`${ctx.schema}.Order_n_idx`, { concurrently: true, ifExists: false });
    assert.equal(await catalog("Order_n_idx"), undefined);

    const refused = /concurrently cannot be used inside a transaction/;
    await assert.rejects(
      adb.transaction(async (tx) => {
        await tx.execute(`UPDATE "Order" SET n = n WHERE id = 1`);
        await tx.createIndex(O(), ["n"], { concurrently: true });
      }),
      (e: unknown) => e instanceof ParameterError && refused.test(e.message),
    );
    await assert.rejects(adb.transaction(() => adb.schema.createIndex(O(), ["n"], { concurrently: true })), refused); // ambient
    await assert.rejects(adb.connect((conn) => conn.createIndex(O(), ["n"], { concurrently: true })), refused);
    assert.throws(() => db.transaction((tx) => tx.createIndex(O(), ["n"], { concurrently: true })), refused);
    await adb.execute(`CREATE INDEX "Order_n_idx" ON "Order" (n)`);
    await assert.rejects(adb.transaction((tx) => tx.dropIndex(`${ctx.schema}.Order_n_idx`, { concurrently: true })), refused);
    assert.throws(() => db.transaction((tx) => tx.dropIndex(`${ctx.schema}.Order_n_idx`, { concurrently: true })), refused);
    assert.ok(await catalog("Order_n_idx"));
    // A connection in autocommit is not a transaction: there it runs.
    await adb.connect({ autocommit: true }, (conn) => conn.dropIndex(`${ctx.schema}.Order_n_idx`, { concurrently: true }));
    assert.equal(await catalog("Order_n_idx"), undefined);
    assert.equal(await adb.connect({ autocommit: true }, (conn) => conn.createIndex(O(), ["n"], { concurrently: true })), "Order_n_idx");
    await A().dropIndex!(`${ctx.schema}.Order_n_idx`);
  });

  test("an invalid index left by a failed concurrent build is reported, not taken for the one asked for", async () => {
    await adb.execute(`CREATE TABLE dupes (n int); INSERT INTO dupes VALUES (1), (1)`);
    const dupes = `${ctx.schema}.dupes`;
    await assert.rejects(A().createIndex!(dupes, ["n"], { unique: true, concurrently: true }), UniqueViolation);
    const [left] = (await A().listIndexes!(dupes)) as { name: string; valid: boolean }[];
    assert.deepEqual([left?.name, left?.valid], ["dupes_n_idx", false]);
    assert.equal((await catalog("dupes_n_idx"))?.valid, false);
    for (const concurrently of [false, true]) {
      const e = await sameErrorOn(A(), S(), (x) => x.createIndex!(dupes, ["n"], { unique: true, concurrently }));
      assert.ok(e instanceof ObjectNotInPrerequisiteState, e.message);
      assert.match(e.message, /index t_indexes_\w+\.dupes_n_idx exists but is not valid .*drop it and create it again/);
    }
    await A().dropIndex!(`${ctx.schema}.dupes_n_idx`);
    await adb.execute("DELETE FROM dupes WHERE ctid = (SELECT min(ctid) FROM dupes)");
    assert.equal(S().createIndex!(dupes, ["n"], { unique: true, concurrently: true }), "dupes_n_idx");
    assert.equal((await catalog("dupes_n_idx"))?.valid, true);
    await adb.execute("DROP TABLE dupes");
  });

  test("errors: missing table, bad names, methods, options and predicates, the same on both sides, nothing created", async () => {
    const before = await indexNames();
    const missing = await sameErrorOn(A(), S(), (q) => q.createIndex!(`${ctx.schema}.Missing`, ["n"]));
    assert.ok(missing instanceof TableNotFound);
    assert.equal(missing.message, `table "${ctx.schema}"."Missing" does not exist`);
    assert.equal((missing as TableNotFound).schema, ctx.schema);
    assert.equal((missing as TableNotFound).table, "Missing");
    const cases: [(q: Loose) => unknown, new (...a: never[]) => Error, RegExp][] = [
      [(q) => q.createIndex!(O(), ["n"], { method: "rtree" }), InvalidIdentifier, /invalid index method "rtree": expected one of btree, hash, gist, spgist, gin, brin/],
      [(q) => q.createIndex!(O(), ["n"], { method: "btree; DROP TABLE x" }), InvalidIdentifier, /invalid index method/],
      [(q) => q.createIndex!(O(), ["n; DROP TABLE x"]), InvalidIdentifier, /invalid column name/],
      [(q) => q.createIndex!(O(), []), ParameterError, /columns must name at least one column/],
      [(q) => q.createIndex!(O(), 5), ParameterError, /columns must be a column name or an array/],
      [(q) => q.createIndex!(O(), ["n"], { include: ["x y"] }), InvalidIdentifier, /invalid column name/],
      [(q) => q.createIndex!(O(), ["n"], { name: "a.b" }), InvalidIdentifier, /invalid index name/],
      [(q) => q.createIndex!(O(), ["n"], { where: "n > 0; DROP TABLE x" }), ParameterError, /option where must be one SQL expression: it contains a ;/],
      [(q) => q.createIndex!(O(), ["n"], { where: "n > 0) WITH (fillfactor = 10" }), ParameterError, /closes a parenthesis/],
      [(q) => q.createIndex!(O(), ["n"], { wher: "n > 0" }), ParameterError, /unknown option "wher"/],
      [(q) => q.createIndex!(O(), ["n"], { unique: "yes" }), ParameterError, /option unique must be a boolean/],
      [(q) => q.createIndex!(O(), ["n"], { concurrently: 1 }), ParameterError, /option concurrently must be a boolean/],
      [(q) => q.createIndex!(`${ctx.schema}.Order`, ["n"], { schema: "public" }), ParameterError, /names schema/],
      [(q) => q.dropIndex!(`${ctx.schema}.x`, { cascade: true }), ParameterError, /unknown option "cascade"/],
      [(q) => q.dropIndex!("a.b.c"), InvalidIdentifier, /invalid index name/],
      [(q) => q.listIndexes!(O(), { schema: "bad schema" }), InvalidIdentifier, /invalid schema name/],
    ];
    for (const [call, cls, pattern] of cases) await sameErrorOn(A(), S(), call, cls, pattern);
    assert.deepEqual(await indexNames(), before);
  });
});

describe("dropIndex", () => {
  test("drops the index (name or schema.name); a missing one is nothing, or UndefinedObject with ifExists: false", async () => {
    await adb.execute(`CREATE INDEX "DropMe" ON "Order" (n)`);
    await A().dropIndex!(`${ctx.schema}.DropMe`);
    assert.equal(await catalog("DropMe"), undefined);
    await A().dropIndex!(`${ctx.schema}.DropMe`);
    S().dropIndex!("DropMe", { schema: ctx.schema });
    const e = await sameErrorOn(A(), S(), (q) => q.dropIndex!(`${ctx.schema}.DropMe`, { ifExists: false }));
    assert.ok(e instanceof UndefinedObject);
    assert.match(e.message, /index "DropMe" does not exist/);
    await adb.transaction(async (tx) => {
      await tx.execute(`CREATE INDEX "InTx" ON "Order" (n)`);
      await tx.schema.dropIndex(`${ctx.schema}.InTx`);
      assert.equal((await tx.listIndexes(O())).some((i) => i.name === "InTx"), false);
      await tx.rollback();
    });
  });
});

describe("listIndexes", () => {
  test("name, method, unique, primary, columns in index order (expressions as text), include, predicate, definition", async () => {
    await adb.execute(`CREATE INDEX "Order_expr_idx" ON "Order" (lower(email), "select" DESC) INCLUDE (note) WHERE n > 5`);
    await adb.execute(`CREATE UNIQUE INDEX "Order_user_uidx" ON "Order" USING btree ("user")`);
    const expected = [
      {
        name: "Order_expr_idx",
        method: "btree",
        unique: false,
        primary: false,
        columns: ["lower(email)", "select"],
        include: ["note"],
        predicate: "n > 5",
        valid: true,
        definition: `CREATE INDEX "Order_expr_idx" ON ${ctx.schema}."Order" USING btree (lower(email), "select" DESC) INCLUDE (note) WHERE (n > 5)`,
      },
      {
        name: "Order_pkey",
        method: "btree",
        unique: true,
        primary: true,
        columns: ["id"],
        include: [],
        predicate: null,
        valid: true,
        definition: `CREATE UNIQUE INDEX "Order_pkey" ON ${ctx.schema}."Order" USING btree (id)`,
      },
      {
        name: "Order_user_uidx",
        method: "btree",
        unique: true,
        primary: false,
        columns: ["user"],
        include: [],
        predicate: null,
        valid: true,
        definition: `CREATE UNIQUE INDEX "Order_user_uidx" ON ${ctx.schema}."Order" USING btree ("user")`,
      },
    ];
    assert.deepEqual(await A().listIndexes!(O()), expected);
    assert.deepEqual(await adb.schema.listIndexes(`${ctx.schema}.Order`), expected);
    assert.deepEqual(S().listIndexes!(O(), { schema: ctx.schema }), expected);
    assert.deepEqual(db.schema.listIndexes(O()), expected);
    await adb.execute(`DROP INDEX "Order_expr_idx", "Order_user_uidx"`);
    await adb.execute(`CREATE TABLE bare (n int)`);
    assert.deepEqual(await A().listIndexes!(`${ctx.schema}.bare`), []);
    const e = await sameErrorOn(A(), S(), (q) => q.listIndexes!(`${ctx.schema}.Missing`));
    assert.ok(e instanceof TableNotFound);
  });
});
