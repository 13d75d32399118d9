import type { Transaction } from "kysely";
import { periodBounds, periodIndexAt } from "../billing/periods.ts";
import type { Database } from "../db/database.ts";

/**
 * A subscription that comes back from `past_due`/`unpaid` after whole periods
 * went by is not billed for them in a burst (which would also spend the
 * card's attempt budget and look like fraud to the issuer): those periods
 * are skipped, and the period that contains now is renewed at once.
 * Periods still come from the anchor. Returns how many periods were skipped.
 */
export async function skipMissedPeriods(tx: Transaction<Database>, subscriptionId: string, now: Date, zone: string): Promise<number> {
  const subscription = await tx
    .selectFrom("subscriptions")
    .innerJoin("plans", "plans.id", "subscriptions.plan_id")
    .select(["subscriptions.billing_anchor", "subscriptions.current_cycle", "subscriptions.next_renewal_at", "plans.interval", "plans.interval_count"])
    .where("subscriptions.id", "=", subscriptionId)
    .executeTakeFirstOrThrow();
  if (subscription.billing_anchor === null || subscription.next_renewal_at === null || subscription.next_renewal_at > now) return 0;
  const cycle = { interval: subscription.interval, intervalCount: subscription.interval_count };
  // Cycle k bills period index k-1; the period containing now has index `current`.
  const current = periodIndexAt(subscription.billing_anchor, cycle, now, zone);
  const skipped = current - subscription.current_cycle;
  if (skipped <= 0) return 0;
  const last = periodBounds(subscription.billing_anchor, cycle, current - 1, zone);
  await tx
    .updateTable("subscriptions")
    .set({ current_cycle: current, current_period_start: last.start, current_period_end: last.end, next_renewal_at: last.end, updated_at: now })
    .where("id", "=", subscriptionId)
    .execute();
  return skipped;
}
