import type { Db } from "../db/connect.ts";
import type { PlatformEventStatus } from "../db/database.ts";
import { RETENTION_BATCH } from "../db/retention-batch.ts";
import type { Deps } from "../deps.ts";

/**
 * Deletes platform events settled longer than PLATFORM_EVENTS_RETENTION before `at` (30 days by
 * default, like Stripe's event log), at most RETENTION_BATCH of each kind per call: those
 * delivered (counted from the delivery), those given up (from the last attempt: a failed
 * event stays redeliverable that long), and, while no PLATFORM_WEBHOOK_URL is set, those
 * recorded for nobody (from when they happened: a receiver configured later gets at most
 * that much backlog). An event still pending with a receiver is inside its retry window and
 * is never deleted. Their delivery attempts go with them (on delete cascade). Returns the
 * rows deleted.
 */
export async function prunePlatformEvents(deps: Pick<Deps, "db" | "config">, at: Date): Promise<number> {
  const cutoff = new Date(at.getTime() - deps.config.retention.platformEventsMs);
  let deleted = await deleteSettled(deps.db, "delivered", "delivered_at", cutoff);
  deleted += await deleteSettled(deps.db, "failed", "failed_at", cutoff);
  if (deps.config.platformWebhook === null) deleted += await deleteSettled(deps.db, "pending", "created_at", cutoff);
  return deleted;
}

async function deleteSettled(db: Db, status: PlatformEventStatus, settledAt: "delivered_at" | "failed_at" | "created_at", cutoff: Date): Promise<number> {
  const { numDeletedRows } = await db
    .deleteFrom("platform_events")
    // Locked as they are picked: the lock re-reads each row, so one redelivered meanwhile (pending
    // again) is left out, and one a delivery run holds is left for the next tick.
    .where("id", "in", (eb) => eb.selectFrom("platform_events").select("id").where("status", "=", status).where(settledAt, "<", cutoff).limit(RETENTION_BATCH).forUpdate().skipLocked())
    .executeTakeFirst();
  return Number(numDeletedRows);
}
