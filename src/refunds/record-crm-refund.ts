import type { Kysely } from "kysely";
import type { Database, Refund } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { metrics } from "../metrics/metrics.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { applySucceededRefund } from "./apply-succeeded-refund.ts";
import { liveRefundOf } from "./live-refund-of.ts";
import { refundRow } from "./refund-row.ts";

export interface CrmRefundInput {
  invoiceId: string;
  chargeAttemptId: string | null;
  oenTransactionHid: string;
  /** The transaction's `refundAmount` at Oen. */
  amount: number;
  reason: string | null;
  /** A duplicate transaction of the invoice (not its own charge) given back: the double charge's refund, outside amount_refunded. */
  doubleCharge?: boolean;
}

export type RecordCrmRefundResult =
  | { kind: "recorded"; refund: Refund }
  /** A refund of ours already stands for the transaction (Oen refunds once): it is that one. */
  | { kind: "already_recorded"; refund: Refund };

/**
 * Records, in the caller's transaction, a refund made in Oen's CRM that the reconciliation
 * found: `succeeded` at once (nothing is sent), with the invoice's `amount_refunded` and the
 * `invoice.refunded` event like any other refund (a double charge's: no amount_refunded, and
 * `invoice.double_charge_refunded`).
 */
export async function recordCrmRefund(
  deps: Pick<Deps, "clock" | "logger">,
  tx: Kysely<Database>,
  input: CrmRefundInput,
  effects: SideEffects,
): Promise<RecordCrmRefundResult> {
  const invoice = await tx.selectFrom("invoices").selectAll().where("id", "=", input.invoiceId).forUpdate().executeTakeFirstOrThrow();
  const existing = await liveRefundOf(tx, input.oenTransactionHid);
  if (existing !== undefined) return { kind: "already_recorded", refund: existing };
  const refund = await tx
    .insertInto("refunds")
    .values(
      refundRow({ invoiceId: invoice.id, chargeAttemptId: input.chargeAttemptId, oenTransactionHid: input.oenTransactionHid, amount: input.amount, reason: input.reason, cause: input.doubleCharge === true ? "double_charge" : "crm", status: "succeeded" }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  await applySucceededRefund(deps, tx, refund, invoice, effects);
  effects.afterCommit(() => metrics.refundSettled(refund));
  return { kind: "recorded", refund };
}
