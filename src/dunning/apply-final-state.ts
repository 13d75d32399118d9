import type { Transaction } from "kysely";
import type { FinalState } from "../billing/dunning-policy.ts";
import type { Database, Invoice } from "../db/database.ts";
import type { SideEffects } from "../outbox/side-effects.ts";

/**
 * The end of dunning: `canceled` ends the subscription and writes the invoice
 * off; `unpaid` keeps both, the invoice open, so a new card can still pay it.
 */
export async function applyFinalState(tx: Transaction<Database>, effects: SideEffects, invoice: Invoice, state: FinalState, now: Date): Promise<Invoice> {
  const data = { subscriptionId: invoice.subscription_id, invoiceId: invoice.id, cause: "dunning" };
  if (state === "canceled") {
    const ended = await tx
      .updateTable("subscriptions")
      .set({ status: "canceled", canceled_at: now, ended_at: now, next_renewal_at: null, cancel_at_period_end: false, updated_at: now })
      .where("id", "=", invoice.subscription_id)
      .where("status", "in", ["active", "past_due", "unpaid"])
      .executeTakeFirst();
    if (ended.numUpdatedRows > 0n) {
      await effects.event(tx, { type: "subscription.canceled", dedupeKey: `subscription.canceled:${invoice.subscription_id}`, data, occurredAt: now });
    }
  } else {
    const unpaid = await tx
      .updateTable("subscriptions")
      .set({ status: "unpaid", updated_at: now })
      .where("id", "=", invoice.subscription_id)
      .where("status", "in", ["active", "past_due"])
      .executeTakeFirst();
    if (unpaid.numUpdatedRows > 0n) {
      await effects.event(tx, { type: "subscription.unpaid", dedupeKey: `subscription.unpaid:${invoice.id}`, data, occurredAt: now });
    }
  }
  return tx
    .updateTable("invoices")
    .set({ status: state === "canceled" ? "uncollectible" : "open", next_attempt_at: null, dunning_deadline_at: null, updated_at: now })
    .where("id", "=", invoice.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
