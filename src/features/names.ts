/**
 * Default names for indexes and constraints, as PostgreSQL names them (`orders_pkey`, `orders_customer_id_fkey`,
 * `orders_email_key`, `orders_created_at_idx`), but deterministic and never silently truncated: a name that would
 * be longer than 63 bytes is shortened and given a short hash of the whole input, so that two inputs that differ
 * only after the cut still get two names.
 * @module
 */
import { createHash } from "node:crypto";
import { validateIdentifier, validateIdentifiers } from "../sql/identifiers.js";

/** PostgreSQL's NAMEDATALEN - 1. */
const MAX_BYTES = 63;

/** The suffixes PostgreSQL gives the objects it names itself. */
export type NameSuffix = "idx" | "pkey" | "fkey" | "key";

/** The longest prefix of `text` (whole code points) that fits in `bytes` UTF-8 bytes. */
function cutToBytes(text: string, bytes: number): string {
  let out = "";
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, "utf8");
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/**
 * The default name of an index or constraint on `table` over `columns`: `<table>_<col1>_<col2>_<suffix>`
 * (`<table>_pkey` for a primary key: pass no columns). When that is longer than 63 bytes, the `<table>_<cols>`
 * part is cut (on a character boundary) and followed by `_` + the first 8 hex digits of a SHA-256 of the whole
 * input, then `_<suffix>`: still within 63 bytes, still telling where it belongs, and distinct for distinct
 * inputs. The same input always gives the same name.
 * @throws {@link InvalidIdentifier} when `table` or a column is not a valid name.
 */
export function defaultName(table: string, columns: readonly string[], suffix: NameSuffix): string {
  validateIdentifier(table, "table");
  validateIdentifiers(columns, "column");
  const stem = [table, ...columns].join("_");
  const plain = `${stem}_${suffix}`;
  if (Buffer.byteLength(plain, "utf8") <= MAX_BYTES) return plain;
  // JSON keeps ["a_b", "c"] and ["a", "b_c"] apart, which the joined stem does not.
  const hash = createHash("sha256").update(JSON.stringify([table, columns, suffix])).digest("hex").slice(0, 8);
  const tail = `_${hash}_${suffix}`;
  return `${cutToBytes(stem, MAX_BYTES - tail.length)}${tail}`;
}
