import type { Kysely } from "kysely";
import type { Database, Invoice, Refund } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { metrics } from "../metrics/metrics.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { applySucceededRefund } from "./apply-succeeded-refund.ts";

export type RefundSettlement =
  | { kind: "succeeded" }
  | { kind: "failed"; code: string; message: string | null }
  | { kind: "unknown"; code: string; message: string };

export interface SettleRefundResult {
  /** False when the refund was settled already (by the sender or by a resolver). */
  applied: boolean;
  refund: Refund;
  invoice: Invoice;
}

/**
 * Records what became of a refund, under its invoice's row lock. Only a `pending` or
 * `unknown` refund can be settled, so the worker that sent it and a resolver cannot both
 * apply an outcome. A success also moves the invoice (recordRefund) and writes its event.
 */
export async function settleRefund(
  deps: Pick<Deps, "clock" | "logger">,
  tx: Kysely<Database>,
  refundId: string,
  settlement: RefundSettlement,
  effects: SideEffects,
): Promise<SettleRefundResult> {
  const { invoice_id } = await tx.selectFrom("refunds").select("invoice_id").where("id", "=", refundId).executeTakeFirstOrThrow();
  // Invoice before refund: the order planRefund and settleAttempt lock in.
  const invoice = await tx.selectFrom("invoices").selectAll().where("id", "=", invoice_id).forUpdate().executeTakeFirstOrThrow();
  const refund = await tx
    .updateTable("refunds")
    .set(fieldsOf(settlement))
    .where("id", "=", refundId)
    .where("status", "in", ["pending", "unknown"])
    .returningAll()
    .executeTakeFirst();
  if (refund === undefined) {
    return { applied: false, invoice, refund: await tx.selectFrom("refunds").selectAll().where("id", "=", refundId).executeTakeFirstOrThrow() };
  }
  effects.afterCommit(() => metrics.refundSettled(refund));
  if (settlement.kind !== "succeeded") return { applied: true, refund, invoice };
  return { applied: true, refund, invoice: await applySucceededRefund(deps, tx, refund, invoice, effects) };
}

function fieldsOf(settlement: RefundSettlement) {
  switch (settlement.kind) {
    case "succeeded":
      return { status: "succeeded" as const, resolved_at: new Date() };
    case "failed":
      return { status: "failed" as const, code: settlement.code, message: settlement.message, resolved_at: new Date() };
    case "unknown":
      return { status: "unknown" as const, code: settlement.code, message: settlement.message };
  }
}
