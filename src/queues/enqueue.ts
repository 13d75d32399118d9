import type { Deps } from "../deps.ts";
import { addJob } from "./add-job.ts";
import { jobIds } from "./jobs.ts";

/**
 * Enqueues a charge for an invoice. Safe to call twice: the job id is the
 * invoice's state, and Postgres decides whether anything is sent.
 */
export async function enqueueCharge(deps: Pick<Deps, "queues">, invoice: { id: string; attempt_count: number }, delayMs = 0): Promise<void> {
  await addJob(deps.queues.charges, "charge", { invoiceId: invoice.id }, { jobId: jobIds.charge(invoice.id, invoice.attempt_count), delay: Math.max(0, Math.round(delayMs)) });
}

export async function enqueueResolve(deps: Pick<Deps, "queues">, attempt: { id: string; lookup_count: number }, delayMs = 0): Promise<void> {
  await addJob(deps.queues.charges, "resolve", { attemptId: attempt.id }, { jobId: jobIds.resolve(attempt.id, attempt.lookup_count), delay: Math.max(0, Math.round(delayMs)) });
}
