import type { Deps } from "../deps.ts";
import { addJob } from "./add-job.ts";
import { jobIds } from "./jobs.ts";

/**
 * Enqueues a charge for an invoice. Safe to call twice: the job id is the
 * invoice's state, and Postgres decides whether anything is sent. A job of
 * that id kept as completed (it found nothing due, or no card) runs again:
 * the caller says the invoice is collectable now, or at `delayMs`.
 */
export async function enqueueCharge(deps: Pick<Deps, "queues">, invoice: { id: string; attempt_count: number; cycle: number }, delayMs = 0): Promise<void> {
  const attempt = invoice.attempt_count + 1;
  await addJob(
    deps.queues.charges,
    `charge ${invoice.id} cycle ${invoice.cycle} attempt ${attempt}`,
    { invoiceId: invoice.id, cycle: invoice.cycle, attempt },
    { jobId: jobIds.charge(invoice.id, invoice.attempt_count), delay: Math.max(0, Math.round(delayMs)), rerunCompleted: true },
  );
}

/**
 * Enqueues the order lookup of an attempt. One job per attempt: while it
 * waits (delayed, with its own backoff) another enqueue is a no-op, so stuck
 * attempts never multiply their jobs.
 */
export async function enqueueResolve(deps: Pick<Deps, "queues">, attemptId: string, delayMs = 0): Promise<void> {
  await addJob(deps.queues.lookups, `lookup ${attemptId}`, { attemptId }, { jobId: jobIds.resolve(attemptId), delay: Math.max(0, Math.round(delayMs)), rerunCompleted: true });
}
