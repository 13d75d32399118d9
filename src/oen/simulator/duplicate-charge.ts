import type { LedgerEntry } from "./ledger.ts";
import type { SimulatorContext } from "./simulator-context.ts";

/**
 * Oen takes the money of an order a second time: another successful transaction with the same
 * orderId, card and amount (what a charge sent twice does, since Oen does not deduplicate
 * orders). The service hears nothing of it; a lookup or the reconciliation must find it.
 * Throws when `transactionHid` is no successful charge.
 */
export function duplicateCharge(ctx: SimulatorContext, transactionHid: string, createdAt?: Date): LedgerEntry {
  const original = ctx.ledger.get(transactionHid);
  if (original?.paidAt === undefined) throw new Error(`no successful charge ${transactionHid} to duplicate`);
  const at = createdAt ?? ctx.now();
  const duplicate: LedgerEntry = {
    id: ctx.ids.transactionHid(at),
    transactionId: ctx.ids.internalId(),
    merchantId: original.merchantId,
    orderId: original.orderId,
    amount: original.amount,
    status: "charged",
    productDetails: original.productDetails,
    token: original.token,
    userId: original.userId,
    userName: original.userName,
    userEmail: original.userEmail,
    note: original.note,
    authCode: ctx.ids.authCode(),
    createdAt: at.toISOString(),
    paidAt: at.toISOString(),
    refundAmount: 0,
  };
  ctx.ledger.add(duplicate);
  return ctx.ledger.get(duplicate.id)!;
}
