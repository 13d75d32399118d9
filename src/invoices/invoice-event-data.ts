import type { Invoice } from "../db/database.ts";

/** The fields of an invoice its events name (none of them changes once the invoice is open). */
export type InvoiceEventFields = Pick<Invoice, "id" | "subscription_id" | "cycle" | "amount" | "currency" | "period_start" | "period_end">;

/** What every invoice event says about its invoice. */
export function invoiceEventData(invoice: InvoiceEventFields) {
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
