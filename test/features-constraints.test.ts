/**
 * Constraints (`db.schema.addPrimaryKey / addForeignKey / addUniqueConstraint / listConstraints`): the statement
 * builders without a server; then each method against the real server, async and sync, read back from the catalog
 * and from behaviour (the key refuses duplicates, the foreign key really cascades or sets null), inside
 * transactions, and its errors.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AsyncDatabase,
  Database,
  ForeignKeyViolation,
  InvalidIdentifier,
  InvalidTableDefinition,
  ParameterError,
  TableNotFound,
  UniqueViolation,
} from "../src/index.js";
import { addForeignKeyStatement, addPrimaryKeyStatement, addUniqueStatement } from "../src/features/constraints.js";
import { target } from "../src/features/target.js";
import { loose, sameErrorOn, type Loose } from "./support/both-sides.js";
import { rawQuery, type TestSchema } from "./support/db.js";
import { bothHandles } from "./support/handles.js";

describe("statement builders (no server)", () => {
  const t = target("test", "Order", "app");
  const u = target("test", "user", "auth");

  test("primary key, unique, foreign key with its actions in any case", () => {
    assert.equal(addPrimaryKeyStatement(t, "Order_pkey", ["id", "Key"]).text, 'ALTER TABLE "app"."Order" ADD CONSTRAINT "Order_pkey" PRIMARY KEY ("id", "Key")');
    assert.equal(addUniqueStatement(t, "Order_email_key", ["email"]).text, 'ALTER TABLE "app"."Order" ADD CONSTRAINT "Order_email_key" UNIQUE ("email")');
    assert.equal(
      addForeignKeyStatement(t, "Order_user_fkey", ["user"], u, ["id"]).text,
      'ALTER TABLE "app"."Order" ADD CONSTRAINT "Order_user_fkey" FOREIGN KEY ("user") REFERENCES "auth"."user" ("id")',
    );
    assert.equal(
      addForeignKeyStatement(t, "f", ["a", "b"], u, ["x", "y"], { onDelete: "cascade", onUpdate: " set   null " }).text,
      'ALTER TABLE "app"."Order" ADD CONSTRAINT "f" FOREIGN KEY ("a", "b") REFERENCES "auth"."user" ("x", "y") ON DELETE CASCADE ON UPDATE SET NULL',
    );
    assert.match(addForeignKeyStatement(t, "f", ["a"], u, ["x"], { onUpdate: "Set Default" }).text, /\("x"\) ON UPDATE SET DEFAULT$/);
    for (const bad of ["DROP", "CASCADE; DROP TABLE x", "set-null", "NOACTION", "", "cascade --"]) {
      assert.throws(() => addForeignKeyStatement(t, "f", ["a"], u, ["x"], { onDelete: bad }), InvalidIdentifier, bad);
    }
    assert.throws(() => addPrimaryKeyStatement(t, "x;", ["id"]), InvalidIdentifier);
    assert.throws(() => addUniqueStatement(t, "k", ['a"b']), InvalidIdentifier);
  });
});

let ctx: TestSchema;
let adb: AsyncDatabase;
let db: Database;
const A = () => loose(adb);
const S = () => loose(db);
/** A table of this test's schema, qualified (the table methods default to schema `public`). */
const q = (name: string) => `${ctx.schema}.${name}`;

interface Row {
  name: string;
  type: string;
  columns: string[];
  refTable: string | null;
  def: string;
}

/** The table's constraints as the catalog has them, read without the library. */
async function catalog(table: string): Promise<Row[]> {
  return rawQuery<Row & Record<string, unknown>>(
    `SELECT c.conname AS name, c.contype::text AS type,
        ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
        c.confrelid::regclass::text AS "refTable", pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND t.relname = $2 ORDER BY c.conname`,
    [ctx.schema, table],
  );
}

bothHandles("constraints", (h) => ({ ctx, adb, db } = h));

describe("addPrimaryKey and addUniqueConstraint", () => {
  test("default names as PostgreSQL's, key order kept, the key refuses duplicates, async and sync", async () => {
    await adb.execute(`CREATE TABLE "user" ("Key" int NOT NULL, id int NOT NULL, email text, "select" text)`);
    await adb.execute(`CREATE TABLE "Order" (id int NOT NULL, email text)`);
    assert.equal(await A().addPrimaryKey!(q("user"), ["Key", "id"]), "user_pkey");
    assert.equal(S().addPrimaryKey!("Order", "id", { schema: ctx.schema }), "Order_pkey");
    assert.equal(await A().addUniqueConstraint!("user", ["email", "select"], { schema: ctx.schema }), "user_email_select_key");
    assert.equal(S().addUniqueConstraint!(q("Order"), ["email"], { name: "OrderEmail" }), "OrderEmail");
    assert.deepEqual(await catalog("user"), [
      { name: "user_email_select_key", type: "u", columns: ["email", "select"], refTable: "-", def: 'UNIQUE (email, "select")' },
      { name: "user_pkey", type: "p", columns: ["Key", "id"], refTable: "-", def: 'PRIMARY KEY ("Key", id)' },
    ]);
    assert.deepEqual(await catalog("Order"), [
      { name: "OrderEmail", type: "u", columns: ["email"], refTable: "-", def: "UNIQUE (email)" },
      { name: "Order_pkey", type: "p", columns: ["id"], refTable: "-", def: "PRIMARY KEY (id)" },
    ]);
    await adb.execute(`INSERT INTO "user" VALUES (1, 1, 'a', 'x')`);
    await assert.rejects(adb.execute(`INSERT INTO "user" VALUES (1, 1, 'b', 'x')`), UniqueViolation);
    await assert.rejects(adb.execute(`INSERT INTO "user" VALUES (1, 2, 'a', 'x')`), UniqueViolation);
    await adb.execute(`INSERT INTO "user" VALUES (1, 2, 'a', 'y')`);
    // A second primary key, a duplicate name: the server's errors, the same on both sides.
    await sameErrorOn(A(), S(), (x) => x.addPrimaryKey!(q("user"), ["email"], { name: "pk2" }), InvalidTableDefinition);
    await adb.execute(`CREATE TABLE dup (n int)`);
    await adb.execute(`INSERT INTO dup VALUES (1), (1)`);
    await sameErrorOn(A(), S(), (x) => x.addUniqueConstraint!(q("dup"), "n"), UniqueViolation);
    assert.deepEqual(await catalog("dup"), []);
  });

  test("over-long default names are shortened with a hash and stay distinct", async () => {
    const table = "t".repeat(40);
    await adb.execute(`CREATE TABLE "${table}" ("${"a".repeat(20)}" int, "${"a".repeat(20)}_b" int)`);
    const k1 = (await A().addUniqueConstraint!(q(table), ["a".repeat(20)])) as string;
    const k2 = S().addUniqueConstraint!(q(table), [`${"a".repeat(20)}_b`]) as string;
    const pk = (await A().addPrimaryKey!(q(table), [`${"a".repeat(20)}_b`])) as string;
    assert.equal(pk, `${table}_pkey`);
    assert.notEqual(k1, k2);
    for (const n of [k1, k2]) assert.ok(Buffer.byteLength(n) <= 63 && /_[0-9a-f]{8}_key$/.test(n), n);
    assert.deepEqual((await catalog(table)).map((r) => r.name).sort(), [k1, k2, pk].sort());
  });
});

describe("addForeignKey", () => {
  test("ON DELETE CASCADE really deletes the children; ON UPDATE CASCADE follows the key (async)", async () => {
    await adb.execute(`CREATE TABLE parent (id int PRIMARY KEY, "Code" int UNIQUE)`);
    await adb.execute(`CREATE TABLE child (id int, "parentId" int)`);
    const name = await A().addForeignKey!(q("child"), ["parentId"], "parent", ["id"], { onDelete: "cascade", onUpdate: "Cascade" });
    assert.equal(name, "child_parentId_fkey");
    const [fk] = (await catalog("child")).filter((r) => r.type === "f");
    assert.deepEqual(fk, {
      name: "child_parentId_fkey",
      type: "f",
      columns: ["parentId"],
      refTable: `${ctx.schema}.parent`,
      def: `FOREIGN KEY ("parentId") REFERENCES ${ctx.schema}.parent(id) ON UPDATE CASCADE ON DELETE CASCADE`,
    });
    await adb.execute("INSERT INTO parent VALUES (1, 10), (2, 20)");
    await adb.execute(`INSERT INTO child VALUES (1, 1), (2, 1), (3, 2)`);
    await assert.rejects(adb.execute(`INSERT INTO child VALUES (4, 3)`), ForeignKeyViolation);
    await adb.execute("DELETE FROM parent WHERE id = 1");
    assert.deepEqual(await adb.execute(`SELECT id, "parentId" FROM child ORDER BY id`), [{ id: 3, parentId: 2 }]);
    await adb.execute("UPDATE parent SET id = 5 WHERE id = 2");
    assert.deepEqual(await adb.execute(`SELECT id, "parentId" FROM child ORDER BY id`), [{ id: 3, parentId: 5 }]);
  });

  test("ON DELETE SET NULL really sets null; composite keys pair up in order; a named key in another schema (sync)", async () => {
    await adb.execute(`CREATE SCHEMA "${ctx.schema}_ref"`);
    try {
      await adb.execute(`CREATE TABLE "${ctx.schema}_ref"."user" (a int, b int, PRIMARY KEY (b, a))`);
      await adb.execute(`CREATE TABLE "select" (x int, y int, z int)`);
      const name = S().addForeignKey!("select", ["x", "y"], "user", ["a", "b"], {
        schema: ctx.schema,
        refSchema: `${ctx.schema}_ref`,
        name: "Sel_User",
        onDelete: "SET NULL",
      });
      assert.equal(name, "Sel_User");
      const [fk] = await catalog("select");
      assert.equal(fk?.def, `FOREIGN KEY (x, y) REFERENCES ${ctx.schema}_ref."user"(a, b) ON DELETE SET NULL`);
      assert.deepEqual(fk?.columns, ["x", "y"]);
      await adb.execute(`INSERT INTO "${ctx.schema}_ref"."user" VALUES (1, 2), (3, 4)`);
      await adb.execute(`INSERT INTO "select" VALUES (1, 2, 7), (3, 4, 8)`);
      await assert.rejects(adb.execute(`INSERT INTO "select" VALUES (2, 1, 9)`), ForeignKeyViolation); // pairs, in order
      await adb.execute(`DELETE FROM "${ctx.schema}_ref"."user" WHERE a = 1`);
      assert.deepEqual(await adb.execute(`SELECT x, y, z FROM "select" ORDER BY z`), [
        { x: null, y: null, z: 7 },
        { x: 3, y: 4, z: 8 },
      ]);
      // refTable as schema.table
      await adb.execute(`CREATE TABLE other (p int, q int)`);
      assert.equal(await A().addForeignKey!(q("other"), ["p", "q"], `${ctx.schema}_ref.user`, ["a", "b"]), "other_p_q_fkey");
      assert.equal((await catalog("other"))[0]?.refTable, `${ctx.schema}_ref."user"`);
    } finally {
      await adb.execute(`DROP SCHEMA "${ctx.schema}_ref" CASCADE`);
    }
  });

  test("errors: missing tables, bad actions, unpaired columns, the same on both sides, nothing added", async () => {
    await adb.execute(`CREATE TABLE p2 (id int PRIMARY KEY)`);
    await adb.execute(`CREATE TABLE c2 (pid int, n int)`);
    await adb.execute(`INSERT INTO c2 VALUES (1, 1)`);
    const missing = await sameErrorOn(A(), S(), (x) => x.addForeignKey!(q("c2"), ["pid"], "missing", ["id"]));
    assert.ok(missing instanceof TableNotFound);
    assert.equal(missing.message, `table "${ctx.schema}"."missing" does not exist`);
    await sameErrorOn(A(), S(), (x) => x.addForeignKey!(q("missing"), ["pid"], "p2", ["id"]), TableNotFound);
    const cases: [(x: Loose) => unknown, new (...a: never[]) => Error, RegExp][] = [
      [(x) => x.addForeignKey!(q("c2"), ["pid"], "p2", ["id"], { onDelete: "DROP TABLE p2" }), InvalidIdentifier, /invalid foreign key action "DROP TABLE p2": expected one of NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT/],
      [(x) => x.addForeignKey!(q("c2"), ["pid"], "p2", ["id"], { onUpdate: "cascade;" }), InvalidIdentifier, /invalid foreign key action/],
      [(x) => x.addForeignKey!(q("c2"), ["pid", "n"], "p2", ["id"]), ParameterError, /2 column\(s\) reference 1 column\(s\)/],
      [(x) => x.addForeignKey!(q("c2"), [], "p2", []), ParameterError, /columns must name at least one column/],
      [(x) => x.addForeignKey!(q("c2"), ["pid"], "p2", ["id"], { refSchema: "a b" }), InvalidIdentifier, /invalid schema name/],
      [(x) => x.addForeignKey!(q("c2"), ["pid"], "p2", ["id"], { on_delete: "CASCADE" }), ParameterError, /unknown option "on_delete"/],
      [(x) => x.addForeignKey!(q("c2"), ["pid"], "public.p2", ["id"], { refSchema: ctx.schema }), ParameterError, /names schema public, but the schema option says/],
      [(x) => x.addPrimaryKey!(q("c2"), ["pid"], { name: "x".repeat(64) }), InvalidIdentifier, /at most 63 bytes/],
      [(x) => x.addUniqueConstraint!(q("c2"), "pid, n"), InvalidIdentifier, /invalid column name/],
      [(x) => x.addUniqueConstraint!(q("c2"), ["n"], { schema: 1 }), ParameterError, /option schema must be a string/],
      [(x) => x.addPrimaryKey!("a.b.c", ["n"]), InvalidIdentifier, /invalid table name/],
      [(x) => x.listConstraints!(q("c2"), { schema: "other" }), ParameterError, /names schema/],
    ];
    for (const [call, cls, pattern] of cases) await sameErrorOn(A(), S(), call, cls, pattern);
    // Existing rows that violate the key: the server's ForeignKeyViolation.
    await sameErrorOn(A(), S(), (x) => x.addForeignKey!(q("c2"), ["pid"], "p2", ["id"]), ForeignKeyViolation);
    assert.deepEqual(await catalog("c2"), []);
  });
});

describe("listConstraints", () => {
  test("name, type as a word, columns in key order, definition; every kind; async and sync; TableNotFound", async () => {
    await adb.execute(`CREATE TABLE kinds (id int, "Lo" int, hi int, r int4range, ref int,
      CONSTRAINT kinds_pk PRIMARY KEY (hi, id), CONSTRAINT lo_le_hi CHECK ("Lo" <= hi), UNIQUE ("Lo"),
      CONSTRAINT no_overlap EXCLUDE USING gist (r WITH &&), CONSTRAINT self FOREIGN KEY (ref, id) REFERENCES kinds (hi, id) ON DELETE RESTRICT)`);
    const expected = [
      { name: "kinds_Lo_key", type: "unique", columns: ["Lo"], definition: 'UNIQUE ("Lo")' },
      { name: "kinds_pk", type: "primary key", columns: ["hi", "id"], definition: "PRIMARY KEY (hi, id)" },
      { name: "lo_le_hi", type: "check", columns: ["Lo", "hi"], definition: 'CHECK ("Lo" <= hi)' },
      { name: "no_overlap", type: "exclusion", columns: ["r"], definition: "EXCLUDE USING gist (r WITH &&)" },
      { name: "self", type: "foreign key", columns: ["ref", "id"], definition: "FOREIGN KEY (ref, id) REFERENCES kinds(hi, id) ON DELETE RESTRICT" },
    ];
    assert.deepEqual(await A().listConstraints!(q("kinds")), expected);
    assert.deepEqual(await adb.schema.listConstraints("kinds", { schema: ctx.schema }), expected);
    assert.deepEqual(S().listConstraints!(q("kinds")), expected);
    assert.deepEqual(db.schema.listConstraints("kinds", { schema: ctx.schema }), expected);
    await adb.execute("CREATE TABLE plain (n int)");
    assert.deepEqual(await A().listConstraints!(q("plain")), []);
    const e = await sameErrorOn(A(), S(), (x) => x.listConstraints!(q("nope")));
    assert.ok(e instanceof TableNotFound);
    assert.equal((e as TableNotFound).table, "nope");
  });

  test("inside a transaction: the added constraints join it and roll back with it, async and sync", async () => {
    await adb.execute("CREATE TABLE txt (id int NOT NULL, n int)");
    await adb.transaction(async (tx) => {
      assert.equal(await tx.schema.addPrimaryKey(q("txt"), "id"), "txt_pkey");
      assert.equal(await tx.addUniqueConstraint(q("txt"), ["n"]), "txt_n_key");
      assert.deepEqual((await adb.listConstraints(q("txt"))).map((c) => c.name), ["txt_n_key", "txt_pkey"]); // ambient
      assert.deepEqual(await catalog("txt"), []); // not visible outside before commit
      await tx.rollback();
    });
    assert.throws(
      () =>
        db.transaction((tx) => {
          assert.equal(tx.schema.addPrimaryKey(q("txt"), ["id"], { name: "txt_id" }), "txt_id");
          assert.equal(tx.addForeignKey(q("txt"), ["n"], "txt", ["id"], { onDelete: "no action" }), "txt_n_fkey");
          assert.deepEqual(db.listConstraints(q("txt")).map((c) => [c.name, c.type]), [["txt_id", "primary key"], ["txt_n_fkey", "foreign key"]]);
          throw new Error("roll back");
        }),
      /roll back/,
    );
    assert.deepEqual(await catalog("txt"), []);
    assert.deepEqual(db.listConstraints(q("txt")), []);
  });
});
