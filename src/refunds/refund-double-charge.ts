import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { Logger } from "../log.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { planRefund } from "./plan-refund.ts";

export interface DoubleCharge {
  invoiceId: string;
  /** The attempt row whose transaction it is, when it was settled `succeeded`; null for a late or duplicate success. */
  chargeAttemptId: string | null;
  oenTransactionHid: string;
  amount: number;
  why: string;
}

/**
 * Invariant 8: money taken twice for one invoice, or for a void invoice, is
 * not kept. The refund is planned in the caller's transaction (with the fact
 * that revealed it) and sent after the commit; the sweep sends any it missed.
 * `invoice.double_charge_refunded` is written when Oen confirms the refund.
 */
export async function refundDoubleCharge(tx: Kysely<Database>, effects: SideEffects, logger: Pick<Logger, "error">, charge: DoubleCharge): Promise<void> {
  const target = charge.chargeAttemptId === null ? { chargeAttemptId: null, transactionAmount: charge.amount } : { chargeAttemptId: charge.chargeAttemptId };
  const planned = await planRefund(tx, { ...target, invoiceId: charge.invoiceId, oenTransactionHid: charge.oenTransactionHid, amount: charge.amount, reason: charge.why, cause: "double_charge" });
  logger.error({ invoiceId: charge.invoiceId, oenTransactionId: charge.oenTransactionHid, why: charge.why, refund: planned.kind }, "double charge: refunding it");
  if (planned.kind === "planned") effects.refund(planned.refund.id);
}
