import { sql, type Kysely } from "kysely";
import type { Database, Reconciliation } from "../db/database.ts";
import type { ReconciliationCounts, ReconciliationDifference } from "./reconciliation-difference.ts";

/** A run older than this is taken to have died with its process: another may take the day over. */
export const RUN_ABANDONED_AFTER_S = 3600;

/**
 * Takes the day for one run: a new row, or the existing one unless another run holds it (running,
 * and younger than RUN_ABANDONED_AFTER_S). Undefined when another run holds it.
 */
export async function claimReconciliation(db: Kysely<Database>, date: string): Promise<Reconciliation | undefined> {
  return db
    .insertInto("reconciliations")
    .values({ date, status: "running", started_at: sql<Date>`now()`, finished_at: null, error: null, event_id: null })
    .onConflict((oc) =>
      oc
        .column("date")
        .doUpdateSet((eb) => ({ status: "running", runs: eb("reconciliations.runs", "+", 1), started_at: sql<Date>`now()`, finished_at: null, error: null }))
        .where((eb) => eb.or([eb("reconciliations.status", "<>", "running"), eb("reconciliations.started_at", "<", sql<Date>`now() - make_interval(secs => ${RUN_ABANDONED_AFTER_S})`)])),
    )
    .returningAll()
    .executeTakeFirst();
}

/** The run's findings replace the day's earlier ones. */
export async function completeReconciliation(
  db: Kysely<Database>,
  date: string,
  result: { counts: ReconciliationCounts; differences: ReconciliationDifference[]; eventId: string | null },
): Promise<Reconciliation> {
  return db
    .updateTable("reconciliations")
    .set((eb) => ({
      status: "completed",
      finished_at: sql<Date>`now()`,
      counts: JSON.stringify(result.counts),
      differences: JSON.stringify(result.differences),
      error: null,
      event_id: result.eventId ?? eb.ref("event_id"),
    }))
    .where("date", "=", date)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The run stopped (Oen unreachable, refused): what is known stays, with why. */
export async function failReconciliation(db: Kysely<Database>, date: string, error: string): Promise<void> {
  await db.updateTable("reconciliations").set({ status: "failed", finished_at: sql<Date>`now()`, error }).where("date", "=", date).execute();
}

export async function readReconciliation(db: Kysely<Database>, date: string): Promise<Reconciliation | undefined> {
  return db.selectFrom("reconciliations").selectAll().where("date", "=", date).executeTakeFirst();
}
