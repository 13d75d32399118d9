import { sql } from "kysely";
import type { Db } from "../db/connect.ts";
import type { PlatformEventStatus } from "../db/database.ts";
import { afterCursor, cursorAt, cutPage, type SubscriptionCursor } from "../subscriptions/subscription-cursor.ts";
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
      .select(cursorAt.as("cursor_at"));
    if (filter.type !== undefined) query = query.where("type", "=", filter.type);
    if (filter.subscriptionId !== undefined) query = query.where(sql<string>`data ->> 'subscriptionId'`, "=", filter.subscriptionId);
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    if (filter.after !== undefined) query = query.where(afterCursor(filter.after));
    const { page, nextCursor } = cutPage(await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(filter.limit + 1).execute(), filter.limit);
    return { data: await eventViews(tx, page), nextCursor };
  });
}
