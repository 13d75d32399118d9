import type { Plan } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { cancel, endTrial, renew, renewDue, type RenewedInvoice } from "../subscriptions/subscription-transitions.ts";

export interface RenewalBatch {
  /** Invoices opened in bulk, for the caller to enqueue after the commit. */
  renewed: RenewedInvoice[];
  /** Invoices opened one by one (a trial's end, a downgrade): the outbox enqueues them. */
  renewedOneByOne: number;
  canceled: string[];
  /** Subscriptions claimed by this batch, renewed or not: fewer than the limit means nothing more is due. */
  claimed: number;
}

/**
 * Renews up to `limit` subscriptions whose period has ended (FOR UPDATE SKIP
 * LOCKED, so concurrent sweeps split the work): the plain ones in one
 * statement (renewDue), then, one by one, those with something to apply at
 * the period's end (a cancel, a trial's end, a pending downgrade). The new
 * invoices are returned for the caller to enqueue after the commit.
 */
export async function renewDueSubscriptions(deps: Pick<Deps, "db" | "clock" | "config">, limit: number, effects: SideEffects): Promise<RenewalBatch> {
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now();
    const zone = deps.config.billingTimezone;
    const plain = await renewDue(tx, { now, limit, jitterMs: deps.config.renewalJitterMs, zone });
    const batch: RenewalBatch = { renewed: plain, renewedOneByOne: 0, canceled: [], claimed: plain.length };
    if (plain.length === limit) return batch;
    const due = await tx
      .selectFrom("subscriptions")
      .selectAll()
      .where("next_renewal_at", "<=", now)
      .where((eb) =>
        eb.or([
          eb("cancel_at_period_end", "=", true),
          eb("status", "=", "trialing"),
          eb.and([eb("status", "=", "active"), eb("pending_plan_id", "is not", null)]),
        ]),
      )
      .orderBy("next_renewal_at")
      .limit(limit - plain.length)
      .forUpdate()
      .skipLocked()
      .execute();
    batch.claimed += due.length;
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
        const ended = await endTrial(tx, effects, { subscription, plan, now, zone });
        if (ended?.invoice !== undefined) batch.renewedOneByOne++;
        continue;
      }
      // Renewals due at the same moment (month start) are spread over the jitter window.
      const dueAt = new Date(now.getTime() + Math.floor(Math.random() * (deps.config.renewalJitterMs + 1)));
      const renewed = await renew(tx, effects, { subscription, plan, dueAt, now, zone });
      if (renewed?.invoice !== undefined) batch.renewedOneByOne++;
    }
    return batch;
  });
}
