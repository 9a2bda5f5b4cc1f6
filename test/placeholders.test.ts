import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ParameterError } from "../src/errors.js";
import { compileNamed, isMultiStatement, prepareQuery } from "../src/sql/placeholders.js";

/** Compiles with named params and returns the text only. */
function text(sql: string, params: Record<string, unknown> = {}): string {
  const names = compileNamed(sql).names;
  const full: Record<string, unknown> = { ...params };
  for (const n of names) if (!(n in full)) full[n] = null;
  return prepareQuery(sql, full).text;
}

describe("no parameters and positional parameters", () => {
  test("undefined and null leave the SQL untouched", () => {
    const sql = "SELECT ':x', :y, $1";
    assert.deepEqual(prepareQuery(sql), { text: sql, values: undefined });
    assert.deepEqual(prepareQuery(sql, undefined), { text: sql, values: undefined });
    assert.deepEqual(prepareQuery(sql, null), { text: sql, values: undefined });
  });

  test("arrays pass through: same text, same array instance", () => {
    const sql = "SELECT $1::int, :not_a_param, $2";
    const params = [1, "two"];
    const q = prepareQuery(sql, params);
    assert.equal(q.text, sql);
    assert.equal(q.values, params);
    const empty: unknown[] = [];
    assert.equal(prepareQuery("SELECT 1", empty).values, empty);
    const frozen = Object.freeze([1]);
    assert.equal(prepareQuery("SELECT $1", frozen).values, frozen);
  });
});

describe("named parameters", () => {
  test("basics", () => {
    assert.deepEqual(prepareQuery("SELECT * FROM t WHERE id = :id AND name = :name", { id: 1, name: "x" }), {
      text: "SELECT * FROM t WHERE id = $1 AND name = $2",
      values: [1, "x"],
    });
  });

  test("order of first appearance, not key order", () => {
    assert.deepEqual(prepareQuery("VALUES (:b, :a)", { a: 1, b: 2 }), { text: "VALUES ($1, $2)", values: [2, 1] });
  });

  test("a repeated name maps to the same $k", () => {
    assert.deepEqual(prepareQuery("SELECT :a, :b, :a, :b, :c", { a: 1, b: 2, c: 3 }), {
      text: "SELECT $1, $2, $1, $2, $3",
      values: [1, 2, 3],
    });
  });

  test("extra keys are ignored; undefined values are passed on", () => {
    assert.deepEqual(prepareQuery("SELECT :a", { a: undefined, extra: 5 }), { text: "SELECT $1", values: [undefined] });
  });

  test("no placeholders gives empty values", () => {
    assert.deepEqual(prepareQuery("SELECT 1", {}), { text: "SELECT 1", values: [] });
  });

  test("null-prototype objects are accepted", () => {
    const params = Object.create(null) as Record<string, unknown>;
    params.x = 7;
    assert.deepEqual(prepareQuery("SELECT :x", params), { text: "SELECT $1", values: [7] });
  });

  test("names with underscores and digits; placeholder at start and end", () => {
    assert.equal(text(":_a1 + :B_2"), "$1 + $2");
    assert.equal(text("x=:v"), "x=$1");
    assert.equal(text("(:v)"), "($1)");
    assert.equal(text("SELECT :v,:w"), "SELECT $1,$2");
  });

  test("casts", () => {
    assert.equal(text("SELECT :name::int"), "SELECT $1::int");
    assert.equal(text("SELECT a::text, :x::text[]"), "SELECT a::text, $1::text[]");
    assert.equal(text("SELECT a::text"), "SELECT a::text");
    assert.equal(text("SELECT a :: text"), "SELECT a :: text");
    assert.deepEqual(compileNamed("SELECT a::text").names, []);
    assert.equal(text("SELECT CAST(:v AS int)"), "SELECT CAST($1 AS int)");
  });

  test("PL/pgSQL := is untouched", () => {
    assert.equal(text("x := 1"), "x := 1");
    assert.equal(text("x:=1"), "x:=1");
    assert.equal(text("x := :v"), "x := $1");
  });

  test("array slices with numeric bounds are untouched", () => {
    assert.equal(text("SELECT arr[1:2] FROM t"), "SELECT arr[1:2] FROM t");
    assert.equal(text("SELECT arr[:lo:2]"), "SELECT arr[$1:2]");
    assert.equal(text("SELECT arr[1 : 2]"), "SELECT arr[1 : 2]");
  });

  test("a lone colon is untouched", () => {
    assert.equal(text("SELECT ':'"), "SELECT ':'");
    assert.equal(text("a : b"), "a : b");
    assert.equal(text("trailing :"), "trailing :");
  });
});

describe("skip contexts", () => {
  test("single-quoted strings, with '' escapes", () => {
    assert.equal(text("SELECT ':x', :y"), "SELECT ':x', $1");
    assert.equal(text("SELECT 'it''s :x', :y"), "SELECT 'it''s :x', $1");
    assert.equal(text("SELECT '', :y"), "SELECT '', $1");
    assert.deepEqual(compileNamed("SELECT 'a\\', :y").names, ["y"]); // standard strings: `\` is ordinary
  });

  test("E-strings, with backslash escapes", () => {
    assert.equal(text("SELECT E'it\\'s :x', :y"), "SELECT E'it\\'s :x', $1");
    assert.equal(text("SELECT e'\\\\', :y"), "SELECT e'\\\\', $1");
    assert.equal(text("SELECT E'a'' :x', :y"), "SELECT E'a'' :x', $1");
    // `E` that is part of a longer word is not an E-string prefix
    assert.equal(text("SELECT TYPE'x', :y"), "SELECT TYPE'x', $1");
  });

  test("double-quoted identifiers, with \"\" escapes", () => {
    assert.equal(text('SELECT "a:x" FROM t WHERE b = :y'), 'SELECT "a:x" FROM t WHERE b = $1');
    assert.equal(text('SELECT "a"":x" , :y'), 'SELECT "a"":x" , $1');
    assert.equal(text('SELECT U&"d\\0061t:x", :y'), 'SELECT U&"d\\0061t:x", $1');
  });

  test("line comments", () => {
    assert.equal(text("SELECT 1 -- :x\n, :y"), "SELECT 1 -- :x\n, $1");
    assert.equal(text("SELECT 1 -- :x\r, :y"), "SELECT 1 -- :x\r, $1");
    assert.equal(text("SELECT :y -- :x"), "SELECT $1 -- :x");
    assert.equal(text("SELECT 5-:y"), "SELECT 5-$1");
  });

  test("nested block comments", () => {
    assert.equal(text("SELECT /* :x /* :x */ :x */ :y"), "SELECT /* :x /* :x */ :x */ $1");
    assert.equal(text("SELECT /**/ :y"), "SELECT /**/ $1");
    assert.equal(text("SELECT :y / :z * 2"), "SELECT $1 / $2 * 2");
  });

  test("dollar-quoted bodies", () => {
    assert.equal(text("DO $$ BEGIN x := :x; END $$; SELECT :y"), "DO $$ BEGIN x := :x; END $$; SELECT $1");
    assert.equal(
      text("CREATE FUNCTION f() RETURNS int AS $fn$ SELECT :x; $$ :x $$ $fn$ LANGUAGE sql; SELECT :y"),
      "CREATE FUNCTION f() RETURNS int AS $fn$ SELECT :x; $$ :x $$ $fn$ LANGUAGE sql; SELECT $1",
    );
    assert.equal(text("SELECT $a$ :x $b$ :x $a$, :y"), "SELECT $a$ :x $b$ :x $a$, $1");
    assert.equal(text("SELECT $_1$ :x $_1$, :y"), "SELECT $_1$ :x $_1$, $1");
  });

  test("a `$` inside a word is not a dollar quote or positional placeholder", () => {
    assert.equal(text("SELECT a$1, x$$ :y"), "SELECT a$1, x$$ $1");
    assert.equal(text("SELECT _x$1 FROM t WHERE v = :v"), "SELECT _x$1 FROM t WHERE v = $1");
  });

  test("unterminated constructs copy to the end", () => {
    for (const sql of ["SELECT ':x", "SELECT E':x\\", 'SELECT ":x', "SELECT /* :x /* */", "SELECT $$ :x", "SELECT $t$ :x $$"]) {
      assert.deepEqual(compileNamed(sql), { text: sql, names: [] });
    }
    assert.deepEqual(compileNamed("SELECT :y -- :x"), { text: "SELECT $1 -- :x", names: ["y"] });
  });

  test("non-ASCII text around placeholders", () => {
    assert.equal(text("SELECT 'é :x', \"ü\" , :y, 日本 "), "SELECT 'é :x', \"ü\" , $1, 日本 ");
    assert.equal(text("SELECT $é$ :x $é$, :y"), "SELECT $é$ :x $é$, $1");
  });
});

describe("errors", () => {
  test("a missing parameter is named in the message", () => {
    assert.throws(() => prepareQuery("SELECT :foo", {}), (err: unknown) => {
      assert.ok(err instanceof ParameterError);
      assert.match(err.message, /missing named parameter :foo/);
      return true;
    });
    assert.throws(() => prepareQuery("SELECT :foo, :bar, :baz", { bar: 1 }), /:foo, :baz/);
  });

  test("inherited properties do not count as present", () => {
    assert.throws(() => prepareQuery("SELECT :constructor", {}), /missing named parameter :constructor/);
    assert.throws(() => prepareQuery("SELECT :toString", {}), /missing named parameter :toString/);
  });

  test("non-plain objects are rejected", () => {
    class Params {
      a = 1;
    }
    for (const p of [new Map([["a", 1]]), new Date(), new Params(), new Uint8Array(1), new Set([1])]) {
      assert.throws(() => prepareQuery("SELECT :a", p as unknown as Record<string, unknown>), ParameterError);
    }
    for (const p of ["a", 1, true]) {
      assert.throws(() => prepareQuery("SELECT :a", p as unknown as Record<string, unknown>), ParameterError);
    }
  });

  test("mixing $n and :name is rejected", () => {
    assert.throws(() => prepareQuery("SELECT $1, :a", { a: 1 }), (err: unknown) => {
      assert.ok(err instanceof ParameterError);
      assert.match(err.message, /mix/);
      return true;
    });
    assert.throws(() => prepareQuery("SELECT $1", {}), ParameterError);
    // but `$1` inside strings, comments, quoted identifiers or dollar bodies is fine
    assert.deepEqual(prepareQuery("SELECT '$1', \"$1\", $$ $1 $$ /* $1 */, :a -- $1", { a: 1 }), {
      text: "SELECT '$1', \"$1\", $$ $1 $$ /* $1 */, $1 -- $1",
      values: [1],
    });
  });

  test("a placeholder name running into non-ASCII is rejected", () => {
    assert.throws(() => prepareQuery("SELECT :näme", { n: 1 }), ParameterError);
  });
});

describe("cache", () => {
  test("a repeated statement is compiled once", () => {
    const sql = `SELECT :a, :b -- cache test ${Math.random()}`;
    const first = compileNamed(sql);
    const second = compileNamed(sql);
    assert.equal(first, second);
    assert.deepEqual(first.names, ["a", "b"]);
    assert.ok(Object.isFrozen(first));
    assert.ok(Object.isFrozen(first.names));
    // cached results still give fresh values arrays
    const q1 = prepareQuery(sql, { a: 1, b: 2 });
    const q2 = prepareQuery(sql, { a: 3, b: 4 });
    assert.deepEqual(q1.values, [1, 2]);
    assert.deepEqual(q2.values, [3, 4]);
    assert.equal(q1.text, q2.text);
  });

  test("the cache is bounded and evicts the oldest entries", () => {
    const oldest = `SELECT :x /* oldest ${Math.random()} */`;
    const firstResult = compileNamed(oldest);
    for (let i = 0; i < 600; i++) compileNamed(`SELECT :x /* filler ${i} ${Math.random()} */`);
    const again = compileNamed(oldest);
    assert.notEqual(again, firstResult);
    assert.deepEqual(again, firstResult);
  });
});

describe("statement count", () => {
  test("several statements are seen; a `;` inside strings, identifiers, comments, dollar quotes or at the end is not a second one", () => {
    for (const sql of ["SELECT 1; SELECT 2", "CREATE TABLE t (x int);INSERT INTO t VALUES (1)", "SELECT 1;\n-- c\nSELECT 2;"]) assert.equal(isMultiStatement(sql), true, sql);
    for (const sql of [
      "SELECT 1",
      "SELECT 1;",
      "SELECT 1; ",
      "SELECT ';' AS s",
      'SELECT 1 AS ";"',
      "SELECT 1 -- ; SELECT 2",
      "SELECT 1 /* ; SELECT 2 */",
      "DO $$ BEGIN PERFORM 1; PERFORM 2; END $$",
      ";;SELECT 1;;",
    ]) assert.equal(isMultiStatement(sql), false, sql);
  });
});
