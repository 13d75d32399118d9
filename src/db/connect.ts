import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./database.ts";
import { namePreparedStatements } from "./prepared.ts";

export type Db = Kysely<Database>;

// A Postgres that does not answer (a dropped route, a full server) fails a query after this
// long instead of hanging it forever; it also bounds the wait for a free client of a busy pool.
const CONNECTION_TIMEOUT_MS = 10_000;

// bigint (bigserial ids, count(*)) come back as strings; keep them so, no precision loss.
export function createDb(databaseUrl: string, options: { max?: number; connectionTimeoutMs?: number } = {}): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10, connectionTimeoutMillis: options.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS });
  // An idle client that loses its connection must not crash the process.
  pool.on("error", () => {});
  namePreparedStatements(pool);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
