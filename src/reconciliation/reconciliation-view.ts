import type { Reconciliation } from "../db/database.ts";

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** A day's reconciliation as the API and the CLI show it. */
export function reconciliationView(row: Reconciliation) {
  return {
    date: row.date,
    status: row.status,
    runs: row.runs,
    startedAt: row.started_at.toISOString(),
    finishedAt: iso(row.finished_at),
    counts: row.counts,
    differences: row.differences ?? [],
    error: row.error,
    eventId: row.event_id,
  };
}
