import type { TokenChargeRequest } from "../types.ts";
import { DECLINE_MESSAGES } from "./cards.ts";
import { einvoiceRefusal } from "./check-einvoice.ts";
import { ok, refused, type Answer } from "./envelope.ts";
import type { FaultRule } from "./fault-plan.ts";
import type { LedgerEntry, PendingSettlement } from "./ledger.ts";
import { productTotal } from "./product-total.ts";
import type { SimulatorContext } from "./simulator-context.ts";

/** POST /token/transactions body after schema validation. */
export interface TokenChargeBody extends TokenChargeRequest {
  merchantId: string;
  currency?: "TWD";
}

const HIGH_VALUE_THRESHOLD = 200_000;
const DEFAULT_SETTLE_AFTER_MS = 1_000;

/**
 * One token charge by Oen's rules (api/token-transactions.md): no deduplication by orderId, a
 * declined charge is recorded too. Under a `c026_after_charge` fault the transaction stays
 * `charging` for a while, then settles to what the card would have done.
 */
export function chargeToken(ctx: SimulatorContext, body: TokenChargeBody, fault: FaultRule | undefined): Answer {
  const { settings } = ctx;
  const card = ctx.cards.get(body.token);
  if (body.merchantId !== settings.merchantId) return refused(400, "V0001", "INVALID_PARAMS");
  if (!settings.paymentsActivated) return refused(400, "V0002", "PAYMENT_SERVICE_NOT_ACTIVATE");
  if (productTotal(body.productDetails) !== body.amount) return refused(400, "V0001", "PRODUCT_AMOUNT_NOT_MATCH");
  if (body.amount >= HIGH_VALUE_THRESHOLD && !settings.highValueEnabled) return refused(400, "V0003", "AMOUNT_EXCEEDS_LIMIT");
  if (card === undefined || card.merchantId !== body.merchantId) return refused(400, "V0001", "INVALID_PARAMS");
  const einvoice = settings.einvoice ? einvoiceRefusal(body) : null;
  if (einvoice !== null) return refused(400, "V0001", einvoice);

  const declined = card.charges < card.behaviour.declines;
  card.charges += 1;
  ctx.cards.save();
  const createdAt = ctx.now();
  const entry: LedgerEntry = {
    id: ctx.ids.transactionHid(createdAt),
    transactionId: ctx.ids.internalId(),
    merchantId: body.merchantId,
    orderId: body.orderId,
    amount: body.amount,
    status: "charging",
    productDetails: body.productDetails,
    token: body.token,
    userId: body.userId,
    userName: body.userName,
    userEmail: body.userEmail,
    note: body.note,
    ...(settings.einvoice ? { invoice: body.invoiceInfo ?? { invoiceType: "cloud", carrierType: "" } } : {}),
    createdAt: createdAt.toISOString(),
    refundAmount: 0,
  };
  const code = card.behaviour.declineCode;
  const settled: PendingSettlement["change"] = declined ? { status: "failed", declineCode: code, reason: DECLINE_MESSAGES[code] } : { status: "charged", authCode: ctx.ids.authCode() };

  // Under C026 the answer is replaced by 409 (answer-with-faults.ts); the ledger shows `charging` until it settles.
  if (fault?.kind === "c026_after_charge") {
    const settles = { at: new Date(Date.now() + (fault.settleAfterMs ?? DEFAULT_SETTLE_AFTER_MS)).toISOString(), change: settled };
    ctx.ledger.add({ ...entry, settles });
    settleWhenDue(ctx, entry.id, settles);
  } else ctx.ledger.add({ ...entry, ...settled, ...(declined ? {} : { paidAt: entry.createdAt }) });
  if (declined) {
    const detail = code === "K0001" ? { detail: { subCode: "MONTHLY_LIMIT_EXCEEDED" } } : {};
    return { ...refused(400, code, DECLINE_MESSAGES[code], detail), recorded: true };
  }
  return { ...ok({ id: entry.id, authCode: settled.authCode }), recorded: true };
}

/** A `charging` transaction settles at its time (a success is paid then), also when a restarted simulator finds it in its ledger. */
export function settleWhenDue(ctx: Pick<SimulatorContext, "ledger" | "later" | "now">, id: string, settles: PendingSettlement): void {
  ctx.later(Math.max(0, Date.parse(settles.at) - Date.now()), () => {
    ctx.ledger.update(id, { ...settles.change, ...(settles.change.status === "charged" ? { paidAt: ctx.now().toISOString() } : {}), settles: undefined });
  });
}
