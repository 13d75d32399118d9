import type { ProductDetail } from "../types.ts";
import { ok, refused, type Answer } from "./envelope.ts";
import type { RefundChannel } from "./ledger.ts";
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
 * A card refund by api/refund.md and developers/refunds.md: by P-number only, of a `charged`
 * or `claimed` transaction, ONCE (by API or CRM; a partial refund leaves the rest
 * unrefundable), for at most the amount; instantly `refunded` (`refundedPostPayout` once paid
 * out), as for cards. An allowance (`productDetails`), when sent, must sum to the amount.
 */
export function refundTransaction(ctx: SimulatorContext, transactionHid: string, body: RefundBody, channel: RefundChannel = "api"): Answer {
  const entry = HID.test(transactionHid) ? ctx.ledger.get(transactionHid) : undefined;
  if (entry === undefined || entry.merchantId !== body.merchantId || body.merchantId !== ctx.settings.merchantId) {
    return refused(400, "V0001", "INVALID_PARAMS");
  }
  if ((entry.status !== "charged" && entry.status !== "claimed") || entry.refundAmount > 0) {
    return refused(400, "V0002", "TRANSACTION_STATUS_NOT_ALLOWED");
  }
  const amount = body.amount ?? entry.amount;
  if (amount > entry.amount) return refused(400, "V0001", "REFUND_AMOUNT_EXCEED_CHARGE_AMOUNT");
  // A refund of an invoiced charge needs its allowance (折讓): productDetails summing to the refund.
  if (entry.invoice !== undefined && body.productDetails === undefined) return refused(400, "V0001", "PRODUCT_DETAILS_REQUIRED");
  if (body.productDetails !== undefined && productTotal(body.productDetails) !== amount) {
    return refused(400, "V0001", "PRODUCT_AMOUNT_NOT_MATCH");
  }
  const refundedAt = ctx.now().toISOString();
  const status = entry.status === "claimed" ? "refundedPostPayout" : "refunded";
  const updated = ctx.ledger.update(entry.id, { status, refundAmount: amount, refundedAt });
  if (status === "refundedPostPayout") {
    // Taken back from the next payout: the list shows a negative adjustment beside the transaction.
    ctx.ledger.addListedPayment({ kind: "adjustment", id: ctx.ids.otherPaymentId(ctx.now()), transactionId: ctx.ids.internalId(), amount: -amount, status: "charged", createdAt: refundedAt });
  }
  ctx.ledger.addRefund({
    transactionHid: entry.id,
    orderId: entry.orderId,
    amount,
    channel,
    reason: body.reason,
    productDetails: body.productDetails,
    refundedAt,
  });
  // `recorded`: the refund was made, so an after-refund fault may now hide the answer.
  return { ...ok({ ...transactionView(updated, false), success: true }), recorded: true };
}
