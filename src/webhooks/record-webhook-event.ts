import type { Kysely } from "kysely";
import type { Database, WebhookOutcome } from "../db/database.ts";
import type { TokenWebhookDelivery } from "../queues/jobs.ts";

/** Records what a token webhook a worker looked at was, and what we made of it (never the token itself). */
export async function recordWebhookEvent(db: Kysely<Database>, delivery: TokenWebhookDelivery, outcome: WebhookOutcome, reason: string | null): Promise<void> {
  const { sealedToken, kind: _kind, ...fields } = delivery;
  await db
    .insertInto("oen_webhook_events")
    .values({ purpose: "token", oen_id: delivery.checkoutId, outcome, reason, body: JSON.stringify({ ...fields, hadToken: sealedToken !== null }) })
    .execute();
}
