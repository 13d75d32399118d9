import { planChangeKind, prorationAmount, sameCadence } from "../billing/proration.ts";
import { chargeInvoice } from "../charges/charge-invoice.ts";
import type { Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { createProration } from "../invoices/invoice-transitions.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { changePlan, schedulePlanChange } from "./subscription-transitions.ts";

export interface PlanChangeRequest {
  planId: string;
  /** false: an upgrade takes effect without charging the difference. */
  prorate?: boolean;
  /** Default: an upgrade now, a downgrade (or the same price) at the period's end. */
  effective?: "now" | "period_end";
  /** The proration the customer was shown (the portal): another amount now is refused, never charged. */
  expectedProration?: number;
}

export type PlanChangeResult =
  | { kind: "changed"; invoice: Invoice | null }
  | { kind: "scheduled" }
  /** The proration was declined: the subscription keeps its plan. */
  | { kind: "declined"; invoice: Invoice; code: string | null; message: string | null }
  /** The proration's outcome is not known yet (Oen timed out): the plan switches if it turns out paid. */
  | { kind: "pending"; invoice: Invoice }
  | { kind: "refused"; status: 404 | 409 | 422; error: string; message: string };

const refused = (status: 404 | 409 | 422, error: string, message: string): PlanChangeResult => ({ kind: "refused", status, error, message });

/**
 * POST /v1/subscriptions/:id/plan-change. An upgrade now charges
 * round(new × r) − round(old × r) (r: the unused part of the period) at once
 * on the stored card, and the switch happens when that charge is paid; a
 * downgrade waits for the period end. During a trial nothing is charged and
 * the change is immediate. Only plans of the same interval and count.
 */
export async function changeSubscriptionPlan(deps: Deps, subscriptionId: string, request: PlanChangeRequest): Promise<PlanChangeResult> {
  const effects = createSideEffects(deps);
  const prepared = await deps.db.transaction().execute(async (tx): Promise<PlanChangeResult | { kind: "charge"; invoice: Invoice }> => {
    const subscription = await tx.selectFrom("subscriptions").selectAll().where("id", "=", subscriptionId).forUpdate().executeTakeFirst();
    if (subscription === undefined) return refused(404, "not_found", `subscription "${subscriptionId}" does not exist`);
    const [current, next] = await Promise.all([
      tx.selectFrom("plans").selectAll().where("id", "=", subscription.plan_id).executeTakeFirstOrThrow(),
      tx.selectFrom("plans").selectAll().where("id", "=", request.planId).executeTakeFirst(),
    ]);
    if (next === undefined) return refused(422, "unknown_plan", `planId: plan "${request.planId}" does not exist`);
    if (subscription.status !== "active" && subscription.status !== "trialing") {
      return refused(409, "not_changeable", `a ${subscription.status} subscription cannot change plans${subscription.status === "past_due" || subscription.status === "unpaid" ? " until its open invoice is paid" : ""}`);
    }
    // One change at a time: an upgrade still being charged decides the plan first.
    const charging = await tx.selectFrom("invoices").select("id").where("subscription_id", "=", subscriptionId).where("kind", "=", "proration").where("status", "=", "open").executeTakeFirst();
    if (charging !== undefined) return refused(409, "plan_change_in_progress", "an upgrade of this subscription is still being charged; try again once it is settled");
    const cadence = (p: typeof current) => ({ interval: p.interval, intervalCount: p.interval_count });
    if (!sameCadence(cadence(current), cadence(next))) {
      return refused(422, "interval_mismatch", `planId: plan "${next.id}" bills every ${next.interval_count} ${next.interval}, this subscription every ${current.interval_count} ${current.interval}; only plans of the same interval can be switched`);
    }
    const now = deps.clock.now();
    if (next.id === current.id) {
      // Back to the current plan: a pending downgrade is called off.
      if (subscription.pending_plan_id === null) return refused(409, "same_plan", `planId: the subscription is already on plan "${next.id}"`);
      await schedulePlanChange(tx, subscriptionId, null, now);
      return { kind: "changed", invoice: null };
    }
    const upgrade = planChangeKind(current, next) === "upgrade";
    const effective = request.effective ?? (upgrade ? "now" : "period_end");
    if (subscription.status === "trialing" || (effective === "now" && (!upgrade || request.prorate === false))) {
      await changePlan(tx, effects, { id: subscriptionId, fromPlanId: current.id, toPlanId: next.id, now });
      return { kind: "changed", invoice: null };
    }
    if (effective === "period_end") {
      await schedulePlanChange(tx, subscriptionId, next.id, now);
      return { kind: "scheduled" };
    }
    const periodStart = subscription.current_period_start!;
    const periodEnd = subscription.current_period_end!;
    const amount = prorationAmount({ oldAmount: current.amount, newAmount: next.amount, periodStart, periodEnd, at: now });
    if (request.expectedProration !== undefined && request.expectedProration !== amount) {
      return refused(409, "proration_changed", `the prorated amount is now ${amount} TWD, not ${request.expectedProration}: confirm the new amount`);
    }
    if (amount === 0) {
      await changePlan(tx, effects, { id: subscriptionId, fromPlanId: current.id, toPlanId: next.id, now });
      return { kind: "changed", invoice: null };
    }
    const invoice = await createProration(tx, { subscriptionId, cycle: subscription.current_cycle, plan: next, amount, periodStart: now, periodEnd, now });
    if (invoice === undefined) return refused(409, "plan_change_in_progress", "another plan change of this subscription is still being charged");
    await schedulePlanChange(tx, subscriptionId, null, now);
    return { kind: "charge", invoice };
  });
  await effects.flush();
  if (prepared.kind !== "charge") return prepared;

  // The caller waits for the proration's answer.
  const charged = await chargeInvoice(deps, prepared.invoice.id);
  const invoice = await deps.db.selectFrom("invoices").selectAll().where("id", "=", prepared.invoice.id).executeTakeFirstOrThrow();
  if (invoice.status === "paid") return { kind: "changed", invoice };
  if (invoice.status === "void" && charged.kind === "sent") {
    const { attempt } = charged.settled;
    return { kind: "declined", invoice, code: attempt.code, message: attempt.message };
  }
  return { kind: "pending", invoice };
}
