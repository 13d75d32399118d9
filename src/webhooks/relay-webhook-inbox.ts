import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { addJob } from "../queues/add-job.ts";
import { webhookJobFor } from "../queues/jobs.ts";

/**
 * Puts on the queue every webhook Postgres holds that no worker has applied
 * yet: those kept while Redis was down, those whose job Redis lost, and those
 * whose job gave up (kept as failed: retried). The job id is the original
 * one, so a job that still exists is not doubled; the job holds ids only (its
 * delivery stays in Postgres). Rows are claimed (relayed_at) in a short
 * transaction and added after it commits, so a Redis that refuses writes holds
 * no row lock; a row whose add failed is claimable again at once, and the
 * error reaches the sweep. Applied rows go with the sweep's retention step
 * (pruneWebhookRecords).
 */
export async function relayWebhookInbox(deps: Pick<Deps, "db" | "queues" | "config">, limit = 500): Promise<number> {
  // Queued two sweeps ago and still not applied: the job may have been lost with Redis.
  const requeueAfterS = (2 * deps.config.renewalSweepIntervalMs) / 1000;
  const claimed = await deps.db
    .updateTable("webhook_inbox")
    .set({ relayed_at: sql`now()` })
    .where("id", "in", (eb) =>
      eb
        .selectFrom("webhook_inbox")
        .select("id")
        .where("processed_at", "is", null)
        .where((w) => w.or([w("relayed_at", "is", null), w("relayed_at", "<", sql<Date>`now() - make_interval(secs => ${requeueAfterS})`)]))
        .orderBy("id")
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(["id", "job_id", "payload"])
    .execute();
  let relayed = 0;
  try {
    for (const row of claimed) {
      const job = webhookJobFor(row.payload);
      await addJob(deps.queues.webhooks, job.kind, job, { jobId: row.job_id });
      relayed++;
    }
  } catch (error) {
    const left = claimed.slice(relayed).map((row) => row.id);
    await deps.db.updateTable("webhook_inbox").set({ relayed_at: null }).where("id", "in", left).execute();
    throw error;
  }
  return relayed;
}

/** Called by the webhook worker once a webhook is applied: its Postgres copy has done its job. */
export async function markWebhookProcessed(deps: Pick<Deps, "db">, jobId: string): Promise<void> {
  await deps.db.updateTable("webhook_inbox").set({ processed_at: sql`now()` }).where("job_id", "=", jobId).where("processed_at", "is", null).execute();
}
