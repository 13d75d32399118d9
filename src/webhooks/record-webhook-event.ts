import type { Kysely } from "kysely";
import type { Database, WebhookOutcome } from "../db/database.ts";
import type { WebhookJob } from "../queues/jobs.ts";

/** Records what a delivered webhook was and what we made of it (never the token itself). */
export async function recordWebhookEvent(db: Kysely<Database>, job: WebhookJob, outcome: WebhookOutcome, reason: string | null): Promise<void> {
  const body =
    job.kind === "token"
      ? {
          checkoutId: job.checkoutId,
          merchantId: job.merchantId,
          customId: job.customId,
          success: job.success,
          last4: job.last4,
          message: job.message,
          hadToken: job.sealedToken !== null,
          receivedAt: job.receivedAt,
        }
      : job.body;
  await db
    .insertInto("oen_webhook_events")
    .values({
      purpose: job.kind === "token" ? "token" : job.purpose,
      oen_id: job.kind === "token" ? job.checkoutId : job.oenId,
      outcome,
      reason,
      body: JSON.stringify(body),
    })
    .execute();
}
