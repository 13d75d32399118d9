import type { Kysely } from "kysely";
import type { Database, PlatformEvent } from "../db/database.ts";

/** The event, locked for this delivery run; undefined when missing or another run holds it. */
export async function lockEvent(db: Kysely<Database>, id: string): Promise<PlatformEvent | undefined> {
  return db.selectFrom("platform_events").selectAll().where("id", "=", id).forUpdate().skipLocked().executeTakeFirst();
}

export async function markEventDelivered(db: Kysely<Database>, id: string, httpStatus: number, at: Date): Promise<void> {
  await db
    .updateTable("platform_events")
    .set((eb) => ({ status: "delivered", attempts: eb("attempts", "+", 1), last_status: httpStatus, last_error: null, next_attempt_at: null, delivered_at: at }))
    .where("id", "=", id)
    .execute();
}

/** A refused or unanswered attempt: retried at `nextAttemptAt`, or `failed` when that is null. */
export async function recordEventFailure(
  db: Kysely<Database>,
  id: string,
  failure: { httpStatus: number | null; error: string; nextAttemptAt: Date | null },
): Promise<void> {
  await db
    .updateTable("platform_events")
    .set((eb) => ({
      status: failure.nextAttemptAt === null ? "failed" : "pending",
      attempts: eb("attempts", "+", 1),
      last_status: failure.httpStatus,
      last_error: failure.error,
      next_attempt_at: failure.nextAttemptAt,
    }))
    .where("id", "=", id)
    .execute();
}

export async function pendingEvents(db: Kysely<Database>, limit: number): Promise<Array<Pick<PlatformEvent, "id" | "next_attempt_at">>> {
  return db.selectFrom("platform_events").select(["id", "next_attempt_at"]).where("status", "=", "pending").orderBy("created_at").limit(limit).execute();
}
