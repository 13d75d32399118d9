import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { addJob } from "../queues/add-job.ts";
import type { WebhookJob } from "../queues/jobs.ts";

// Applied webhooks are kept this long (the oen_webhook_events table keeps the record).
const KEEP_APPLIED_DAYS = 7;

/**
 * Puts on the queue every webhook Postgres holds that no worker has applied
 * yet: those kept while Redis was down, those whose job Redis lost, and those
 * whose job gave up (kept as failed: retried). The job id is the original
 * one, so a job that still exists is not doubled.
 */
export async function relayWebhookInbox(deps: Pick<Deps, "db" | "queues" | "config">, limit = 500): Promise<number> {
  // Queued two sweeps ago and still not applied: the job may have been lost with Redis.
  const requeueAfterS = (2 * deps.config.renewalSweepIntervalMs) / 1000;
  const relayed = await deps.db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom("webhook_inbox")
      .selectAll()
      .where("processed_at", "is", null)
      .where((eb) => eb.or([eb("relayed_at", "is", null), eb("relayed_at", "<", sql<Date>`now() - make_interval(secs => ${requeueAfterS})`)]))
      .orderBy("id")
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const row of rows) {
      const job = row.payload as unknown as WebhookJob;
      await addJob(deps.queues.webhooks, job.kind, job, { jobId: row.job_id });
    }
    if (rows.length > 0) {
      await tx.updateTable("webhook_inbox").set({ relayed_at: sql`now()` }).where("id", "in", rows.map((r) => r.id)).execute();
    }
    return rows.length;
  });
  await deps.db.deleteFrom("webhook_inbox").where("processed_at", "<", sql<Date>`now() - make_interval(days => ${KEEP_APPLIED_DAYS})`).execute();
  return relayed;
}

/** Called by the webhook worker once a webhook is applied: its Postgres copy has done its job. */
export async function markWebhookProcessed(deps: Pick<Deps, "db">, jobId: string): Promise<void> {
  await deps.db.updateTable("webhook_inbox").set({ processed_at: sql`now()` }).where("job_id", "=", jobId).where("processed_at", "is", null).execute();
}
