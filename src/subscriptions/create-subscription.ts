import type { InvoiceInfo } from "../billing/einvoice.ts";
import { recordCheckout, openOenCheckout } from "../checkout/start-checkout.ts";
import { saveCustomer, type Locale } from "../customers/save-customer.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../ids.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { findPlan } from "../plans/plan-repository.ts";

export interface CreateSubscriptionInput {
  customer: { id: string; name: string; email: string; locale?: Locale };
  planId: string;
  successUrl: string;
  failureUrl: string;
  /** Overrides the plan's trial length for this subscription. */
  trialDays?: number;
  /** The platform's own key-value pairs, returned as given. */
  metadata?: Record<string, string>;
  /** Stored on the customer (already checked by validateInvoiceInfo); left out, the customer's stay. */
  invoiceInfo?: InvoiceInfo;
}

export class PlanNotFoundError extends Error {
  override name = "PlanNotFoundError";
}

/**
 * A subscription starts `incomplete` with an Oen binding page; it becomes
 * active (or trialing) when the token webhook for that page arrives.
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
  const effects = createSideEffects(deps);
  await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now();
    const { id: customerId, ...customer } = input.customer;
    await saveCustomer(tx, effects, customerId, { ...customer, invoiceInfo: input.invoiceInfo }, now);
    await tx
      .insertInto("subscriptions")
      .values({
        id: subscriptionId,
        customer_id: customerId,
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
        trial_days: input.trialDays ?? null,
        metadata: JSON.stringify(input.metadata ?? {}),
        created_at: now,
      })
      .execute();
    await recordCheckout(tx, subscriptionId, "subscribe", checkout);
  });
  await effects.flush();
  return { id: subscriptionId, status: "incomplete" as const, checkoutUrl: checkout.checkoutUrl, checkoutExpiresAt: checkout.expiresAt.toISOString() };
}
