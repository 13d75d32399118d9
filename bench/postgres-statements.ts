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

export type StatementTimes = Map<string, { calls: number; ms: number; plans: number; query: string }>;

/** Calls, plans and execution time of each statement of `database` so far (empty without the extension). */
export async function statementTimes(admin: pg.Pool, database: string, available: boolean): Promise<StatementTimes> {
  const times: StatementTimes = new Map();
  if (!available) return times;
  const { rows } = await admin.query<{ queryid: string; calls: string; ms: number; plans: string; query: string }>(
    "select s.queryid::text, s.calls::text, s.total_exec_time as ms, s.plans::text, s.query from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1",
    [database],
  );
  for (const row of rows) times.set(row.queryid, { calls: Number(row.calls), ms: row.ms, plans: Number(row.plans), query: row.query });
  return times;
}

/**
 * The statements that took the most time between two readings, per unit of work, with how often
 * Postgres planned them (a prepared statement on a generic plan is planned once per connection):
 * "0.120 ms × 1.00 (planned 12 of 900 calls) select …".
 */
export function costliestStatements(before: StatementTimes, after: StatementTimes, units: number, count = 5): string[] {
  return [...after]
    .map(([id, now]) => {
      const then = before.get(id) ?? { calls: 0, ms: 0, plans: 0 };
      return { query: now.query, calls: now.calls - then.calls, ms: now.ms - then.ms, plans: now.plans - then.plans };
    })
    .filter((s) => s.calls > 0)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count)
    .map((s) => `${(s.ms / s.calls).toFixed(3)} ms × ${(s.calls / units).toFixed(2)} (planned ${s.plans} of ${s.calls} calls) ${s.query.replace(/\s+/g, " ").slice(0, 70)}`);
}
