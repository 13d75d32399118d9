/**
 * A JSON value Postgres will store: no NUL characters (text and jsonb refuse
 * them) and no lone UTF-16 surrogates (jsonb refuses their \u escapes), in
 * strings and in object keys, at any depth. Everything else is unchanged.
 * Pure: a new value, the argument untouched.
 */
export function postgresSafe<T>(value: T): T {
  return clean(value) as T;
}

/** A string Postgres will store: see postgresSafe. */
export function postgresSafeText(text: string): string {
  return text.replaceAll("\u0000", "").toWellFormed();
}

function clean(value: unknown): unknown {
  if (typeof value === "string") return postgresSafeText(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [postgresSafeText(key), clean(inner)]));
  }
  return value;
}
