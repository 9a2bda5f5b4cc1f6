/**
 * Statement composition (src/sql/compose.ts): only fragments reach the text; names are validated and quoted,
 * literals quoted, integers and keywords checked. Pure functions: no server.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvalidIdentifier, ParameterError } from "../src/index.js";
import { ident, idents, integer, join, keyword, literal, pickKeyword, qualified, sql, Sql } from "../src/sql/compose.js";

describe("sql`` composition", () => {
  test("names are quoted, optional clauses vanish, indentation collapses, fragments are kept as built", () => {
    const unique = false;
    const stmt = sql`CREATE ${unique && sql`UNIQUE`} INDEX ${ident("Order_idx", "index")}
      ON ${qualified("public", "Order")} (${idents(["user", "Select"], "column")})
      ${undefined} WHERE note = ${literal("a  b")}`;
    assert.equal(stmt.text, `CREATE INDEX "Order_idx" ON "public"."Order" ("user", "Select") WHERE note = 'a  b'`);
    assert.ok(stmt instanceof Sql);
    assert.equal(String(stmt), stmt.text);
  });

  test("lists interpolate joined with commas; join skips absent parts", () => {
    assert.equal(sql`(${[ident("a"), ident("b")]})`.text, '("a", "b")');
    assert.equal(join([sql`LOGIN`, false, undefined, sql`CREATEDB`], " ").text, "LOGIN CREATEDB");
    assert.equal(join([sql`a = 1`, sql`b = 2`], " AND ").text, "a = 1 AND b = 2");
  });

  test("a plain string cannot be interpolated", () => {
    assert.throws(() => sql`DROP TABLE ${"users; --" as unknown as Sql}`, TypeError);
    assert.throws(() => sql`SELECT ${42 as unknown as Sql}`, TypeError);
  });

  test("names go through the validator", () => {
    assert.throws(() => ident('x"; DROP TABLE y; --'), InvalidIdentifier);
    assert.throws(() => idents([]), InvalidIdentifier);
    assert.throws(() => qualified("a.b", "t"), InvalidIdentifier);
    assert.equal(qualified(undefined, "t").text, '"t"');
  });

  test("literals: quotes doubled, backslashes in an escape string, NUL refused", () => {
    assert.equal(literal("it's").text, "'it''s'");
    assert.equal(literal("a\\b").text, "E'a\\\\b'");
    assert.throws(() => literal("a\u0000b"), ParameterError);
  });

  test("integers: safe integers within bounds only", () => {
    assert.equal(integer(-1, "limit", -1).text, "-1");
    for (const bad of [1.5, Number.NaN, Infinity, 2 ** 53, "1", true, null]) assert.throws(() => integer(bad, "n"), ParameterError, String(bad));
    assert.throws(() => integer(-2, "connectionLimit", -1), /connectionLimit must be an integer ≥ -1, got -2/);
  });

  test("keywords: from the list, any case and spacing, as the list writes them; anything else refused", () => {
    const ACTIONS = ["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"] as const;
    assert.equal(pickKeyword("set  null", ACTIONS, "action"), "SET NULL");
    assert.equal(keyword(" cascade ", ACTIONS, "action").text, "CASCADE");
    for (const bad of ["CASCADE; DROP TABLE x", "SET\tNULL", "cascade--", "", "ＣＡＳＣＡＤＥ", 5, null, ["CASCADE"]]) {
      assert.throws(() => pickKeyword(bad, ACTIONS, "action"), (e: unknown) => e instanceof InvalidIdentifier && e.value === bad, String(bad));
    }
  });
});
