import type { LedgerEntry } from "./ledger.ts";

/**
 * A ledger entry as Oen's Transaction object (api/objects/transaction.md): fields without a value
 * are left out; `productDetails` only when asked for by the 27-char id.
 */
export function transactionView(entry: LedgerEntry, withProductDetails: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: entry.id,
    transactionId: entry.transactionId,
    action: "onetime",
    amount: entry.amount,
    paymentMethod: "card",
    paymentInfo: { method: "card" }, // all a token charge shows
    status: entry.status,
    orderId: entry.orderId,
    userId: entry.userId,
    userName: entry.userName,
    userEmail: entry.userEmail,
    note: entry.note,
    reason: entry.reason,
    authCode: entry.authCode,
    use3d: false,
    createdAt: entry.createdAt,
    paidAt: entry.paidAt,
    refundAmount: entry.refundAmount,
    refundedAt: entry.refundedAt,
    payoutAt: entry.payoutAt,
    productDetails: withProductDetails ? entry.productDetails : undefined,
  };
  return Object.fromEntries(Object.entries(view).filter(([, value]) => value !== undefined));
}
