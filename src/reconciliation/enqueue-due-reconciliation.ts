import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { addJob } from "../queues/add-job.ts";
import { jobIds } from "../queues/jobs.ts";
import { RUN_ABANDONED_AFTER_S } from "./reconciliation-repository.ts";
import { dueReconciliationDate } from "./taipei-day.ts";

/** A failed run (Oen unreachable, say) is tried again this long after it stopped. */
const RETRY_FAILED_AFTER_S = 900;

/**
 * A sweep step: once the previous Taipei day is over (from 02:00 in Taipei), enqueues its
 * reconciliation unless the day's row says it is done or under way. Postgres decides, so a
 * run missed while the service was down or lost with Redis happens at the next tick; the job
 * id is the day's, so ticks do not pile up jobs. Returns the date enqueued, if any.
 */
export async function enqueueDueReconciliation(deps: Pick<Deps, "db" | "queues" | "clock">): Promise<string | null> {
  const date = dueReconciliationDate(deps.clock.now());
  const row = await deps.db
    .selectFrom("reconciliations")
    .select([
      "status",
      sql<boolean>`started_at < now() - make_interval(secs => ${RUN_ABANDONED_AFTER_S})`.as("abandoned"),
      sql<boolean>`coalesce(finished_at < now() - make_interval(secs => ${RETRY_FAILED_AFTER_S}), false)`.as("retry_due"),
    ])
    .where("date", "=", date)
    .executeTakeFirst();
  if (row?.status === "completed" || (row?.status === "running" && !row.abandoned) || (row?.status === "failed" && !row.retry_due)) return null;
  // The row says work is left: a job BullMQ still keeps as completed or failed runs again.
  await addJob(deps.queues.renewals, "reconcile", { date }, { jobId: jobIds.reconcile(date), rerunCompleted: true });
  return date;
}
