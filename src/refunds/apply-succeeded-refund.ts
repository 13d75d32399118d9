import type { Kysely } from "kysely";
import type { Database, Invoice, Refund } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { recordRefund } from "../invoices/invoice-transitions.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { invoiceSummary } from "../subscriptions/subscription-view.ts";
import { refundView } from "./refund-view.ts";

/**
 * What a refund that happened at Oen means here, in the transaction that records it: the
 * invoice's `amount_refunded` grows (not for a double charge: that money was never the
 * invoice's), and the platform hears of it. Returns the invoice as it now is.
 */
export async function applySucceededRefund(
  deps: Pick<Deps, "clock" | "logger">,
  tx: Kysely<Database>,
  refund: Refund,
  invoice: Invoice,
  effects: SideEffects,
): Promise<Invoice> {
  const doubleCharge = refund.cause === "double_charge";
  let current = invoice;
  if (!doubleCharge) {
    const updated = await recordRefund(tx, invoice.id, refund.amount);
    if (updated === undefined) {
      // Oen gave the money back; our books cannot take it. A person must look (reconciliation).
      deps.logger.error(
        { invoiceId: invoice.id, refundId: refund.id, amount: refund.amount, invoiceStatus: invoice.status, amountRefunded: invoice.amount_refunded },
        "a refund succeeded at Oen beyond what the invoice can record: reconcile",
      );
    } else {
      current = updated;
    }
  }
  const type = doubleCharge ? "invoice.double_charge_refunded" : "invoice.refunded";
  await effects.event(tx, {
    type,
    dedupeKey: `${type}:${refund.id}`,
    data: {
      invoiceId: current.id,
      subscriptionId: current.subscription_id,
      refund: refundView(refund),
      invoice: { ...invoiceSummary(current), amountRefunded: current.amount_refunded },
    },
    occurredAt: deps.clock.now(),
  });
  return current;
}
