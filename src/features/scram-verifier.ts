/**
 * Client-side password hashing for `CREATE ROLE … PASSWORD` / `ALTER ROLE … PASSWORD`: the SCRAM-SHA-256 verifier
 * (RFC 5802, RFC 7677) in the form PostgreSQL stores in `pg_authid.rolpassword`,
 *
 *     SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>
 *
 * computed as libpq's `PQencryptPasswordConn` (what `psql \password` uses) does: 4096 iterations, a 16-byte random
 * salt, and the password prepared with SASLprep (RFC 4013) the way PostgreSQL's `pg_saslprep` does it. The server
 * receives only the verifier (it stores a string of that form as is), so the clear password never reaches it,
 * its logs or `pg_stat_statements`.
 *
 * SASLprep, as PostgreSQL applies it (and so must we, or the role could not log in with libpq clients):
 * - a password of ASCII characters only is used as it is (control characters included);
 * - otherwise non-ASCII spaces (RFC 3454 C.1.2) become U+0020, the "commonly mapped to nothing" characters (B.1)
 *   are removed, and the result is NFKC-normalised;
 * - if the mapped password is empty, or (before normalisation, as PostgreSQL checks it) holds a prohibited
 *   character (C.1.2–C.9), a code point unassigned in Unicode 3.2 (A.1), or breaks the bidirectional rule
 *   (RFC 3454 §6: with any R/AL character, no L character, and R/AL first and last), the password is used as it
 *   is, unprepared (PostgreSQL falls back likewise rather than refusing).
 *
 * NFKC comes from the JavaScript engine (a newer Unicode than PostgreSQL's tables); the two agree on every string
 * that reaches it, since normalisation is stable for characters assigned in Unicode 3.2 and any other character
 * makes the password fall back to its unprepared form first. A test checks verifiers against the server's own.
 * node-postgres (8.x) prepares the password it logs in with by mapping and NFKC only: a password that SASLprep
 * leaves unprepared (a prohibited or post-3.2 character) and that NFKC would change logs in with libpq clients
 * but not with node-postgres; tscopg follows the server.
 * @module
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { ParameterError } from "../errors.js";
import { L_CAT, PROHIBITED, RAND_AL_CAT, UNASSIGNED } from "./saslprep-tables.js";

/** Iterations PostgreSQL uses by default (`scram_iterations`, and libpq's `PQencryptPasswordConn`). */
export const SCRAM_ITERATIONS = 4096;
/** Salt length, in bytes, PostgreSQL uses. */
export const SCRAM_SALT_BYTES = 16;

/** A table of code point ranges, parsed once from its compact form: sorted pairs `[start, end]` flattened. */
type Ranges = Uint32Array;

function parse(text: string): Ranges {
  const tokens = text.trim().split(/\s+/);
  const out = new Uint32Array(tokens.length * 2);
  tokens.forEach((t, i) => {
    const [a, b = a] = t.split("-");
    out[2 * i] = parseInt(a!, 16);
    out[2 * i + 1] = parseInt(b!, 16);
  });
  return out;
}

let tables: { prohibited: Ranges; unassigned: Ranges; randAL: Ranges; l: Ranges } | undefined;
function loadTables(): NonNullable<typeof tables> {
  return (tables ??= { prohibited: parse(PROHIBITED), unassigned: parse(UNASSIGNED), randAL: parse(RAND_AL_CAT), l: parse(L_CAT) });
}

function inRanges(cp: number, ranges: Ranges): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]!) hi = mid - 1;
    else if (cp > ranges[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/** RFC 3454 C.1.2: non-ASCII space characters, mapped to U+0020. */
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/u;
/** RFC 3454 B.1: commonly mapped to nothing. (U+200B is also in C.1.2, which PostgreSQL tests first.) */
const MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]/u;

/**
 * The password as PostgreSQL's SASLprep prepares it (see the module documentation): the prepared string, or
 * `password` itself when it is ASCII or SASLprep would refuse it.
 */
export function saslprep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  const mapped: number[] = [];
  for (const ch of password) {
    if (NON_ASCII_SPACE.test(ch)) mapped.push(0x20);
    else if (!MAPPED_TO_NOTHING.test(ch)) mapped.push(ch.codePointAt(0)!);
  }
  if (mapped.length === 0) return password;
  const t = loadTables();
  // PostgreSQL checks the mapped characters (before normalisation): so do we, to compute the same verifier.
  if (mapped.some((cp) => inRanges(cp, t.prohibited) || inRanges(cp, t.unassigned))) return password;
  if (mapped.some((cp) => inRanges(cp, t.randAL))) {
    const bidiOk =
      !mapped.some((cp) => inRanges(cp, t.l)) && inRanges(mapped[0]!, t.randAL) && inRanges(mapped[mapped.length - 1]!, t.randAL);
    if (!bidiOk) return password;
  }
  return String.fromCodePoint(...mapped).normalize("NFKC");
}

/**
 * Refuses what cannot be a password: anything but a non-empty string, a NUL (a C string ends there: libpq and
 * the server would see a shorter password) or a lone surrogate (not Unicode text; it has no UTF-8 form). The
 * message never shows the password.
 * @throws {@link ParameterError}
 */
export function checkPassword(method: string, password: unknown): asserts password is string {
  if (typeof password !== "string") throw new ParameterError(`${method}(): the password must be a string`);
  if (password === "") throw new ParameterError(`${method}(): the password must not be empty (use password: null to remove it)`);
  if (password.includes("\u0000")) throw new ParameterError(`${method}(): the password must not contain a NUL character`);
  if (/\p{Cs}/u.test(password)) throw new ParameterError(`${method}(): the password must not contain a lone surrogate (it is not valid Unicode)`);
}

const hmac = (key: Buffer, text: string): Buffer => createHmac("sha256", key).update(text, "utf8").digest();

/**
 * The SCRAM-SHA-256 verifier of `password`, as PostgreSQL stores it:
 * `SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>` (base64). `salt` (16 random bytes by default) and
 * `iterations` (4096) are for tests that compare with a verifier the server computed.
 * @throws {@link ParameterError} for a password {@link checkPassword} refuses, or a bad salt or iteration count.
 */
export function scramSha256Verifier(password: string, options: { salt?: Uint8Array; iterations?: number } = {}): string {
  checkPassword("scramSha256Verifier", password);
  const salt = Buffer.from(options.salt ?? randomBytes(SCRAM_SALT_BYTES));
  const iterations = options.iterations ?? SCRAM_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new ParameterError("scramSha256Verifier(): iterations must be a positive integer");
  if (salt.length === 0) throw new ParameterError("scramSha256Verifier(): the salt must not be empty");
  const salted = pbkdf2Sync(Buffer.from(saslprep(password), "utf8"), salt, iterations, 32, "sha256");
  const storedKey = createHash("sha256").update(hmac(salted, "Client Key")).digest();
  const serverKey = hmac(salted, "Server Key");
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}
