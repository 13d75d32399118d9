import type { Db } from "../db/connect.ts";
import type { SubscriptionStatus } from "../db/database.ts";
import { afterCursor, cursorAt, cutPage, type SubscriptionCursor } from "./subscription-cursor.ts";
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
      .select(cursorAt.as("cursor_at"));
    if (filter.customerId !== undefined) query = query.where("customer_id", "=", filter.customerId);
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    if (filter.after !== undefined) query = query.where(afterCursor(filter.after));
    const { page, nextCursor } = cutPage(await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(filter.limit + 1).execute(), filter.limit);
    return { data: await subscriptionViews(tx, page), nextCursor };
  });
}
