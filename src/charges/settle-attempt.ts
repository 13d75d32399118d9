import type { Transaction } from "kysely";
import type { ChargeAttempt, Database, Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { applyDecline } from "../dunning/apply-decline.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { skipMissedPeriods } from "../subscriptions/skip-missed-periods.ts";

export type Settlement =
  | { kind: "succeeded"; transactionHid: string; authCode: string | null }
  | { kind: "declined"; code: string | null; message: string | null }
  | { kind: "failed"; code: string; message: string }
  | { kind: "unknown"; code: string; message: string }
  | { kind: "not_found" };

export interface SettleResult {
  /** False when another worker or the reconciler already settled this attempt. */
  applied: boolean;
  invoice: Invoice;
  attempt: ChargeAttempt;
}

type SettleDeps = Pick<Deps, "clock" | "config" | "logger" | "dunning">;

const CONFIG_ERROR_RETRY_MS = 60 * 60 * 1000;

/**
 * Records what became of an attempt and what it means for its invoice and
 * subscription, in one transaction under the invoice's row lock. Only an
 * attempt still `sending`/`unknown` can be settled, so two settlers (the
 * worker that sent it and the reconciler) cannot both apply an outcome.
 */
export async function settleAttempt(
  deps: SettleDeps,
  tx: Transaction<Database>,
  attemptId: string,
  settlement: Settlement,
  effects: SideEffects,
): Promise<SettleResult> {
  const current = await tx
    .selectFrom("charge_attempts")
    .innerJoin("invoices", "invoices.id", "charge_attempts.invoice_id")
    .select(["charge_attempts.invoice_id", "invoices.subscription_id"])
    .where("charge_attempts.id", "=", attemptId)
    .executeTakeFirstOrThrow();
  // Subscription before invoice, the order every writer locks them in (no deadlocks).
  await tx.selectFrom("subscriptions").select("id").where("id", "=", current.subscription_id).forUpdate().execute();
  const invoice = await tx.selectFrom("invoices").selectAll().where("id", "=", current.invoice_id).forUpdate().executeTakeFirstOrThrow();
  const now = deps.clock.now();
  const fields = attemptFields(settlement);
  const attempt = await tx
    .updateTable("charge_attempts")
    .set({ ...fields, ...(settlement.kind === "unknown" ? {} : { resolved_at: new Date() }) })
    .where("id", "=", attemptId)
    .where("status", "in", ["sending", "unknown"])
    .returningAll()
    .executeTakeFirst();
  if (attempt === undefined) {
    const settled = await tx.selectFrom("charge_attempts").selectAll().where("id", "=", attemptId).executeTakeFirstOrThrow();
    return { applied: false, invoice, attempt: settled };
  }

  if (invoice.status !== "open") {
    // Canceled (invoice void) while this attempt was in flight: record the fact, change
    // nothing else. Money taken for a void invoice must be given back by a person.
    if (settlement.kind === "succeeded") {
      deps.logger.error({ invoiceId: invoice.id, invoiceStatus: invoice.status, orderId: attempt.order_id, oenTransactionId: settlement.transactionHid }, "a charge succeeded for an invoice that is no longer open: refund it");
    }
    return { applied: true, attempt, invoice };
  }
  switch (settlement.kind) {
    case "succeeded":
      return { applied: true, attempt, invoice: await markPaid(tx, invoice, attempt, now, deps.config.billingTimezone, effects) };
    case "declined":
      return { applied: true, attempt, invoice: await applyDecline(deps, tx, invoice, attempt, now, effects) };
    case "failed":
      // Our configuration is wrong (token, IP allowlist, activation): nothing was charged.
      // The invoice stays open and is tried again later, once ops have fixed it.
      deps.logger.error({ invoiceId: invoice.id, orderId: attempt.order_id, code: settlement.code }, "Oen refused the charge request: configuration needs attention");
      return { applied: true, attempt, invoice: await scheduleInvoice(tx, invoice.id, new Date(now.getTime() + CONFIG_ERROR_RETRY_MS), now) };
    case "not_found":
      // Proven never charged: the invoice may be charged again right away.
      return { applied: true, attempt, invoice: await scheduleInvoice(tx, invoice.id, now, now) };
    case "unknown":
      return { applied: true, attempt, invoice };
  }
}

function attemptFields(settlement: Settlement) {
  switch (settlement.kind) {
    case "succeeded":
      return { status: "succeeded" as const, oen_transaction_hid: settlement.transactionHid, auth_code: settlement.authCode };
    case "declined":
      return { status: "declined" as const, code: settlement.code, message: settlement.message };
    case "failed":
      return { status: "failed" as const, code: settlement.code, message: settlement.message };
    case "unknown":
      return { status: "unknown" as const, code: settlement.code, message: settlement.message };
    case "not_found":
      return { status: "not_found" as const };
  }
}

async function markPaid(tx: Transaction<Database>, invoice: Invoice, attempt: ChargeAttempt, now: Date, zone: string, effects: SideEffects): Promise<Invoice> {
  const paid = await tx
    .updateTable("invoices")
    .set({ status: "paid", paid_at: now, next_attempt_at: null, dunning_deadline_at: null, updated_at: now })
    .where("id", "=", invoice.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  // Paid again after dunning: back to active; the period continues from the original anchor.
  const recovered = await tx
    .updateTable("subscriptions")
    .set({ status: "active", updated_at: now })
    .where("id", "=", invoice.subscription_id)
    .where("status", "in", ["past_due", "unpaid"])
    .executeTakeFirst();
  if (recovered.numUpdatedRows > 0n) await skipMissedPeriods(tx, invoice.subscription_id, now, zone);
  await effects.event(tx, {
    type: "invoice.paid",
    dedupeKey: `invoice.paid:${invoice.id}`,
    data: {
      invoiceId: invoice.id,
      subscriptionId: invoice.subscription_id,
      cycle: invoice.cycle,
      amount: invoice.amount,
      currency: invoice.currency,
      periodStart: invoice.period_start.toISOString(),
      periodEnd: invoice.period_end.toISOString(),
      orderId: attempt.order_id,
      oenTransactionId: attempt.oen_transaction_hid,
    },
    occurredAt: now,
  });
  return paid;
}

async function scheduleInvoice(tx: Transaction<Database>, invoiceId: string, at: Date, now: Date): Promise<Invoice> {
  return tx.updateTable("invoices").set({ next_attempt_at: at, updated_at: now }).where("id", "=", invoiceId).returningAll().executeTakeFirstOrThrow();
}
