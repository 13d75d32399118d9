import { sql } from "kysely";
import { abandonedAfterMs } from "../charges/abandoned-after.ts";
import type { Refund } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import type { RefundOutcome, RefundRequest } from "../oen/types.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { refundProductDetails } from "./refund-product-details.ts";
import { settleRefund, type RefundSettlement, type SettleRefundResult } from "./settle-refund.ts";

export type SendRefundResult =
  | { kind: "sent"; outcome: RefundOutcome["kind"]; settled: SettleRefundResult }
  /** Missing, already sent (maybe by another worker) or settled: nothing was sent. */
  | { kind: "not_sendable"; refund: Refund | undefined };

/**
 * Sends one planned refund, write-ahead (invariant 7): under the row lock, a `pending` refund
 * not sent yet gets `sent_at` and that is COMMITTED; only then does the request leave, once.
 * Oen's answer settles it; an ambiguous one leaves it `unknown` for resolveRefund, which
 * looks the transaction up instead of ever sending again.
 */
export async function sendRefund(deps: Deps, refundId: string): Promise<SendRefundResult> {
  const claim = await deps.db.transaction().execute(async (tx) => {
    const refund = await tx.selectFrom("refunds").selectAll().where("id", "=", refundId).forUpdate().executeTakeFirst();
    if (refund === undefined || refund.status !== "pending" || refund.sent_at !== null) return { kind: "not_sendable" as const, refund };
    const sent = await tx.updateTable("refunds").set({ sent_at: sql<Date>`now()` }).where("id", "=", refundId).returningAll().executeTakeFirstOrThrow();
    const invoice = await tx.selectFrom("invoices").select("product_details").where("id", "=", refund.invoice_id).executeTakeFirstOrThrow();
    const request: RefundRequest = { amount: refund.amount, productDetails: refundProductDetails(invoice.product_details, refund.amount) };
    if (refund.reason !== null) request.reason = refund.reason;
    return { kind: "claimed" as const, refund: sent, request };
  });
  if (claim.kind === "not_sendable") return claim;

  const { refund, request } = claim;
  // Just before it leaves, as for a charge: a worker paused past the abandon threshold must not send a
  // refund the resolver may already have settled (and another one been planned for the transaction).
  const fresh = await deps.db
    .selectFrom("refunds")
    .select("id")
    .where("id", "=", refundId)
    .where("status", "=", "pending")
    .where("sent_at", ">", sql<Date>`now() - make_interval(secs => ${abandonedAfterMs(deps.config) / 2000})`)
    .executeTakeFirst();
  if (fresh === undefined) {
    deps.logger.warn({ refundId }, "refund went stale before it was sent; left to the lookup");
    return { kind: "not_sendable", refund };
  }
  const outcome = await deps.oen.refund(refund.oen_transaction_hid, request);
  if (outcome.kind === "succeeded" && outcome.refundAmount !== refund.amount) {
    deps.logger.error({ refundId, oenTransactionId: refund.oen_transaction_hid, amount: refund.amount, oenRefundAmount: outcome.refundAmount }, "Oen refunded another amount than asked: reconcile");
  }
  const effects = createSideEffects(deps);
  const settled = await deps.db.transaction().execute((tx) => settleRefund(deps, tx, refundId, settlementOf(outcome), effects));
  await effects.flush();
  const log = { refundId, invoiceId: refund.invoice_id, oenTransactionId: refund.oen_transaction_hid, amount: refund.amount, cause: refund.cause, outcome: outcome.kind, code: "code" in outcome ? outcome.code : undefined };
  if (!settled.applied && outcome.kind === "succeeded") {
    // A resolver settled it as failed before this answer arrived; Oen's once rule kept any resend out.
    deps.logger.error({ ...log, settledAs: settled.refund.status }, "Oen refunded a refund already settled otherwise: reconcile");
  } else if (outcome.kind === "refused" || outcome.kind === "config_error") {
    deps.logger.error(log, "Oen refused the refund");
  } else {
    deps.logger.info(log, "refund answered");
  }
  return { kind: "sent", outcome: outcome.kind, settled };
}

function settlementOf(outcome: RefundOutcome): RefundSettlement {
  switch (outcome.kind) {
    case "succeeded":
      return { kind: "succeeded" };
    case "refused":
      // R0001: Oen asks for a lookup first (api/error-codes.md); the transaction's state decides.
      if (outcome.code === "R0001") return { kind: "unknown", code: outcome.code, message: outcome.message };
      return { kind: "failed", code: outcome.code, message: outcome.message };
    // 401, 403: refused before Oen did anything.
    case "config_error":
      return { kind: "failed", code: outcome.code, message: outcome.message };
    case "unknown":
      return { kind: "unknown", code: outcome.reason, message: outcome.message };
  }
}
