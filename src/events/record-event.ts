import type { Insertable, Kysely } from "kysely";
import type { Database, PlatformEventsTable } from "../db/database.ts";
import { newId } from "../ids.ts";
import type { PlatformEventType } from "./platform-event.ts";

export interface RecordEventInput {
  type: PlatformEventType;
  /** Names the fact, e.g. `invoice.paid:{invoiceId}`: recording it again is a no-op. */
  dedupeKey: string;
  data: Record<string, unknown>;
  /** When the fact happened (the billing clock). */
  occurredAt: Date;
}

/**
 * Stores a platform event's fact, in the caller's transaction, so it exists
 * exactly when the fact it reports was committed: its type, its data and
 * when it happened, nothing more. Its id is fixed here and repeated as
 * webhook-id on every delivery attempt; the body delivered is built by the
 * notification worker at the first attempt and then frozen (deliverEvent).
 * Returns the id, or undefined when the same dedupeKey was recorded before
 * (invariant 5). After the commit the caller enqueues it (enqueueEvent); the
 * sweep catches any it missed.
 */
export async function recordEvent(db: Kysely<Database>, input: RecordEventInput): Promise<string | undefined> {
  const inserted = await db
    .insertInto("platform_events")
    .values(eventRow(input))
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted?.id;
}

/** The row of a new event: for recordEvent, and for a transition that records its event in its own statement. */
export function eventRow(input: RecordEventInput): Insertable<PlatformEventsTable> & { id: string; type: string; dedupe_key: string; data: string; created_at: Date } {
  return { id: newId("evt"), type: input.type, dedupe_key: input.dedupeKey, data: JSON.stringify(input.data), created_at: input.occurredAt };
}
