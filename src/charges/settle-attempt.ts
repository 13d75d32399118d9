import type { Transaction } from "kysely";
import { FIRST_LOOKUP_DELAY_MS } from "./lookup-backoff.ts";
import type { AttentionCode } from "../billing/charge-codes.ts";
import type { ChargeAttempt, Database, Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { applyDecline } from "../dunning/apply-decline.ts";
import { holdForAttention, markPaid, scheduleCollection, voidInvoice } from "../invoices/invoice-transitions.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { refundDoubleCharge } from "../refunds/refund-double-charge.ts";
import { changePlan, reactivate } from "../subscriptions/subscription-transitions.ts";

export type Settlement =
  /** `duplicates`: further successful transactions of the same orderId (a lookup found them). */
  | { kind: "succeeded"; transactionHid: string; authCode: string | null; duplicates?: readonly string[] }
  | { kind: "declined"; code: string | null; message: string | null }
  | { kind: "refused"; code: AttentionCode; message: string }
  | { kind: "unknown"; code: string; message: string }
  | { kind: "not_found" };

export interface SettleResult {
  /** False when another worker or the reconciler already settled this attempt. */
  applied: boolean;
  invoice: Invoice;
  attempt: ChargeAttempt;
}

type SettleDeps = Pick<Deps, "clock" | "config" | "logger" | "dunning">;

// Oen refusing the merchant does not change by the hour: try once a day until ops fix it.
const ATTENTION_RETRY_MS = 24 * 3600_000;

/**
 * Records what became of an attempt and what it means for its invoice and
 * subscription, in one transaction under their row locks, through their
 * transitions. Only an attempt still `sending`/`unknown` can be settled, so
 * two settlers (the worker that sent it and the resolver) cannot both apply
 * an outcome. The follow-up jobs (the next charge, a lookup) go to the outbox.
 */
export async function settleAttempt(deps: SettleDeps, tx: Transaction<Database>, attemptId: string, settlement: Settlement, effects: SideEffects): Promise<SettleResult> {
  // Subscription before invoice, the order every writer locks them in (no deadlocks).
  const subscription = await tx
    .selectFrom("charge_attempts as a")
    .innerJoin("invoices as i", "i.id", "a.invoice_id")
    .innerJoin("subscriptions as s", "s.id", "i.subscription_id")
    .select(["s.status", "s.plan_id", "a.invoice_id"])
    .where("a.id", "=", attemptId)
    .forUpdate("s")
    .executeTakeFirstOrThrow();
  const invoice = await tx.selectFrom("invoices").selectAll().where("id", "=", subscription.invoice_id).forUpdate().executeTakeFirstOrThrow();
  const now = deps.clock.now();
  const attempt = await tx
    .updateTable("charge_attempts")
    .set({ ...attemptFields(settlement), ...(settlement.kind === "unknown" ? {} : { resolved_at: new Date() }) })
    .where("id", "=", attemptId)
    .where("status", "in", ["sending", "unknown"])
    .returningAll()
    .executeTakeFirst();
  if (attempt === undefined) {
    const settled = await tx.selectFrom("charge_attempts").selectAll().where("id", "=", attemptId).executeTakeFirstOrThrow();
    if (settlement.kind === "succeeded" && settled.status !== "succeeded") {
      // A late success on an attempt settled as something else: the invoice went its own way since.
      await refundDoubleCharge(tx, effects, deps.logger, { invoiceId: invoice.id, chargeAttemptId: null, oenTransactionHid: settlement.transactionHid, amount: settled.amount, why: `charged on attempt ${settled.order_id} already settled as ${settled.status}` });
    }
    return { applied: false, invoice, attempt: settled };
  }
  if (invoice.status !== "open") {
    // Paid by another attempt, or void (canceled while this one was in flight).
    if (settlement.kind === "succeeded") {
      await refundDoubleCharge(tx, effects, deps.logger, { invoiceId: invoice.id, chargeAttemptId: attempt.id, oenTransactionHid: settlement.transactionHid, amount: attempt.amount, why: `charged for a ${invoice.status} invoice` });
    }
    return { applied: true, attempt, invoice };
  }
  const result = (updated: Invoice | undefined): SettleResult => ({ applied: true, attempt, invoice: updated ?? invoice });
  if (settlement.kind === "succeeded") {
    for (const hid of settlement.duplicates ?? []) {
      await refundDoubleCharge(tx, effects, deps.logger, { invoiceId: invoice.id, chargeAttemptId: null, oenTransactionHid: hid, amount: attempt.amount, why: `a second transaction for order ${attempt.order_id}` });
    }
  }
  if (invoice.kind === "proration") return result(await settleProration(tx, effects, invoice, attempt, settlement, subscription.plan_id, now));
  switch (settlement.kind) {
    case "succeeded": {
      const paid = await markPaid(tx, effects, invoice.id, attempt, now);
      if ((subscription.status === "past_due" || subscription.status === "unpaid") && !(await anotherInvoiceInDunning(tx, invoice))) {
        await reactivate(tx, invoice.subscription_id, now, deps.config.billingTimezone);
      }
      return result(paid);
    }
    case "declined":
      return result(await applyDecline(deps, tx, invoice, attempt, now, effects));
    case "refused":
      deps.logger.error({ invoiceId: invoice.id, orderId: attempt.order_id, code: settlement.code }, "Oen refused the merchant, not the card: the invoice needs attention");
      return result(await holdForAttention(tx, effects, invoice.id, settlement.code, new Date(now.getTime() + ATTENTION_RETRY_MS), now));
    case "not_found":
      // Proven never charged: the invoice may be charged again right away.
      return result(await scheduleCollection(tx, effects, invoice.id, now, now));
    case "unknown":
      effects.resolve(attempt.id, FIRST_LOOKUP_DELAY_MS);
      return result(undefined);
  }
}

/** Whether another renewal of the subscription is still declined and dunned (paying this one does not end that). */
async function anotherInvoiceInDunning(tx: Transaction<Database>, invoice: Invoice): Promise<boolean> {
  const other = await tx
    .selectFrom("invoices")
    .select("id")
    .where("subscription_id", "=", invoice.subscription_id)
    .where("id", "!=", invoice.id)
    .where("kind", "=", "renewal")
    .where("status", "=", "open")
    .where("first_failed_at", "is not", null)
    .executeTakeFirst();
  return other !== undefined;
}

/**
 * An upgrade's proration is not dunned: paid, the plan switches; declined or
 * refused, the invoice is void and the subscription keeps its plan.
 */
async function settleProration(tx: Transaction<Database>, effects: SideEffects, invoice: Invoice, attempt: ChargeAttempt, settlement: Settlement, currentPlanId: string, now: Date): Promise<Invoice | undefined> {
  switch (settlement.kind) {
    case "succeeded": {
      const paid = await markPaid(tx, effects, invoice.id, attempt, now);
      await changePlan(tx, effects, { id: invoice.subscription_id, fromPlanId: currentPlanId, toPlanId: invoice.plan_id!, now });
      return paid;
    }
    case "declined":
    case "refused":
      await effects.event(tx, {
        type: "invoice.payment_failed",
        dedupeKey: `invoice.payment_failed:${attempt.id}`,
        data: { invoiceId: invoice.id, subscriptionId: invoice.subscription_id, cycle: invoice.cycle, amount: invoice.amount, orderId: attempt.order_id, declineCode: settlement.code, nextAttemptAt: null, awaitingNewCard: false },
        occurredAt: now,
      });
      return voidInvoice(tx, invoice.id, now);
    case "not_found":
      return scheduleCollection(tx, effects, invoice.id, now, now);
    case "unknown":
      effects.resolve(attempt.id, FIRST_LOOKUP_DELAY_MS);
      return invoice;
  }
}

function attemptFields(settlement: Settlement) {
  switch (settlement.kind) {
    case "succeeded":
      return { status: "succeeded" as const, oen_transaction_hid: settlement.transactionHid, auth_code: settlement.authCode };
    case "declined":
      return { status: "declined" as const, code: settlement.code, message: settlement.message };
    case "refused":
      return { status: "failed" as const, code: settlement.code, message: settlement.message };
    case "unknown":
      return { status: "unknown" as const, code: settlement.code, message: settlement.message };
    case "not_found":
      return { status: "not_found" as const };
  }
}
