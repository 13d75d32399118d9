import type { InvoiceInfoCheck } from "../../billing/einvoice.ts";

const text = (description: string) => ({ type: "string", description }) as const;

/**
 * The e-invoice details (電子發票) in Oen's own field names. The schema only
 * documents them: validateInvoiceInfo checks them, so that a mistake is a
 * 422 naming the field (e.g. `invoiceInfo.buyerIdentifier`).
 */
export const invoiceInfoSchema = {
  type: "object",
  description: 'cloud invoice: {invoiceType: "cloud", carrierType: "3J0002" | "CQ0001" | "", carrierId?, email?}; company: {invoiceType: "company", buyerIdentifier, buyerName?, email?}',
  properties: {
    invoiceType: text('"cloud" or "company"'),
    carrierType: text('"3J0002" mobile barcode, "CQ0001" citizen certificate, "" member carrier'),
    carrierId: text('the carrier number: "/" and 7 characters, or 2 letters and 14 digits'),
    buyerIdentifier: text("the buyer's 統一編號, 8 digits"),
    buyerName: text("the buyer's name"),
    email: text("where Oen sends the invoice notice"),
  },
} as const;

export const nullableInvoiceInfoSchema = { anyOf: [{ type: "null" }, invoiceInfoSchema] } as const;

/** The 422 body of details that validateInvoiceInfo refused. */
export function invalidInvoiceInfo(check: Extract<InvoiceInfoCheck, { ok: false }>) {
  return { error: "invalid_invoice_info", field: check.field, message: `${check.field} ${check.message}` };
}
