import type pg from "pg";

/**
 * Statements Postgres ran in `database` so far (pg_stat_statements, BEGIN and COMMIT
 * included); null where the extension is not loaded.
 */
export async function statementsRun(admin: pg.Pool, database: string, available: boolean): Promise<number | null> {
  if (!available) return null;
  const { rows } = await admin.query<{ calls: string }>(
    "select coalesce(sum(s.calls), 0)::text as calls from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1",
    [database],
  );
  return Number(rows[0]!.calls);
}
