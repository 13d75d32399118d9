import { sql } from "kysely";
import { periodBounds } from "../billing/periods.ts";
import type { Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { createInvoiceForCycle } from "../invoices/create-invoice.ts";
import type { SideEffects } from "../outbox/side-effects.ts";

export interface RenewalBatch {
  renewed: Invoice[];
  canceled: string[];
}

/**
 * Claims up to `limit` subscriptions whose period has ended (FOR UPDATE SKIP
 * LOCKED, so concurrent sweeps split the work), and for each either ends it
 * (cancel at period end) or opens the next period and its invoice. The
 * invoice's unique (subscription, cycle) key makes a repeated sweep harmless.
 */
export async function renewDueSubscriptions(deps: Pick<Deps, "db" | "clock" | "config">, limit: number, effects: SideEffects): Promise<RenewalBatch> {
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now();
    const due = await tx
      .selectFrom("subscriptions")
      .selectAll()
      .where("next_renewal_at", "<=", now)
      .where((eb) => eb.or([eb("status", "=", "active"), eb("cancel_at_period_end", "=", true)]))
      .orderBy("next_renewal_at")
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    const batch: RenewalBatch = { renewed: [], canceled: [] };
    for (const subscription of due) {
      if (subscription.cancel_at_period_end) {
        await tx
          .updateTable("subscriptions")
          .set({ status: "canceled", canceled_at: sql`coalesce(canceled_at, ${now})`, ended_at: subscription.next_renewal_at, next_renewal_at: null, updated_at: now })
          .where("id", "=", subscription.id)
          .execute();
        // Nothing of an ended subscription is collected any more (as with a cancel now).
        await tx
          .updateTable("invoices")
          .set({ status: "void", next_attempt_at: null, dunning_deadline_at: null, updated_at: now })
          .where("subscription_id", "=", subscription.id)
          .where("status", "=", "open")
          .execute();
        await effects.event(tx, {
          type: "subscription.canceled",
          dedupeKey: `subscription.canceled:${subscription.id}`,
          data: { subscriptionId: subscription.id, cause: "request", endedAt: subscription.next_renewal_at!.toISOString() },
          occurredAt: now,
        });
        batch.canceled.push(subscription.id);
        continue;
      }
      const plan = await tx.selectFrom("plans").selectAll().where("id", "=", subscription.plan_id).executeTakeFirstOrThrow();
      const cycle = subscription.current_cycle + 1;
      // Period N comes from the anchor and N, never from the previous period.
      const bounds = periodBounds(
        subscription.billing_anchor!,
        { interval: plan.interval, intervalCount: plan.interval_count },
        cycle - 1,
        deps.config.billingTimezone,
      );
      // Renewals due at the same moment (month start) are spread over the jitter window.
      const dueAt = new Date(now.getTime() + Math.floor(Math.random() * (deps.config.renewalJitterMs + 1)));
      const invoice = await createInvoiceForCycle(tx, { subscriptionId: subscription.id, plan, cycle, periodStart: bounds.start, periodEnd: bounds.end, dueAt, now });
      await tx
        .updateTable("subscriptions")
        .set({ current_cycle: cycle, current_period_start: bounds.start, current_period_end: bounds.end, next_renewal_at: bounds.end, updated_at: now })
        .where("id", "=", subscription.id)
        .execute();
      if (invoice !== undefined) batch.renewed.push(invoice);
    }
    return batch;
  });
}
