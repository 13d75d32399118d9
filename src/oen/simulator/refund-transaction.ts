import type { ProductDetail } from "../types.ts";
import { ok, refused, type Answer } from "./envelope.ts";
import { productTotal } from "./product-total.ts";
import type { SimulatorContext } from "./simulator-context.ts";
import { transactionView } from "./transaction-view.ts";

/** POST /refunds/:transactionHid body after schema validation. */
export interface RefundBody {
  merchantId: string;
  amount?: number;
  reason?: string;
  productDetails?: ProductDetail[];
}

const HID = /^P\d{8}[0-9A-Z]{8}$/;

/**
 * A card refund by api/refund.md: by P-number only, once per transaction (a partial refund
 * leaves the rest unrefundable), instantly `refunded` as for cards.
 */
export function refundTransaction(ctx: SimulatorContext, transactionHid: string, body: RefundBody): Answer {
  const entry = HID.test(transactionHid) ? ctx.ledger.get(transactionHid) : undefined;
  if (entry === undefined || entry.merchantId !== body.merchantId || body.merchantId !== ctx.settings.merchantId) {
    return refused(400, "V0001", "INVALID_PARAMS");
  }
  if ((entry.status !== "charged" && entry.status !== "claimed") || entry.refundAmount > 0) {
    return refused(400, "V0002", "TRANSACTION_STATUS_NOT_ALLOWED");
  }
  const amount = body.amount ?? entry.amount;
  if (amount > entry.amount) return refused(400, "V0001", "REFUND_AMOUNT_EXCEED_CHARGE_AMOUNT");
  if (body.productDetails !== undefined && productTotal(body.productDetails) !== amount) {
    return refused(400, "V0001", "PRODUCT_AMOUNT_NOT_MATCH");
  }
  const refundedAt = ctx.now().toISOString();
  const updated = ctx.ledger.update(entry.id, { status: "refunded", refundAmount: amount, refundedAt });
  return ok({ ...transactionView(updated, false), success: true });
}
