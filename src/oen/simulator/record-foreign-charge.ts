import type { LedgerEntry } from "./ledger.ts";
import type { SimulatorContext } from "./simulator-context.ts";

export interface ForeignChargeInput {
  amount: number;
  /** Default: an order id of the other integration's own shape. */
  orderId?: string;
  /** Default: now. */
  createdAt?: Date;
}

/**
 * A successful API charge of the merchant's domain that the service under test never made
 * (another integration, someone with the API token): what a reconciliation must report as
 * unknown. Recorded like any charge, without a card of ours.
 */
export function recordForeignCharge(ctx: SimulatorContext, input: ForeignChargeInput): LedgerEntry {
  if (!Number.isInteger(input.amount) || input.amount < 1) throw new RangeError("a charge is a whole TWD ≥ 1");
  const at = input.createdAt ?? ctx.now();
  const entry: LedgerEntry = {
    id: ctx.ids.transactionHid(at),
    transactionId: ctx.ids.internalId(),
    merchantId: ctx.settings.merchantId,
    orderId: input.orderId ?? `EXT-${ctx.ids.authCode()}`,
    amount: input.amount,
    status: "charged",
    productDetails: [{ productionCode: "EXT", description: "another integration's sale", quantity: 1, unit: "件", unitPrice: input.amount }],
    token: "",
    authCode: ctx.ids.authCode(),
    createdAt: at.toISOString(),
    paidAt: at.toISOString(),
    refundAmount: 0,
  };
  ctx.ledger.add(entry);
  return ctx.ledger.get(entry.id)!;
}
