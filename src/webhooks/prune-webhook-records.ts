import { sql } from "kysely";
import { RETENTION_BATCH } from "../db/retention-batch.ts";
import type { Deps } from "../deps.ts";

/**
 * Deletes, in bounded batches, applied inbox rows past WEBHOOK_INBOX_RETENTION and webhook
 * records (events, daily tallies) past WEBHOOK_EVENTS_RETENTION. Returns the rows deleted.
 */
export async function pruneWebhookRecords(deps: Pick<Deps, "db" | "config">): Promise<number> {
  const { inboxRetentionMs, eventsRetentionMs } = deps.config.oenWebhooks;
  const inbox = await deps.db
    .deleteFrom("webhook_inbox")
    .where("id", "in", (eb) =>
      eb.selectFrom("webhook_inbox").select("id").where("processed_at", "<", sql<Date>`now() - make_interval(secs => ${inboxRetentionMs / 1000})`).limit(RETENTION_BATCH),
    )
    .executeTakeFirst();
  const events = await deps.db
    .deleteFrom("oen_webhook_events")
    .where("id", "in", (eb) =>
      eb.selectFrom("oen_webhook_events").select("id").where("received_at", "<", sql<Date>`now() - make_interval(secs => ${eventsRetentionMs / 1000})`).limit(RETENTION_BATCH),
    )
    .executeTakeFirst();
  const tallies = await deps.db.deleteFrom("oen_webhook_tallies").where("day", "<", sql<string>`(now() at time zone 'utc')::date - make_interval(secs => ${eventsRetentionMs / 1000})`).executeTakeFirst();
  return Number(inbox.numDeletedRows) + Number(events.numDeletedRows) + Number(tallies.numDeletedRows);
}
