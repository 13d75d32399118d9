import type { Deps } from "../deps.ts";
import type { WebhookJob } from "../queues/jobs.ts";

/**
 * Moves webhooks that were kept in Postgres while Redis was down onto the
 * queue, with their original job ids (so a webhook also queued meanwhile is
 * still one job). A row is marked relayed only after the queue took it.
 */
export async function relayWebhookInbox(deps: Pick<Deps, "db" | "queues">, limit = 500): Promise<number> {
  return deps.db.transaction().execute(async (tx) => {
    const rows = await tx.selectFrom("webhook_inbox").selectAll().where("relayed_at", "is", null).orderBy("id").limit(limit).forUpdate().skipLocked().execute();
    for (const row of rows) {
      const job = row.payload as unknown as WebhookJob;
      await deps.queues.webhooks.add(job.kind, job, { jobId: row.job_id });
    }
    if (rows.length > 0) {
      await tx.updateTable("webhook_inbox").set({ relayed_at: new Date() }).where("id", "in", rows.map((r) => r.id)).execute();
    }
    return rows.length;
  });
}
