import type { Refund } from "../db/database.ts";
import { FIRST_LOOKUP_DELAY_MS } from "../charges/lookup-backoff.ts";
import type { Deps } from "../deps.ts";
import { planRefund } from "./plan-refund.ts";
import { enqueueRefund } from "./enqueue-refund.ts";
import { sendRefund } from "./send-refund.ts";


export type RefundInvoiceResult =
  | { kind: "refunded"; refund: Refund }
  | { kind: "refused"; status: 404 | 409 | 422; error: string; message: string };

const refused = (status: 404 | 409 | 422, error: string, message: string): RefundInvoiceResult => ({ kind: "refused", status, error, message });

/**
 * POST /v1/invoices/:id/refunds: refunds a paid invoice's charge, all that is
 * left by default. Oen refunds a transaction once (a partial refund ends what
 * can be refunded), so a second refund is refused here, before anything is
 * sent. The refund row is committed before the request (invariant 7) and the
 * answer is awaited; an ambiguous one is settled later by lookup.
 */
export async function refundInvoice(deps: Deps, invoiceId: string, input: { amount?: number; reason?: string }): Promise<RefundInvoiceResult> {
  const planned = await deps.db.transaction().execute(async (tx): Promise<RefundInvoiceResult> => {
    const charged = await tx
      .selectFrom("invoices as i")
      .leftJoin("charge_attempts as a", (join) => join.onRef("a.invoice_id", "=", "i.id").on("a.status", "=", "succeeded"))
      .select(["i.status", "i.amount", "i.amount_refunded", "a.id as attemptId", "a.oen_transaction_hid"])
      .where("i.id", "=", invoiceId)
      .executeTakeFirst();
    if (charged === undefined) return refused(404, "not_found", `invoice "${invoiceId}" does not exist`);
    if (charged.status !== "paid" || charged.attemptId === null) return refused(409, "not_paid", `invoice "${invoiceId}" is ${charged.status}: only a paid invoice can be refunded`);
    const left = charged.amount - charged.amount_refunded;
    const amount = input.amount ?? left;
    const result = await planRefund(tx, { invoiceId, chargeAttemptId: charged.attemptId, oenTransactionHid: charged.oen_transaction_hid!, amount, reason: input.reason ?? null, cause: "requested" });
    switch (result.kind) {
      case "planned":
        return { kind: "refunded", refund: result.refund };
      case "already_refunded":
        return refused(409, "already_refunded", `the charge of invoice "${invoiceId}" was already refunded (${result.refund.status}, ${result.refund.amount} TWD): Oen refunds a transaction only once`);
      case "exceeds_remaining":
        return refused(422, "amount_too_large", `amount: at most ${result.remaining} TWD is left to refund`);
      case "not_refundable":
        return refused(409, "not_refundable", `invoice "${invoiceId}" cannot be refunded (${result.why})`);
    }
  });
  if (planned.kind !== "refunded") return planned;
  const sent = await sendRefund(deps, planned.refund.id);
  const refund = sent.kind === "sent" ? sent.settled.refund : planned.refund;
  // Not settled by the answer: the refund job takes over (a lookup, never a resend).
  if (refund.status === "pending" || refund.status === "unknown") await enqueueRefund(deps, refund.id, FIRST_LOOKUP_DELAY_MS);
  return { kind: "refunded", refund };
}
