import type { Refund } from "../db/database.ts";

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** A refund as the platform sees it (API answers, event payloads). */
export function refundView(refund: Refund) {
  return {
    id: refund.id,
    invoiceId: refund.invoice_id,
    amount: refund.amount,
    reason: refund.reason,
    cause: refund.cause,
    status: refund.status,
    oenTransactionId: refund.oen_transaction_hid,
    code: refund.code,
    message: refund.message,
    createdAt: refund.created_at.toISOString(),
    sentAt: iso(refund.sent_at),
    resolvedAt: iso(refund.resolved_at),
  };
}
