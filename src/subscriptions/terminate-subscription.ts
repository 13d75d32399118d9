import { sql, type Kysely } from "kysely";
import { proratedRefund } from "../billing/proration.ts";
import type { Database, Refund } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { planRefund } from "../refunds/plan-refund.ts";
import { cancel } from "./subscription-transitions.ts";

export type TerminateRefund = "none" | "prorated" | "full";

/** `refunds`: one for each charge of the last paid period (its renewal first, then its prorations); `refund`: the renewal's, null when it had none. */
export type TerminateResult = { kind: "terminated"; refund: Refund | null; refunds: Refund[] } | { kind: "not_found" } | { kind: "already_ended"; status: string };

/**
 * POST /v1/subscriptions/:id/terminate: ends the subscription now (open
 * invoices void) and refunds, of each charge of the last paid period (its
 * renewal and the prorations of upgrades within it), nothing, the unused
 * fraction of the time it paid for, or all of it that is left. The refunds are
 * planned in the same transaction (write-ahead) and sent after the commit.
 */
export async function terminateSubscription(deps: Deps, id: string, refundMode: TerminateRefund): Promise<TerminateResult> {
  const effects = createSideEffects(deps);
  const result = await deps.db.transaction().execute(async (tx): Promise<TerminateResult> => {
    const subscription = await tx.selectFrom("subscriptions").select("status").where("id", "=", id).forUpdate().executeTakeFirst();
    if (subscription === undefined) return { kind: "not_found" };
    const now = deps.clock.now();
    if ((await cancel(tx, effects, { id, cause: "requested", now })) === undefined) return { kind: "already_ended", status: subscription.status };
    const refunds: Refund[] = [];
    const charges = refundMode === "none" ? [] : await paidChargesOfLastPeriod(tx, id);
    for (const paid of charges) {
      const left = paid.amount - paid.amount_refunded;
      const amount = Math.min(left, refundMode === "full" ? left : proratedRefund({ paidAmount: paid.amount, periodStart: paid.period_start, periodEnd: paid.period_end, at: now }));
      if (amount < 1) continue;
      const planned = await planRefund(tx, { invoiceId: paid.id, chargeAttemptId: paid.attemptId, oenTransactionHid: paid.oen_transaction_hid!, amount, reason: `terminated (${refundMode} refund)`, cause: "terminate" });
      if (planned.kind === "planned") {
        refunds.push(planned.refund);
        effects.refund(planned.refund.id);
      } else deps.logger.warn({ subscriptionId: id, invoiceId: paid.id, refused: planned.kind }, "terminate: a charge of the last paid period is not refunded");
    }
    const renewalRefund = refunds.find((r) => r.invoice_id === charges.find((c) => c.kind === "renewal")?.id) ?? null;
    await effects.event(tx, {
      type: "subscription.terminated",
      dedupeKey: `subscription.terminated:${id}`,
      // refundId and refundAmount: the renewal's refund, as before prorations were refunded too.
      data: {
        subscriptionId: id,
        refund: refundMode,
        refundId: renewalRefund?.id ?? null,
        refundAmount: renewalRefund?.amount ?? 0,
        refundIds: refunds.map((r) => r.id),
        refundTotal: refunds.reduce((sum, r) => sum + r.amount, 0),
      },
      occurredAt: now,
    });
    return { kind: "terminated", refund: renewalRefund, refunds };
  });
  await effects.flush();
  return result;
}

/**
 * What the customer paid for the last period they paid anything for: its renewal, then the
 * prorations of the upgrades within it (each for the rest of that period, from its change),
 * each with the charge a refund goes back to. A period whose renewal is still open (held for
 * ops, being dunned) but whose upgrade was paid is that period: its proration alone.
 */
function paidChargesOfLastPeriod(tx: Kysely<Database>, subscriptionId: string) {
  const lastPaidCycle = tx
    .selectFrom("invoices")
    .select((eb) => eb.fn.max("cycle").as("cycle"))
    .where("subscription_id", "=", subscriptionId)
    .where("status", "=", "paid");
  return tx
    .selectFrom("invoices as i")
    .innerJoin("charge_attempts as a", (join) => join.onRef("a.invoice_id", "=", "i.id").on("a.status", "=", "succeeded"))
    .select(["i.id", "i.kind", "i.amount", "i.amount_refunded", "i.period_start", "i.period_end", "a.id as attemptId", "a.oen_transaction_hid"])
    .where("i.subscription_id", "=", subscriptionId)
    .where("i.status", "=", "paid")
    .where("i.cycle", "=", lastPaidCycle)
    .orderBy(sql`i.kind = 'renewal'`, "desc")
    .orderBy("i.period_start")
    .execute();
}
