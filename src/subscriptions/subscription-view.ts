import type { Kysely } from "kysely";
import type { Db } from "../db/connect.ts";
import type { Customer, Database, Invoice, Subscription } from "../db/database.ts";

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
    trialStart: iso(subscription.trial_start),
    trialEnd: iso(subscription.trial_end),
    pendingPlanId: subscription.pending_plan_id,
    metadata: subscription.metadata,
    card: last4 === undefined ? null : { last4 },
    latestInvoice: latestInvoice === undefined ? null : invoiceSummary(latestInvoice),
    createdAt: subscription.created_at.toISOString(),
  };
}

export type SubscriptionView = ReturnType<typeof subscriptionView>;

/**
 * Runs reads in one snapshot: a payment committing between them must not
 * show a paid invoice on a past_due subscription.
 */
export async function readSnapshot<T>(db: Db, read: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute(read);
}

/** The views of `subscriptions`, in their order, with three reads whatever their number. */
export async function subscriptionViews(db: Kysely<Database>, subscriptions: readonly Subscription[]): Promise<SubscriptionView[]> {
  if (subscriptions.length === 0) return [];
  const ids = subscriptions.map((s) => s.id);
  const customers = await db.selectFrom("customers").selectAll().where("id", "in", [...new Set(subscriptions.map((s) => s.customer_id))]).execute();
  const tokens = await db.selectFrom("payment_tokens").select(["subscription_id", "last4"]).where("subscription_id", "in", ids).where("status", "=", "active").execute();
  const invoices = await db
    .selectFrom("invoices")
    .selectAll()
    .distinctOn("subscription_id")
    .where("subscription_id", "in", ids)
    .orderBy("subscription_id")
    .orderBy("cycle", "desc")
    .orderBy("created_at", "desc")
    .execute();
  const customerById = new Map(customers.map((c) => [c.id, c]));
  const last4By = new Map(tokens.map((t) => [t.subscription_id, t.last4]));
  const latestBy = new Map(invoices.map((i) => [i.subscription_id, i]));
  return subscriptions.map((s) => subscriptionView(s, customerById.get(s.customer_id)!, last4By.get(s.id), latestBy.get(s.id)));
}

/** The platform's view of one subscription, or undefined when it does not exist. */
export async function loadSubscriptionView(db: Db, id: string): Promise<SubscriptionView | undefined> {
  return readSnapshot(db, async (tx) => {
    const subscriptions = await tx.selectFrom("subscriptions").selectAll().where("id", "=", id).execute();
    return (await subscriptionViews(tx, subscriptions))[0];
  });
}
