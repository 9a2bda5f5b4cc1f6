/**
 * One class per SQLSTATE, generated from PostgreSQL's error-code list: the committed module is current, the
 * hierarchy is code → class → DatabaseError, and real server errors arrive as their class, sync and async alike.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  AsyncDatabase,
  Database,
  DatabaseError,
  DivisionByZero,
  ForeignKeyViolation,
  IntegrityConstraintViolation,
  SyntaxErrorOrAccessRuleViolation,
  TableNotFound,
  UndefinedTable,
  UniqueViolation,
  DuplicateObject,
  DuplicateTable,
} from "../src/index.js";
import { sqlstateClass, sqlstateClasses } from "../src/errors/sqlstate.js";
import { SQLSTATE_FILE, renderSqlstate } from "../scripts/gen-sqlstate.js";
import { bothHandles } from "./support/handles.js";

let adb: AsyncDatabase;
let db: Database;

bothHandles("sqlstate", async (h) => {
  ({ adb, db } = h);
  await adb.execute("CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (pid int REFERENCES parent)");
});

describe("the generated SQLSTATE classes", () => {
  test(`${SQLSTATE_FILE} is current (run \`npm run gen:sqlstate\`)`, () => {
    const list = readFileSync(new URL("../scripts/data/errcodes.txt", import.meta.url), "utf8");
    assert.equal(readFileSync(new URL(`../${SQLSTATE_FILE}`, import.meta.url), "utf8"), renderSqlstate(list));
  });

  test("every error code of the list has a class; codes extend their class's …000 code, which extends DatabaseError", () => {
    const list = readFileSync(new URL("../scripts/data/errcodes.txt", import.meta.url), "utf8");
    // Lines without a condition name (e.g. a second macro for 3D000) are aliases of the line before.
    const codes = [...list.matchAll(/^([0-9A-Z]{5})\s+E\s+\S+\s+\w+\s*$/gm)].map((m) => m[1]!);
    assert.ok(codes.length > 230, `${codes.length} codes`);
    for (const code of codes) {
      const Cls = sqlstateClass(code);
      assert.ok(Cls.prototype instanceof DatabaseError, code);
      assert.notEqual(Cls, DatabaseError, code);
      if (!code.endsWith("000")) {
        const ClassCls = sqlstateClass(`${code.slice(0, 2)}000`);
        if (ClassCls !== DatabaseError) assert.ok(Cls.prototype instanceof ClassCls, `${code} extends ${ClassCls.name}`);
      }
    }
    assert.equal(new Set(Object.values(sqlstateClasses)).size, codes.length, "one class per code");
    assert.equal(sqlstateClass("23505"), UniqueViolation);
    assert.equal(UniqueViolation.sqlstate, "23505");
    assert.ok(UniqueViolation.prototype instanceof IntegrityConstraintViolation);
    assert.equal(sqlstateClass("42P01"), TableNotFound);
    assert.equal(UndefinedTable, TableNotFound);
    assert.ok(TableNotFound.prototype instanceof SyntaxErrorOrAccessRuleViolation);
    assert.equal(sqlstateClass("23Q99"), IntegrityConstraintViolation, "an unknown code of a known class");
    assert.equal(sqlstateClass("ZZ999"), DatabaseError, "an unknown class");
  });

  test("server errors arrive as their class with every field, sync and async", async () => {
    const cases: [string, Function, string][] = [
      ["INSERT INTO parent VALUES (1), (1)", UniqueViolation, "23505"],
      ["INSERT INTO child VALUES (42)", ForeignKeyViolation, "23503"],
      ["SELECT 1 / 0", DivisionByZero, "22012"],
      ["CREATE TABLE parent (id int)", DuplicateTable, "42P07"],
      ["DO $$ BEGIN RAISE EXCEPTION 'dup' USING ERRCODE = 'duplicate_object'; END $$", DuplicateObject, "42710"],
      ["SELECT * FROM no_such_table", TableNotFound, "42P01"],
    ];
    for (const [sql, Cls, code] of cases) {
      const ea = await adb.execute(sql).then(
        () => assert.fail(sql),
        (e: unknown) => e as DatabaseError,
      );
      let es: DatabaseError | undefined;
      try {
        db.execute(sql);
      } catch (e) {
        es = e as DatabaseError;
      }
      for (const e of [ea, es!]) {
        assert.ok(e instanceof Cls, `${sql}: ${e?.constructor.name}`);
        assert.ok(e instanceof DatabaseError);
        assert.equal(e.code, code);
        assert.equal(e.name, Cls.name);
      }
      assert.equal(es!.constructor, ea.constructor);
      assert.equal(es!.constraint, ea.constraint);
    }
  });
});
