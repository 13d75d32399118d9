import type { Deps } from "../deps.ts";
import { addJob } from "../queues/add-job.ts";
import { jobIds } from "../queues/jobs.ts";

/**
 * Enqueues the next step of a refund (send, or look up) on the `charges` queue; call it after
 * the commit that planned the refund. Safe to call twice: the job id is the refund's state,
 * and Postgres decides whether anything is sent. A settled or missing refund enqueues nothing.
 */
export async function enqueueRefund(deps: Pick<Deps, "db" | "queues">, refundId: string, delayMs = 0): Promise<void> {
  const refund = await deps.db.selectFrom("refunds").select(["status", "sent_at", "lookup_count", "invoice_id", "cause", "amount"]).where("id", "=", refundId).executeTakeFirst();
  if (refund === undefined || (refund.status !== "pending" && refund.status !== "unknown")) return;
  // "sent" is a state of its own: the job that sent it may have died with its worker and still look active.
  const state = refund.status === "pending" && refund.sent_at !== null ? "sent" : refund.status;
  await addJob(
    deps.queues.charges,
    `refund ${refundId} invoice ${refund.invoice_id} ${refund.cause} ${state}`,
    { refundId, invoiceId: refund.invoice_id, cause: refund.cause, amount: refund.amount },
    // A kept completed job of this state ("not sent yet", a wait) is stale once asked again.
    { jobId: jobIds.refund(refundId, state, refund.lookup_count), delay: Math.max(0, Math.round(delayMs)), rerunCompleted: true },
  );
}
