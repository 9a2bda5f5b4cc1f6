/**
 * The SCRAM-SHA-256 verifier computed client-side for role passwords: its form, its randomness, SASLprep as
 * PostgreSQL applies it, and, above all, that it is exactly what the server itself computes for the same password
 * and salt (read back from `pg_authid` inside a transaction that is rolled back).
 */
import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { describe, test } from "node:test";
import pg from "pg";
import { ParameterError } from "../src/index.js";
import { checkPassword, saslprep, scramSha256Verifier, SCRAM_ITERATIONS } from "../src/features/scram-verifier.js";
import { serverUrl } from "./support/db.js";

const FORM = /^SCRAM-SHA-256\$4096:([A-Za-z0-9+/]{22}==)\$([A-Za-z0-9+/]{43}=):([A-Za-z0-9+/]{43}=)$/;

/** Passwords SASLprep treats differently, each with what PostgreSQL prepares it into. */
const PREPARED: [string, string, string][] = [
  ["ASCII is kept as is", "pa ss'w\"ord\\", "pa ss'w\"ord\\"],
  ["ASCII control characters too (the ASCII fast path)", "a\u0007b", "a\u0007b"],
  ["a soft hyphen is mapped to nothing", "I\u00adX", "IX"],
  ["a non-ASCII space becomes a space", "x\u00a0y\u3000z", "x y z"],
  ["U+200B is a space (C.1.2 is checked before B.1)", "a\u200bb", "a b"],
  ["NFKC: a roman numeral", "\u2168", "IX"],
  ["NFKC: fullwidth letters", "\uff41\uff42\uff43", "abc"],
  ["NFKC: a ligature", "\ufb01x", "fix"],
  ["NFKC composes", "e\u0301", "\u00e9"],
  ["a prohibited character (C.2.2, before NFKC): unprepared", "\ufb01\u0085", "\ufb01\u0085"],
  ["an ASCII control among non-ASCII: prohibited, unprepared", "\ufb01\u0007", "\ufb01\u0007"],
  ["a code point unassigned in Unicode 3.2: unprepared", "\ufb01\u0221", "\ufb01\u0221"],
  ["an emoji (not in Unicode 3.2): unprepared", "\ud83d\ude00\ufb01", "\ud83d\ude00\ufb01"],
  ["right-to-left only: prepared", "\u0627\u0031\u0628", "\u0627\u0031\u0628"],
  ["R/AL with an L character: unprepared", "\u0627a\u0628\ufb01", "\u0627a\u0628\ufb01"],
  ["R/AL not last: unprepared", "\u0627\u0031", "\u0627\u0031"],
  ["nothing left after mapping: unprepared", "\u00ad", "\u00ad"],
];

describe("the SCRAM-SHA-256 verifier", () => {
  test("has PostgreSQL's form, 4096 iterations and a fresh 16-byte salt each time", () => {
    const a = scramSha256Verifier("correct horse");
    const b = scramSha256Verifier("correct horse");
    const [, salt] = FORM.exec(a)!;
    assert.match(b, FORM);
    assert.equal(Buffer.from(salt!, "base64").length, 16);
    assert.notEqual(a, b, "a new salt each time");
    assert.equal(SCRAM_ITERATIONS, 4096);
    assert.ok(!a.includes("correct horse"));
  });

  test("is StoredKey and ServerKey of RFC 5802 (computed here step by step from the RFC's definitions)", () => {
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"); // RFC 7677's example salt
    const salted = pbkdf2Sync("pencil", salt, 4096, 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest().toString("base64");
    const serverKey = createHmac("sha256", salted).update("Server Key").digest().toString("base64");
    assert.equal(scramSha256Verifier("pencil", { salt }), `SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$${storedKey}:${serverKey}`);
  });

  for (const [what, input, prepared] of PREPARED) {
    test(`SASLprep: ${what}`, () => assert.equal(saslprep(input), prepared));
  }

  test("refuses what cannot be a password, never showing it", () => {
    for (const bad of ["", "se\u0000cret", "se\ud800cret", 42, null]) {
      assert.throws(
        () => checkPassword("createRole", bad),
        (e: unknown) => e instanceof ParameterError && !(typeof bad === "string" && bad.length > 0 && e.message.includes(bad)),
      );
      assert.throws(() => scramSha256Verifier(bad as string), ParameterError);
    }
  });

  test("equals the verifier the server computes for the same password and salt (SASLprep cases included)", async () => {
    const client = new pg.Client({ connectionString: serverUrl() });
    await client.connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL password_encryption = 'scram-sha-256'");
      const passwords = ["secret", ...PREPARED.map(([, input]) => input)];
      let i = 0;
      for (const password of passwords) {
        const name = `tscopg_scram_${process.pid}_${i++}`;
        // The server hashes a clear password itself (in this rolled-back transaction only).
        await client.query(`CREATE ROLE "${name}" PASSWORD ${client.escapeLiteral(password)}`);
        const { rows } = await client.query<{ p: string }>("SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1", [name]);
        const server = rows[0]!.p;
        const [, salt] = FORM.exec(server)!;
        assert.equal(scramSha256Verifier(password, { salt: Buffer.from(salt!, "base64") }), server, JSON.stringify(password));
      }
    } finally {
      await client.query("ROLLBACK").catch(() => undefined);
      await client.end();
    }
  });
});
