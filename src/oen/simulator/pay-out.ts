import type { LedgerEntry } from "./ledger.ts";
import type { SimulatorContext } from "./simulator-context.ts";

/**
 * Oen pays a `charged` transaction out to the merchant: it becomes `claimed`, and a refund of
 * it later is `refundedPostPayout`. Returns the transaction, or undefined when it is not `charged`.
 */
export function payOut(ctx: SimulatorContext, transactionHid: string): LedgerEntry | undefined {
  const entry = ctx.ledger.get(transactionHid);
  if (entry?.status !== "charged") return undefined;
  return ctx.ledger.update(entry.id, { status: "claimed", payoutAt: ctx.now().toISOString() });
}
