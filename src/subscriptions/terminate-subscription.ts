import { proratedRefund } from "../billing/proration.ts";
import type { Refund } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { planRefund } from "../refunds/plan-refund.ts";
import { cancel } from "./subscription-transitions.ts";

export type TerminateRefund = "none" | "prorated" | "full";

export type TerminateResult = { kind: "terminated"; refund: Refund | null } | { kind: "not_found" } | { kind: "already_ended"; status: string };

/**
 * POST /v1/subscriptions/:id/terminate: ends the subscription now (open
 * invoices void) and refunds, from the latest paid renewal, nothing, the
 * unused fraction of its period, or all of it that is left. The refund is
 * planned in the same transaction (write-ahead) and sent after the commit.
 */
export async function terminateSubscription(deps: Deps, id: string, refundMode: TerminateRefund): Promise<TerminateResult> {
  const effects = createSideEffects(deps);
  const result = await deps.db.transaction().execute(async (tx): Promise<TerminateResult> => {
    const subscription = await tx.selectFrom("subscriptions").select("status").where("id", "=", id).forUpdate().executeTakeFirst();
    if (subscription === undefined) return { kind: "not_found" };
    const now = deps.clock.now();
    if ((await cancel(tx, effects, { id, cause: "requested", now })) === undefined) return { kind: "already_ended", status: subscription.status };
    let refund: Refund | null = null;
    const paid =
      refundMode === "none"
        ? undefined
        : await tx
            .selectFrom("invoices as i")
            .innerJoin("charge_attempts as a", (join) => join.onRef("a.invoice_id", "=", "i.id").on("a.status", "=", "succeeded"))
            .select(["i.id", "i.amount", "i.amount_refunded", "i.period_start", "i.period_end", "a.id as attemptId", "a.oen_transaction_hid"])
            .where("i.subscription_id", "=", id)
            .where("i.status", "=", "paid")
            .where("i.kind", "=", "renewal")
            .orderBy("i.cycle", "desc")
            .limit(1)
            .executeTakeFirst();
    if (paid !== undefined) {
      const left = paid.amount - paid.amount_refunded;
      const amount = Math.min(left, refundMode === "full" ? left : proratedRefund({ paidAmount: paid.amount, periodStart: paid.period_start, periodEnd: paid.period_end, at: now }));
      if (amount >= 1) {
        const planned = await planRefund(tx, { invoiceId: paid.id, chargeAttemptId: paid.attemptId, oenTransactionHid: paid.oen_transaction_hid!, amount, reason: `terminated (${refundMode} refund)`, cause: "terminate" });
        if (planned.kind === "planned") {
          refund = planned.refund;
          effects.refund(refund.id);
        }
      }
    }
    await effects.event(tx, {
      type: "subscription.terminated",
      dedupeKey: `subscription.terminated:${id}`,
      data: { subscriptionId: id, refund: refundMode, refundId: refund?.id ?? null, refundAmount: refund?.amount ?? 0 },
      occurredAt: now,
    });
    return { kind: "terminated", refund };
  });
  await effects.flush();
  return result;
}
