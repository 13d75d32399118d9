import type { Db } from "../db/connect.ts";
import type { Customer, Invoice, Subscription } from "../db/database.ts";

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function invoiceSummary(invoice: Invoice) {
  return {
    id: invoice.id,
    subscriptionId: invoice.subscription_id,
    kind: invoice.kind,
    cycle: invoice.cycle,
    status: invoice.status,
    amount: invoice.amount,
    amountRefunded: invoice.amount_refunded,
    currency: invoice.currency,
    periodStart: invoice.period_start.toISOString(),
    periodEnd: invoice.period_end.toISOString(),
    attemptCount: invoice.attempt_count,
    nextAttemptAt: iso(invoice.next_attempt_at),
    paidAt: iso(invoice.paid_at),
    /** Oen refused the merchant (configuration, K0001): ops must act; the customer is not dunned. */
    needsAttention: invoice.attention_code === null ? null : { code: invoice.attention_code, since: iso(invoice.attention_since) },
    createdAt: invoice.created_at.toISOString(),
  };
}

export function subscriptionView(subscription: Subscription, customer: Customer, last4: string | null | undefined, latestInvoice: Invoice | undefined) {
  return {
    id: subscription.id,
    status: subscription.status,
    planId: subscription.plan_id,
    customer: { id: customer.id, name: customer.name, email: customer.email },
    currentCycle: subscription.current_cycle,
    currentPeriodStart: iso(subscription.current_period_start),
    currentPeriodEnd: iso(subscription.current_period_end),
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    canceledAt: iso(subscription.canceled_at),
    endedAt: iso(subscription.ended_at),
    card: last4 === undefined ? null : { last4 },
    latestInvoice: latestInvoice === undefined ? null : invoiceSummary(latestInvoice),
    createdAt: subscription.created_at.toISOString(),
  };
}

export type SubscriptionView = ReturnType<typeof subscriptionView>;

/** The platform's view of one subscription, or undefined when it does not exist. */
export async function loadSubscriptionView(db: Db, id: string): Promise<SubscriptionView | undefined> {
  // One snapshot: a payment committing between the reads must not show a paid invoice on a past_due subscription.
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .setAccessMode("read only")
    .execute(async (tx) => {
      const subscription = await tx.selectFrom("subscriptions").selectAll().where("id", "=", id).executeTakeFirst();
      if (subscription === undefined) return undefined;
      const customer = await tx.selectFrom("customers").selectAll().where("id", "=", subscription.customer_id).executeTakeFirstOrThrow();
      const token = await tx.selectFrom("payment_tokens").select("last4").where("subscription_id", "=", id).where("status", "=", "active").executeTakeFirst();
      const latestInvoice = await tx.selectFrom("invoices").selectAll().where("subscription_id", "=", id).orderBy("cycle", "desc").limit(1).executeTakeFirst();
      return subscriptionView(subscription, customer, token?.last4, latestInvoice);
    });
}
