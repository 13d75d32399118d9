import { sql } from "kysely";
import type { Db } from "../db/connect.ts";
import type { PlatformEventStatus } from "../db/database.ts";
import { encodeCursor, type SubscriptionCursor } from "../subscriptions/subscription-cursor.ts";
import { readSnapshot } from "../subscriptions/subscription-view.ts";
import { eventViews, type EventView } from "./event-view.ts";

export interface EventFilter {
  type?: string;
  subscriptionId?: string;
  status?: PlatformEventStatus;
  /** 1 to 100. */
  limit: number;
  /** Events after this position (the subscription listing's cursor shape: created_at, id); none: from the newest. */
  after?: SubscriptionCursor;
}

export interface EventPage {
  data: EventView[];
  /** Where the next page starts; null when this one is the last. */
  nextCursor: string | null;
}

/** Newest first, by (created_at, id), like GET /v1/subscriptions: events recorded while the platform pages shift nothing. */
export async function listEvents(db: Db, filter: EventFilter): Promise<EventPage> {
  return readSnapshot(db, async (tx) => {
    let query = tx
      .selectFrom("platform_events")
      .selectAll()
      .select(sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as("cursor_at"));
    if (filter.type !== undefined) query = query.where("type", "=", filter.type);
    if (filter.subscriptionId !== undefined) query = query.where(sql<string>`data ->> 'subscriptionId'`, "=", filter.subscriptionId);
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    const after = filter.after;
    if (after !== undefined) query = query.where(sql<boolean>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id})`);
    // One row more than the page tells whether another page follows.
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(filter.limit + 1).execute();
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > filter.limit && last !== undefined ? encodeCursor({ createdAt: last.cursor_at, id: last.id }) : null;
    return { data: await eventViews(tx, page.map(({ cursor_at: _, ...event }) => event)), nextCursor };
  });
}
