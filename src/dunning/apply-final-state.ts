import type { Transaction } from "kysely";
import type { FinalState } from "../billing/dunning-policy.ts";
import type { Database, Invoice } from "../db/database.ts";
import { markUncollectible, scheduleCollection } from "../invoices/invoice-transitions.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { cancel, markUnpaid } from "../subscriptions/subscription-transitions.ts";

/**
 * The end of dunning: `canceled` writes the invoice off and ends the
 * subscription (cause `dunning`); `unpaid` keeps both, the invoice open with
 * nothing scheduled, so a new card can still pay it.
 */
export async function applyFinalState(tx: Transaction<Database>, effects: SideEffects, invoice: Invoice, state: FinalState, now: Date): Promise<Invoice | undefined> {
  if (state === "canceled") {
    const written = await markUncollectible(tx, invoice.id, now);
    await cancel(tx, effects, { id: invoice.subscription_id, cause: "dunning", now });
    return written;
  }
  const held = await scheduleCollection(tx, effects, invoice.id, null, now, null);
  await markUnpaid(tx, effects, invoice.subscription_id, invoice.id, now);
  return held;
}
