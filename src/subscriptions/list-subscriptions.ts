import { sql } from "kysely";
import type { Db } from "../db/connect.ts";
import type { SubscriptionStatus } from "../db/database.ts";
import { encodeCursor, type SubscriptionCursor } from "./subscription-cursor.ts";
import { readSnapshot, subscriptionViews, type SubscriptionView } from "./subscription-view.ts";

export interface SubscriptionFilter {
  customerId?: string;
  status?: SubscriptionStatus;
  /** 1 to 100. */
  limit: number;
  /** Rows after this position; none: from the newest. */
  after?: SubscriptionCursor;
}

export interface SubscriptionPage {
  data: SubscriptionView[];
  /** Where the next page starts; null when this one is the last. */
  nextCursor: string | null;
}

/**
 * Newest first, by (created_at, id). The position is a row's, not an offset,
 * so rows created while the platform pages through come before its cursor
 * and shift nothing: no row is skipped or shown twice.
 */
export async function listSubscriptions(db: Db, filter: SubscriptionFilter): Promise<SubscriptionPage> {
  return readSnapshot(db, async (tx) => {
    let query = tx
      .selectFrom("subscriptions")
      .selectAll()
      .select(sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as("cursor_at"));
    if (filter.customerId !== undefined) query = query.where("customer_id", "=", filter.customerId);
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    const after = filter.after;
    if (after !== undefined) query = query.where(sql<boolean>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id})`);
    // One row more than the page tells whether another page follows.
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(filter.limit + 1).execute();
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > filter.limit && last !== undefined ? encodeCursor({ createdAt: last.cursor_at, id: last.id }) : null;
    return { data: await subscriptionViews(tx, page.map(({ cursor_at: _, ...subscription }) => subscription)), nextCursor };
  });
}
