import type { Invoice } from "../db/database.ts";

/** What every invoice event says about its invoice. */
export function invoiceEventData(invoice: Invoice) {
  return {
    invoiceId: invoice.id,
    subscriptionId: invoice.subscription_id,
    cycle: invoice.cycle,
    amount: invoice.amount,
    currency: invoice.currency,
    periodStart: invoice.period_start.toISOString(),
    periodEnd: invoice.period_end.toISOString(),
  };
}
