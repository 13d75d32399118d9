import { sql, type Kysely } from "kysely";
import type { Database, Refund, RefundCause } from "../db/database.ts";
import { liveRefundOf } from "./live-refund-of.ts";
import { refundRow } from "./refund-row.ts";

/** Causes of a refund that we send; a `crm` refund is only recorded (recordCrmRefund). */
export type PlannedRefundCause = Exclude<RefundCause, "crm">;

interface PlanRefundFields {
  invoiceId: string;
  /** The P-number to refund. */
  oenTransactionHid: string;
  amount: number;
  reason: string | null;
  cause: PlannedRefundCause;
}

/**
 * Which transaction: the invoice's charge attempt (its amount is the transaction's), or, for a
 * duplicate Oen transaction that no attempt stands for, the transaction's amount as Oen shows it.
 */
export type PlanRefundInput = PlanRefundFields &
  ({ chargeAttemptId: string; transactionAmount?: undefined } | { chargeAttemptId: null; transactionAmount: number });

export type PlanRefundResult =
  | { kind: "planned"; refund: Refund }
  /** Oen refunds a transaction once: this refund (pending, unknown or succeeded) already stands for it. */
  | { kind: "already_refunded"; refund: Refund }
  /** More than the transaction (or, but for a double charge, the invoice) has left to refund. */
  | { kind: "exceeds_remaining"; remaining: number }
  | { kind: "not_refundable"; why: "invoice_missing" | "invoice_not_paid" | "attempt_mismatch" };

/**
 * Decides a refund and inserts it `pending` (not sent: `sent_at` null) in the CALLER's
 * transaction, so a settle or terminate decides it atomically with what caused it. After the
 * commit, enqueueRefund sends it. The partial unique index `refunds_one_per_transaction`
 * backs the once rule against any race this function's invoice lock does not cover.
 */
export async function planRefund(tx: Kysely<Database>, input: PlanRefundInput): Promise<PlanRefundResult> {
  if (!Number.isInteger(input.amount) || input.amount < 1) throw new RangeError(`a refund amount is a whole TWD ≥ 1 (got ${input.amount})`);
  const invoice = await tx.selectFrom("invoices").selectAll().where("id", "=", input.invoiceId).forUpdate().executeTakeFirst();
  if (invoice === undefined) return { kind: "not_refundable", why: "invoice_missing" };
  const ownMoney = input.cause !== "double_charge";
  // A void invoice's charge is a double charge; only a paid invoice gives back its own money.
  if (ownMoney && invoice.status !== "paid") return { kind: "not_refundable", why: "invoice_not_paid" };

  let transactionAmount: number;
  if (input.chargeAttemptId !== null) {
    const attempt = await tx
      .selectFrom("charge_attempts")
      .select("amount")
      .where("id", "=", input.chargeAttemptId)
      .where("invoice_id", "=", invoice.id)
      .where("status", "=", "succeeded")
      .where("oen_transaction_hid", "=", input.oenTransactionHid)
      .executeTakeFirst();
    if (attempt === undefined) return { kind: "not_refundable", why: "attempt_mismatch" };
    transactionAmount = attempt.amount;
  } else {
    transactionAmount = input.transactionAmount;
  }

  const existing = await liveRefundOf(tx, input.oenTransactionHid);
  if (existing !== undefined) return { kind: "already_refunded", refund: existing };

  let remaining = transactionAmount;
  if (ownMoney) {
    const inFlight = await tx
      .selectFrom("refunds")
      .select(sql<string>`coalesce(sum(amount), 0)`.as("total"))
      .where("invoice_id", "=", invoice.id)
      .where("cause", "<>", "double_charge")
      .where("status", "in", ["pending", "unknown"])
      .executeTakeFirstOrThrow();
    remaining = Math.min(remaining, invoice.amount - invoice.amount_refunded - Number(inFlight.total));
  }
  if (input.amount > remaining) return { kind: "exceeds_remaining", remaining: Math.max(0, remaining) };

  const refund = await tx
    .insertInto("refunds")
    .values(refundRow({ invoiceId: invoice.id, chargeAttemptId: input.chargeAttemptId, oenTransactionHid: input.oenTransactionHid, amount: input.amount, reason: input.reason, cause: input.cause, status: "pending" }))
    // A literal predicate, so that Postgres infers the partial index (a parameter would not).
    .onConflict((oc) => oc.column("oen_transaction_hid").where(sql<boolean>`status <> 'failed'`).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (refund === undefined) return { kind: "already_refunded", refund: (await liveRefundOf(tx, input.oenTransactionHid))! };
  return { kind: "planned", refund };
}
