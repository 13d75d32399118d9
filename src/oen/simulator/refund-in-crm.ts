import type { Answer } from "./envelope.ts";
import type { LedgerEntry } from "./ledger.ts";
import { refundTransaction } from "./refund-transaction.ts";
import type { SimulatorContext } from "./simulator-context.ts";

export type CrmRefundResult = { kind: "refunded"; transaction: LedgerEntry } | { kind: "refused"; code: string; message: string };

/**
 * A refund the merchant makes in Oen's CRM (金流明細), not through the API: the same
 * once-per-transaction rule, no allowance to send. What the daily reconciliation must find.
 */
export function refundInCrm(ctx: SimulatorContext, transactionHid: string, input: { amount?: number; reason?: string }): CrmRefundResult {
  return resultOf(ctx, transactionHid, refundTransaction(ctx, transactionHid, { merchantId: ctx.settings.merchantId, ...input }, "crm"));
}

function resultOf(ctx: SimulatorContext, transactionHid: string, answer: Answer): CrmRefundResult {
  if (answer.httpStatus === 200) return { kind: "refunded", transaction: ctx.ledger.get(transactionHid)! };
  const { code, message } = answer.body as { code: string; message: string };
  return { kind: "refused", code, message };
}
