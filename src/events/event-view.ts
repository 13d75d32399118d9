import type { Kysely } from "kysely";
import type { Database, PlatformEvent, PlatformEventAttempt, PlatformEventStatus } from "../db/database.ts";

/** One delivery attempt as GET /v1/events shows it. */
export interface EventAttemptView {
  at: string;
  /** The platform's HTTP status; null when no answer came. */
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
}

/** A platform event with its delivery status and every attempt (GET /v1/events). */
export interface EventView {
  id: string;
  type: string;
  status: PlatformEventStatus;
  /** When the fact happened. */
  createdAt: string;
  subscriptionId: string | null;
  invoiceId: string | null;
  /** The fact as recorded; deliveries add the subscription and invoice views to it. */
  data: Record<string, unknown>;
  attemptCount: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  attempts: EventAttemptView[];
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());
const idIn = (data: Record<string, unknown>, key: string) => (typeof data[key] === "string" ? data[key] : null);

/** The views of `events`, in their order, with their attempts oldest first (one read whatever their number). */
export async function eventViews(db: Kysely<Database>, events: readonly PlatformEvent[]): Promise<EventView[]> {
  if (events.length === 0) return [];
  const attempts = await db
    .selectFrom("platform_event_attempts")
    .selectAll()
    .where("event_id", "in", events.map((e) => e.id))
    .orderBy("at")
    .orderBy("id")
    .execute();
  const byEvent = new Map<string, PlatformEventAttempt[]>();
  for (const attempt of attempts) byEvent.set(attempt.event_id, [...(byEvent.get(attempt.event_id) ?? []), attempt]);
  return events.map((event) => ({
    id: event.id,
    type: event.type,
    status: event.status,
    createdAt: event.created_at.toISOString(),
    subscriptionId: idIn(event.data, "subscriptionId"),
    invoiceId: idIn(event.data, "invoiceId"),
    data: event.data,
    attemptCount: event.attempts,
    nextAttemptAt: iso(event.next_attempt_at),
    deliveredAt: iso(event.delivered_at),
    attempts: (byEvent.get(event.id) ?? []).map((a) => ({ at: a.at.toISOString(), statusCode: a.status_code, error: a.error, latencyMs: a.latency_ms })),
  }));
}

export async function loadEventView(db: Kysely<Database>, id: string): Promise<EventView | undefined> {
  const event = await db.selectFrom("platform_events").selectAll().where("id", "=", id).executeTakeFirst();
  return event === undefined ? undefined : (await eventViews(db, [event]))[0];
}
