import type { Deps } from "../deps.ts";
import { jobIds } from "./jobs.ts";

/**
 * Enqueues a charge for an invoice. Safe to call twice: the job id is the
 * invoice's state, and Postgres decides whether anything is sent. A charge
 * that is due now but waits as a delayed job (a dunning retry, with the test
 * clock moved past it) is promoted.
 */
export async function enqueueCharge(deps: Pick<Deps, "queues">, invoice: { id: string; attempt_count: number }, delayMs = 0): Promise<void> {
  const job = await deps.queues.charges.add(
    "charge",
    { invoiceId: invoice.id },
    { jobId: jobIds.charge(invoice.id, invoice.attempt_count), delay: Math.max(0, Math.round(delayMs)) },
  );
  if (delayMs <= 0 && (await job.getState()) === "delayed") await job.promote().catch(() => {});
}

export async function enqueueResolve(deps: Pick<Deps, "queues">, attempt: { id: string; lookup_count: number }, delayMs = 0): Promise<void> {
  await deps.queues.charges.add("resolve", { attemptId: attempt.id }, { jobId: jobIds.resolve(attempt.id, attempt.lookup_count), delay: Math.max(0, Math.round(delayMs)) });
}
