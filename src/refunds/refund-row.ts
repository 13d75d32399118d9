import type { Insertable } from "kysely";
import type { RefundCause, RefundsTable } from "../db/database.ts";
import { newId } from "../ids.ts";

/** A new refunds row: planned (`pending`, not sent) or already made at Oen (`succeeded`, a CRM refund). */
export function refundRow(input: {
  invoiceId: string;
  chargeAttemptId: string | null;
  oenTransactionHid: string;
  amount: number;
  reason: string | null;
  cause: RefundCause;
  status: "pending" | "succeeded";
}): Insertable<RefundsTable> {
  return {
    id: newId("rf"),
    invoice_id: input.invoiceId,
    charge_attempt_id: input.chargeAttemptId,
    oen_transaction_hid: input.oenTransactionHid,
    amount: input.amount,
    reason: input.reason,
    cause: input.cause,
    status: input.status,
    sent_at: null,
    code: null,
    message: null,
    last_lookup_at: null,
    resolved_at: input.status === "succeeded" ? new Date() : null,
  };
}
