import { createHash } from "node:crypto";
import type { CompiledQuery } from "kysely";
import type pg from "pg";

// The statements every charge runs are prepared once per connection, so that Postgres parses
// and plans them once instead of for every charge. Only statements marked by `prepared` are:
// a prepared `select *` would fail once a migration adds a column, so those name their columns.
const MARK = "/* prepared */ ";

/** The query, marked to run as a prepared statement (see namePreparedStatements). */
export function prepared<R>(query: CompiledQuery<R>): CompiledQuery<R> {
  return { ...query, sql: MARK + query.sql };
}

/** Makes every client of `pool` run marked statements as named prepared statements, named by their text. */
export function namePreparedStatements(pool: pg.Pool): void {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (name === undefined) names.set(text, (name = `k${createHash("sha1").update(text).digest("hex").slice(0, 20)}`));
    return name;
  };
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    // Kysely calls query(text, values); anything else goes through unchanged.
    client.query = ((text: unknown, values: unknown, ...rest: unknown[]) =>
      typeof text === "string" && text.startsWith(MARK) && Array.isArray(values) ? query({ name: nameOf(text), text, values }) : query(text, values, ...rest)) as typeof client.query;
  });
}
