import type { Kysely } from "kysely";
import type { Db } from "../db/connect.ts";
import type { Database, Invoice, Plan, Subscription } from "../db/database.ts";
import { readSnapshot } from "../subscriptions/subscription-view.ts";

/** A subscription as its customer sees it in the portal. */
export interface PortalSubscription {
  subscription: Subscription;
  plan: Plan;
  /** A downgrade waiting for the period's end. */
  pendingPlan: Plan | null;
  last4: string | null;
  /** The next charge, when one is coming: a renewal, or the retry of an unpaid invoice (at null: waiting for a new card). */
  nextCharge: { amount: number; at: Date | null } | null;
  /** The invoice that is still owed (past_due, unpaid). */
  openInvoice: Invoice | null;
  /** Why the open invoice's last charge failed. */
  declineCode: string | null;
}

// Abandoned sign-ups have nothing to manage.
const SHOWN = ["trialing", "active", "past_due", "unpaid", "canceled"] as const;

function nextCharge(subscription: Subscription, billedPlan: Plan, openInvoice: Invoice | null): PortalSubscription["nextCharge"] {
  if (subscription.status === "past_due" && openInvoice !== null) return { amount: openInvoice.amount, at: openInvoice.next_attempt_at };
  if ((subscription.status === "active" || subscription.status === "trialing") && !subscription.cancel_at_period_end && subscription.next_renewal_at !== null) {
    return { amount: billedPlan.amount, at: subscription.next_renewal_at };
  }
  return null;
}

async function portalSubscriptions(tx: Kysely<Database>, customerId: string, id?: string): Promise<PortalSubscription[]> {
  let query = tx.selectFrom("subscriptions").selectAll().where("customer_id", "=", customerId).where("status", "in", SHOWN);
  if (id !== undefined) query = query.where("id", "=", id);
  const subscriptions = await query.orderBy("created_at", "desc").orderBy("id", "desc").execute();
  if (subscriptions.length === 0) return [];
  const ids = subscriptions.map((s) => s.id);
  const planIds = [...new Set(subscriptions.flatMap((s) => (s.pending_plan_id === null ? [s.plan_id] : [s.plan_id, s.pending_plan_id])))];
  const [plans, tokens, openInvoices] = await Promise.all([
    tx.selectFrom("plans").selectAll().where("id", "in", planIds).execute(),
    tx.selectFrom("payment_tokens").select(["subscription_id", "last4"]).where("subscription_id", "in", ids).where("status", "=", "active").execute(),
    tx.selectFrom("invoices").selectAll().where("subscription_id", "in", ids).where("status", "=", "open").where("kind", "=", "renewal").orderBy("cycle", "desc").execute(),
  ]);
  const declines =
    openInvoices.length === 0
      ? []
      : await tx
          .selectFrom("charge_attempts")
          .select(["invoice_id", "code"])
          .distinctOn("invoice_id")
          .where("invoice_id", "in", openInvoices.map((i) => i.id))
          .where("status", "=", "declined")
          .orderBy("invoice_id")
          .orderBy("attempt_no", "desc")
          .execute();
  const planById = new Map(plans.map((p) => [p.id, p]));
  return subscriptions.map((subscription) => {
    const plan = planById.get(subscription.plan_id)!;
    const pendingPlan = subscription.pending_plan_id === null ? null : planById.get(subscription.pending_plan_id)!;
    const openInvoice = openInvoices.find((i) => i.subscription_id === subscription.id) ?? null;
    return {
      subscription,
      plan,
      pendingPlan,
      last4: tokens.find((t) => t.subscription_id === subscription.id)?.last4 ?? null,
      nextCharge: nextCharge(subscription, pendingPlan ?? plan, openInvoice),
      openInvoice,
      declineCode: openInvoice === null ? null : (declines.find((d) => d.invoice_id === openInvoice.id)?.code ?? null),
    };
  });
}

/** A customer's subscriptions, newest first, read in one snapshot. */
export async function loadCustomerSubscriptions(db: Db, customerId: string): Promise<PortalSubscription[]> {
  return readSnapshot(db, (tx) => portalSubscriptions(tx, customerId));
}

/** One of the customer's subscriptions; undefined when it does not exist or is another customer's. */
export async function loadCustomerSubscription(db: Db, customerId: string, id: string): Promise<PortalSubscription | undefined> {
  return readSnapshot(db, async (tx) => (await portalSubscriptions(tx, customerId, id))[0]);
}
