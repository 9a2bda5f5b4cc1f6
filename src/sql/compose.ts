/**
 * Statement building for the feature methods, after psycopg's `sql` module: SQL text is composed only from
 * constants written in the source (the template's literal parts), validated and quoted names
 * ({@link ident}, {@link qualified}), quoted literals ({@link literal}, for the few utility statements where
 * PostgreSQL refuses bind parameters), integers ({@link integer}) and keywords checked against an explicit list
 * ({@link keyword}). A plain string cannot be interpolated: the template refuses it (a type error, and a
 * `TypeError` at run time), so a user's input can only reach the text through one of these doors. Values go
 * as bind parameters beside the text.
 *
 * ```ts
 * const stmt = sql`CREATE ${unique && sql`UNIQUE`} INDEX ${ident(name, "index")} ON ${qualified(schema, table)}
 *   USING ${keyword(method, INDEX_METHODS, "index method")} (${idents(columns, "column")})`;
 * await db.execute(stmt.text);
 * ```
 * @module
 */
import { InvalidIdentifier, ParameterError } from "../errors.js";
import { describeValue, qualifiedName, quoteIdentifier, quoteIdentifiers, quoteLiteral, type IdentifierKind } from "./identifiers.js";

/** A piece of SQL text built by this module. */
export class Sql {
  /** @internal Use the {@link sql} template and the functions of this module. */
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What a template may interpolate: a fragment, a list of fragments (joined with `, `), or nothing. */
export type Part = Sql | readonly Sql[] | false | null | undefined;

function render(part: Part): string {
  if (part === false || part === null || part === undefined) return "";
  if (part instanceof Sql) return part.text;
  if (Array.isArray(part)) return join(part, ", ").text;
  throw new TypeError(`sql\`…\`: only Sql fragments can be interpolated (got ${typeof part}); quote names with ident()`);
}

/**
 * Composes a fragment. Interpolations must be {@link Sql} fragments (or lists of them, joined by `, `);
 * `false`, `null` and `undefined` interpolate nothing (optional clauses: `${cascade && sql`CASCADE`}`). Runs of
 * spaces and line breaks in the constant parts (indentation) collapse to one space, as do the spaces around an absent clause; fragments are kept as built.
 */
export function sql(strings: TemplateStringsArray, ...parts: Part[]): Sql {
  const tidy = (constant: string) => constant.replace(/\s+/g, " ");
  let text = tidy(strings[0]!);
  for (let i = 0; i < parts.length; i++) {
    const r = render(parts[i]);
    const next = tidy(strings[i + 1]!);
    // An absent clause leaves one space between its neighbours, not two.
    text += r === "" && (text.endsWith(" ") || text === "") ? next.replace(/^ /, "") : r + next;
  }
  return new Sql(text.trim());
}

/** Joins the fragments that are present (falsy entries are skipped) with a separator written in the source. */
export function join(parts: readonly Part[], separator: ", " | " " | " AND " | " OR " = ", "): Sql {
  const texts: string[] = [];
  for (const p of parts) {
    const t = render(p);
    if (t !== "") texts.push(t);
  }
  return new Sql(texts.join(separator));
}

/** A validated, double-quoted name (see `validateIdentifier`). */
export function ident(name: unknown, kind: IdentifierKind = "identifier"): Sql {
  return new Sql(quoteIdentifier(name, kind));
}

/** Validated, double-quoted, comma-separated names; the list must not be empty. */
export function idents(names: Iterable<unknown>, kind: IdentifierKind = "identifier"): Sql {
  return new Sql(quoteIdentifiers(names, kind));
}

/** `"schema"."name"`, or `"name"` without a schema; both parts validated. */
export function qualified(schema: string | null | undefined, name: string, kind: IdentifierKind = "table"): Sql {
  return new Sql(qualifiedName(schema, name, kind));
}

/** A quoted string literal (for utility statements, which take no bind parameters). */
export function literal(value: string): Sql {
  return new Sql(quoteLiteral(value));
}

/**
 * A safe integer as SQL text (for utility statements and clauses that take no bind parameters).
 * @throws {@link ParameterError} for anything but a safe integer within `[min, max]` (booleans included).
 */
export function integer(value: unknown, what: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Sql {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = min === Number.MIN_SAFE_INTEGER ? "" : max === Number.MAX_SAFE_INTEGER ? ` ≥ ${min}` : ` in [${min}, ${max}]`;
    throw new ParameterError(`${what} must be an integer${range}, got ${typeof value === "number" ? value : typeof value}`);
  }
  return new Sql(String(value));
}

/**
 * The entry of `allowed` that `value` names, compared without regard to case or to runs of spaces
 * (`"set null"` → `"SET NULL"`).
 * @throws {@link InvalidIdentifier} (whose `value` is the input) when `value` is not a string naming one of them.
 */
export function pickKeyword<K extends string>(value: unknown, allowed: readonly K[], what: string): K {
  if (typeof value === "string") {
    const wanted = value.trim().replace(/ +/g, " ").toUpperCase();
    const hit = allowed.find((k) => k.toUpperCase() === wanted);
    if (hit !== undefined && /^[A-Za-z_ ]+$/.test(value.trim())) return hit;
  }
  throw new InvalidIdentifier(`invalid ${what} ${describeValue(value)}: expected one of ${allowed.join(", ")}`, value);
}

/** {@link pickKeyword} as a fragment (the entry of `allowed`, as written there). */
export function keyword<K extends string>(value: unknown, allowed: readonly K[], what: string): Sql {
  return new Sql(pickKeyword(value, allowed, what));
}
