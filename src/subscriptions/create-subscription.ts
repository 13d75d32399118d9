import { recordCheckout, openOenCheckout } from "../checkout/start-checkout.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../ids.ts";
import { findPlan } from "../plans/plan-repository.ts";

export interface CreateSubscriptionInput {
  customer: { id: string; name: string; email: string; locale?: "zh-TW" | "en" };
  planId: string;
  successUrl: string;
  failureUrl: string;
}

export class PlanNotFoundError extends Error {
  override name = "PlanNotFoundError";
}

/**
 * A subscription starts `incomplete` with an Oen binding page; it becomes
 * active when the token webhook for that page arrives.
 */
export async function createSubscription(deps: Deps, input: CreateSubscriptionInput) {
  const plan = await findPlan(deps.db, input.planId);
  if (plan === undefined) throw new PlanNotFoundError(`plan "${input.planId}" does not exist`);
  const subscriptionId = newId("sub");
  // Oen first: if it fails nothing is written; if our insert fails the orphan page just expires.
  const checkout = await openOenCheckout(deps, {
    subscriptionId,
    purpose: "subscribe",
    successUrl: input.successUrl,
    failureUrl: input.failureUrl,
    payerEmail: input.customer.email,
  });
  await deps.db.transaction().execute(async (tx) => {
    const customer = { name: input.customer.name, email: input.customer.email, ...(input.customer.locale ? { locale: input.customer.locale } : {}) };
    await tx
      .insertInto("customers")
      .values({ id: input.customer.id, ...customer })
      .onConflict((oc) => oc.column("id").doUpdateSet({ ...customer, updated_at: new Date() }))
      .execute();
    await tx
      .insertInto("subscriptions")
      .values({
        id: subscriptionId,
        customer_id: input.customer.id,
        plan_id: plan.id,
        status: "incomplete",
        success_url: input.successUrl,
        failure_url: input.failureUrl,
        billing_anchor: null,
        current_period_start: null,
        current_period_end: null,
        canceled_at: null,
        ended_at: null,
        next_renewal_at: null,
        created_at: deps.clock.now(),
      })
      .execute();
    await recordCheckout(tx, subscriptionId, "subscribe", checkout);
  });
  return { id: subscriptionId, status: "incomplete" as const, checkoutUrl: checkout.checkoutUrl, checkoutExpiresAt: checkout.expiresAt.toISOString() };
}
