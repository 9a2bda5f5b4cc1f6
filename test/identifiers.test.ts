import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InvalidIdentifier, ParameterError } from "../src/errors.js";
import {
  MALICIOUS_IDENTIFIERS,
  qualifiedName,
  quoteIdentifier,
  quoteIdentifiers,
  quoteLiteral,
  quoteQualifiedName,
  splitQualifiedName,
  validateIdentifier,
  validateIdentifiers,
  type IdentifierKind,
} from "../src/sql/identifiers.js";

const KINDS: IdentifierKind[] = [
  "identifier",
  "table",
  "schema",
  "column",
  "role",
  "index",
  "constraint",
  "channel",
  "database",
  "sequence",
  "view",
  "function",
  "extension",
];

/** Asserts that `fn` throws InvalidIdentifier whose `.value` is `value`. */
function rejects(fn: () => unknown, value: unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidIdentifier, `expected InvalidIdentifier, got ${String(err)}`);
    assert.equal(err.name, "InvalidIdentifier");
    assert.equal(err.value, value);
    return true;
  });
}

describe("MALICIOUS_IDENTIFIERS", () => {
  test("has at least 25 entries, including the required ones", () => {
    assert.ok(MALICIOUS_IDENTIFIERS.length >= 25);
    // pycopg's own EVIL_IDENTIFIERS must all be in the list
    for (const s of [
      "users; DROP TABLE users; --",
      'x"; DROP TABLE y; --',
      "a' OR '1'='1",
      "schema.table",
      "tab le",
    ]) {
      assert.ok(MALICIOUS_IDENTIFIERS.includes(s), `missing ${JSON.stringify(s)}`);
    }
    assert.ok(Object.isFrozen(MALICIOUS_IDENTIFIERS));
  });

  for (const bad of MALICIOUS_IDENTIFIERS) {
    test(`rejects ${JSON.stringify(bad)} for every kind`, () => {
      for (const kind of KINDS) {
        if (kind === "extension" && bad === "a--b") continue; // `-` is legal in extension names
        rejects(() => validateIdentifier(bad, kind), bad);
        rejects(() => quoteIdentifier(bad, kind), bad);
      }
      rejects(() => validateIdentifier(bad), bad);
      rejects(() => quoteIdentifiers(["ok", bad]), bad);
      rejects(() => validateIdentifiers([bad]), bad);
      rejects(() => qualifiedName("public", bad), bad);
      rejects(() => qualifiedName(bad, "t"), bad);
    });
  }

  test("qualified-name functions reject every entry except a valid schema.table", () => {
    for (const bad of MALICIOUS_IDENTIFIERS) {
      if (bad === "schema.table") continue;
      assert.throws(() => quoteQualifiedName(bad), InvalidIdentifier, JSON.stringify(bad));
      assert.throws(() => splitQualifiedName(bad), InvalidIdentifier, JSON.stringify(bad));
      assert.throws(() => quoteQualifiedName(`public.${bad}`), InvalidIdentifier, JSON.stringify(bad));
      assert.throws(() => quoteQualifiedName("t", bad), InvalidIdentifier, JSON.stringify(bad));
    }
  });
});

describe("validateIdentifier", () => {
  test("accepts valid names and returns them unchanged", () => {
    const valid = [
      "users",
      "Order",
      "user",
      "select",
      "_x$1",
      "_",
      "a1",
      "Ünïcödé",
      "日本語",
      "x".repeat(63),
      "é".repeat(31) + "x", // 63 bytes
      "CamelCase_42",
    ];
    for (const name of valid) {
      for (const kind of KINDS) assert.equal(validateIdentifier(name, kind), name);
    }
    assert.equal(Buffer.byteLength("é".repeat(31) + "x"), 63);
  });

  test("rejects non-strings with .value set to the input", () => {
    const obj = { toString: () => "users" };
    for (const v of [undefined, null, 1, 0n, true, obj, ["users"], Symbol("x"), () => "users"]) {
      rejects(() => validateIdentifier(v), v);
      rejects(() => quoteIdentifier(v, "table"), v);
    }
  });

  test("64 bytes rejected, 63 accepted; bytes not characters", () => {
    validateIdentifier("a".repeat(63));
    rejects(() => validateIdentifier("a".repeat(64)), "a".repeat(64));
    const multi = "é".repeat(32); // 32 chars, 64 bytes
    assert.equal(multi.length, 32);
    rejects(() => validateIdentifier(multi), multi);
    rejects(() => validateIdentifier("😀".repeat(16)), "😀".repeat(16)); // not letters anyway
  });

  test("message names the kind and shows the value JSON-quoted", () => {
    assert.throws(() => validateIdentifier("a;b", "column"), (err: unknown) => {
      assert.ok(err instanceof InvalidIdentifier);
      assert.match(err.message, /column/);
      assert.ok(err.message.includes('"a;b"'), err.message);
      return true;
    });
    assert.throws(() => validateIdentifier("x\ny", "table"), (err: unknown) => {
      assert.ok(err instanceof InvalidIdentifier);
      assert.match(err.message, /table/);
      assert.ok(err.message.includes('"x\\ny"'), err.message);
      assert.ok(!err.message.includes("\n"));
      return true;
    });
  });

  test("message escapes bidi/format characters so logs cannot be spoofed", () => {
    assert.throws(() => validateIdentifier("a\u202eb"), (err: unknown) => {
      assert.ok(err instanceof InvalidIdentifier);
      assert.ok(!err.message.includes("\u202e"));
      assert.ok(err.message.includes("\\u202e"), err.message);
      return true;
    });
  });

  test("extension kind accepts `-`, other kinds do not", () => {
    assert.equal(validateIdentifier("uuid-ossp", "extension"), "uuid-ossp");
    assert.equal(quoteIdentifier("uuid-ossp", "extension"), '"uuid-ossp"');
    rejects(() => validateIdentifier("uuid-ossp"), "uuid-ossp");
    rejects(() => validateIdentifier("uuid-ossp", "table"), "uuid-ossp");
    rejects(() => validateIdentifier("-uuid", "extension"), "-uuid");
  });

  test("a trailing newline is rejected (no multiline anchoring)", () => {
    rejects(() => validateIdentifier("users\n"), "users\n");
    rejects(() => validateIdentifier("users\nDROP"), "users\nDROP");
  });
});

describe("validateIdentifiers", () => {
  test("validates every element of any iterable", () => {
    assert.deepEqual(validateIdentifiers(["a", "B"]), ["a", "B"]);
    assert.deepEqual(validateIdentifiers(new Set(["x", "y"]), "column"), ["x", "y"]);
    assert.deepEqual(
      validateIdentifiers(
        (function* () {
          yield "g";
        })(),
      ),
      ["g"],
    );
    assert.deepEqual(validateIdentifiers([]), []);
  });

  test("a single string is not iterated character by character", () => {
    rejects(() => validateIdentifiers("abc" as unknown as Iterable<unknown>), "abc");
    rejects(() => quoteIdentifiers("abc" as unknown as Iterable<unknown>), "abc");
  });

  test("non-iterables are rejected", () => {
    rejects(() => validateIdentifiers(5 as unknown as Iterable<unknown>), 5);
    rejects(() => validateIdentifiers(null as unknown as Iterable<unknown>), null);
  });
});

describe("quoting", () => {
  test("quoteIdentifier output", () => {
    assert.equal(quoteIdentifier("users"), '"users"');
    assert.equal(quoteIdentifier("Order", "table"), '"Order"');
    assert.equal(quoteIdentifier("user", "role"), '"user"');
    assert.equal(quoteIdentifier("_x$1", "column"), '"_x$1"');
    assert.equal(quoteIdentifier("Ünïcödé"), '"Ünïcödé"');
  });

  test("quoteIdentifiers output", () => {
    assert.equal(quoteIdentifiers(["a", "b"]), '"a", "b"');
    assert.equal(quoteIdentifiers(["only"], "column"), '"only"');
    assert.equal(quoteIdentifiers(new Set(["x", "Y", "z"])), '"x", "Y", "z"');
  });

  test("quoteIdentifiers rejects an empty list", () => {
    const empty: string[] = [];
    rejects(() => quoteIdentifiers(empty), empty);
  });
});

describe("qualified names", () => {
  test("splitQualifiedName", () => {
    assert.deepEqual(splitQualifiedName("users"), { schema: undefined, name: "users" });
    assert.deepEqual(splitQualifiedName("app.users"), { schema: "app", name: "users" });
    assert.deepEqual(splitQualifiedName("users", "public"), { schema: "public", name: "users" });
    assert.deepEqual(splitQualifiedName("app.users", "public"), { schema: "app", name: "users" });
  });

  test("splitQualifiedName rejects extra dots, empty parts and bad defaults", () => {
    for (const bad of ["a.b.c", ".users", "app.", ".", "..", "", "a..b", "app.us ers", "a-b.c"]) {
      rejects(() => splitQualifiedName(bad), bad);
    }
    rejects(() => splitQualifiedName(42), 42);
    rejects(() => splitQualifiedName("users", "bad schema"), "bad schema");
    rejects(() => splitQualifiedName("users", ""), "");
  });

  test("quoteQualifiedName", () => {
    assert.equal(quoteQualifiedName("users"), '"users"');
    assert.equal(quoteQualifiedName("app.Users"), '"app"."Users"');
    assert.equal(quoteQualifiedName("users", "public"), '"public"."users"');
    assert.equal(quoteQualifiedName("app.users", "public"), '"app"."users"');
    assert.equal(quoteQualifiedName("s.my_seq", undefined, "sequence"), '"s"."my_seq"');
    rejects(() => quoteQualifiedName("a.b.c"), "a.b.c");
  });

  test("qualifiedName", () => {
    assert.equal(qualifiedName("public", "users"), '"public"."users"');
    assert.equal(qualifiedName(null, "users"), '"users"');
    assert.equal(qualifiedName(undefined, "Order"), '"Order"');
    assert.equal(qualifiedName("s", "f", "function"), '"s"."f"');
    rejects(() => qualifiedName("a.b", "t"), "a.b");
    rejects(() => qualifiedName("s", "a.b"), "a.b");
    rejects(() => qualifiedName("", "t"), "");
  });
});

describe("quoteLiteral", () => {
  test("plain strings", () => {
    assert.equal(quoteLiteral("hello"), "'hello'");
    assert.equal(quoteLiteral(""), "''");
    assert.equal(quoteLiteral("it's"), "'it''s'");
    assert.equal(quoteLiteral("'; DROP TABLE x; --"), "'''; DROP TABLE x; --'");
    assert.equal(quoteLiteral("ünï"), "'ünï'");
  });

  test("backslashes produce an E-string with backslashes doubled", () => {
    assert.equal(quoteLiteral("a\\b"), "E'a\\\\b'");
    assert.equal(quoteLiteral("it\\'s"), "E'it\\\\''s'");
    assert.equal(quoteLiteral("\\"), "E'\\\\'");
  });

  test("NUL and non-strings raise ParameterError", () => {
    assert.throws(() => quoteLiteral("a\u0000b"), ParameterError);
    assert.throws(() => quoteLiteral(5 as unknown as string), ParameterError);
    assert.throws(() => quoteLiteral(null as unknown as string), ParameterError);
  });
});
