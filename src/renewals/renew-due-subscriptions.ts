import type { Invoice, Plan } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { cancel, endTrial, renew } from "../subscriptions/subscription-transitions.ts";

export interface RenewalBatch {
  renewed: Invoice[];
  canceled: string[];
  /** Subscriptions claimed by this batch, renewed or not: fewer than the limit means nothing more is due. */
  claimed: number;
}

/**
 * Claims up to `limit` subscriptions whose period has ended (FOR UPDATE SKIP
 * LOCKED, so concurrent sweeps split the work), and for each either ends it
 * (cancel at period end) or opens the next period and its invoice, whose
 * charge the outbox enqueues after the commit.
 */
export async function renewDueSubscriptions(deps: Pick<Deps, "db" | "clock" | "config">, limit: number, effects: SideEffects): Promise<RenewalBatch> {
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now();
    const due = await tx
      .selectFrom("subscriptions")
      .selectAll()
      .where("next_renewal_at", "<=", now)
      .where((eb) => eb.or([eb("status", "in", ["active", "trialing"]), eb("cancel_at_period_end", "=", true)]))
      .orderBy("next_renewal_at")
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    const batch: RenewalBatch = { renewed: [], canceled: [], claimed: due.length };
    // Month start renews thousands of subscriptions of a few plans: each plan is read once a batch.
    const plans = new Map<string, Plan>();
    for (const subscription of due) {
      if (subscription.cancel_at_period_end) {
        await cancel(tx, effects, { id: subscription.id, cause: "period_end", now, endedAt: subscription.next_renewal_at! });
        batch.canceled.push(subscription.id);
        continue;
      }
      // A pending downgrade takes effect with the period it bills.
      const planId = subscription.pending_plan_id ?? subscription.plan_id;
      const plan = plans.get(planId) ?? (await tx.selectFrom("plans").selectAll().where("id", "=", planId).executeTakeFirstOrThrow());
      plans.set(plan.id, plan);
      if (subscription.status === "trialing") {
        // Plan changes during a trial apply at once, so nothing is pending here.
        const ended = await endTrial(tx, effects, { subscription, plan, now, zone: deps.config.billingTimezone });
        if (ended?.invoice !== undefined) batch.renewed.push(ended.invoice);
        continue;
      }
      // Renewals due at the same moment (month start) are spread over the jitter window.
      const dueAt = new Date(now.getTime() + Math.floor(Math.random() * (deps.config.renewalJitterMs + 1)));
      const renewed = await renew(tx, effects, { subscription, plan, dueAt, now, zone: deps.config.billingTimezone });
      if (renewed?.invoice !== undefined) batch.renewed.push(renewed.invoice);
    }
    return batch;
  });
}
