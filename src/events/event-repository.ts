import type { Kysely } from "kysely";
import type { Database, PlatformEvent, PlatformEventStatus } from "../db/database.ts";
import type { PlatformEventBody } from "./platform-event.ts";

/** The event as it is, without waiting for or taking its lock. */
export async function readEvent(db: Kysely<Database>, id: string): Promise<PlatformEvent | undefined> {
  return db.selectFrom("platform_events").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The event, locked for this delivery run; undefined when missing or another run holds it. */
export async function lockEvent(db: Kysely<Database>, id: string): Promise<PlatformEvent | undefined> {
  return db.selectFrom("platform_events").selectAll().where("id", "=", id).forUpdate().skipLocked().executeTakeFirst();
}

/** Stores the body to deliver unless one was stored already (a concurrent run's wins: one body, ever). */
export async function freezeEventPayload(db: Kysely<Database>, id: string, body: PlatformEventBody): Promise<void> {
  await db.updateTable("platform_events").set({ payload: JSON.stringify(body) }).where("id", "=", id).where("payload", "is", null).execute();
}

/** Acknowledged, under the claim `claimedUntil`; false when that claim was gone (a redelivery, or a lapsed claim taken over). */
export async function markEventDelivered(db: Kysely<Database>, id: string, claimedUntil: Date, httpStatus: number, at: Date): Promise<boolean> {
  const { numUpdatedRows } = await db
    .updateTable("platform_events")
    .set((eb) => ({
      status: "delivered",
      attempts: eb("attempts", "+", 1),
      retry_attempts: eb("retry_attempts", "+", 1),
      last_status: httpStatus,
      last_error: null,
      next_attempt_at: null,
      delivered_at: at,
      claimed_until: null,
    }))
    .where("id", "=", id)
    .where("claimed_until", "=", claimedUntil)
    .executeTakeFirst();
  return numUpdatedRows > 0n;
}

/** One delivery attempt, in the transaction that records its outcome on the event. */
export async function recordEventAttempt(db: Kysely<Database>, attempt: { eventId: string; at: Date; statusCode: number | null; error: string | null; latencyMs: number }): Promise<void> {
  await db
    .insertInto("platform_event_attempts")
    .values({ event_id: attempt.eventId, at: attempt.at, status_code: attempt.statusCode, error: attempt.error, latency_ms: Math.round(attempt.latencyMs) })
    .execute();
}

/** A refused or unanswered attempt at `at` under the claim `claimedUntil`: retried at `nextAttemptAt`, or `failed` (since `at`) when that is null. */
export async function recordEventFailure(
  db: Kysely<Database>,
  id: string,
  claimedUntil: Date,
  failure: { at: Date; httpStatus: number | null; error: string; nextAttemptAt: Date | null },
): Promise<void> {
  await db
    .updateTable("platform_events")
    .set((eb) => ({
      status: failure.nextAttemptAt === null ? "failed" : "pending",
      failed_at: failure.nextAttemptAt === null ? failure.at : null,
      attempts: eb("attempts", "+", 1),
      retry_attempts: eb("retry_attempts", "+", 1),
      last_status: failure.httpStatus,
      last_error: failure.error,
      next_attempt_at: failure.nextAttemptAt,
      claimed_until: null,
    }))
    .where("id", "=", id)
    .where("claimed_until", "=", claimedUntil)
    .execute();
}

/**
 * Pending again with a fresh retry schedule, due now, and claimable at once;
 * the status it had, or undefined when it does not exist. A delivery run in
 * progress records nothing afterwards (its claim is gone): the redelivery sends again.
 */
export async function resetEventForRedelivery(db: Kysely<Database>, id: string): Promise<PlatformEventStatus | undefined> {
  return db.transaction().execute(async (tx) => {
    const event = await tx.selectFrom("platform_events").select("status").where("id", "=", id).forUpdate().executeTakeFirst();
    if (event === undefined) return undefined;
    await tx.updateTable("platform_events").set({ status: "pending", retry_attempts: 0, next_attempt_at: null, delivered_at: null, failed_at: null, claimed_until: null }).where("id", "=", id).execute();
    return event.status;
  });
}

export async function pendingEvents(db: Kysely<Database>, limit: number): Promise<Array<Pick<PlatformEvent, "id" | "next_attempt_at">>> {
  return db.selectFrom("platform_events").select(["id", "next_attempt_at"]).where("status", "=", "pending").orderBy("created_at").limit(limit).execute();
}
