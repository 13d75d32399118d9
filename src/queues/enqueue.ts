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
 * Enqueues the charges of invoices that were just created, in one round trip
 * (a month start opens thousands per statement). Their job ids cannot exist
 * yet, so no job's state is checked; the sweep's backstop covers a crash
 * between the commit and this call.
 */
export async function enqueueNewCharges(deps: Pick<Deps, "queues" | "clock">, invoices: ReadonlyArray<{ id: string; attempt_count: number; next_attempt_at: Date }>): Promise<void> {
  if (invoices.length === 0) return;
  const now = deps.clock.now().getTime();
  await deps.queues.charges.addBulk(
    invoices.map((invoice) => ({
      name: "charge",
      data: { invoiceId: invoice.id },
      opts: { jobId: jobIds.charge(invoice.id, invoice.attempt_count), delay: Math.max(0, invoice.next_attempt_at.getTime() - now) },
    })),
  );
}

/**
 * The sweep's backstop for charges: adds the job of each invoice that has
 * none (Redis lost it, a crash came between commit and enqueue), reruns one
 * kept as failed or completed (it gave up, or finished before the invoice
 * was rescheduled under the same id), and promotes one still delayed (its
 * delay ran on another clock: a test clock moved, or the invoice was
 * rescheduled earlier). Waiting and active jobs are left alone. One pipelined round trip of cheap lookups, never a
 * scan of the waiting list. Returns how many jobs it added or reran.
 */
export async function enqueueMissingCharges(deps: Pick<Deps, "queues">, invoices: ReadonlyArray<{ id: string; attempt_count: number }>): Promise<number> {
  if (invoices.length === 0) return 0;
  const queue = deps.queues.charges;
  const jobs = invoices.map((invoice) => ({ invoice, jobId: jobIds.charge(invoice.id, invoice.attempt_count) }));
  const pipeline = deps.queues.redis.pipeline();
  const keys = [queue.keys.failed!, queue.keys.completed!, queue.keys.delayed!];
  for (const { jobId } of jobs) {
    pipeline.exists(queue.toKey(jobId));
    for (const key of keys) pipeline.zscore(key, jobId);
  }
  const answers = (await pipeline.exec()) ?? [];
  let touched = 0;
  for (const [i, { invoice, jobId }] of jobs.entries()) {
    const [exists, ...inSets] = answers.slice(4 * i, 4 * i + 4).map((answer) => answer?.[1]);
    if (exists === 0 || inSets.some((score) => score !== null)) {
      await addJob(queue, "charge", { invoiceId: invoice.id }, { jobId, rerunCompleted: true });
      touched++;
    }
  }
  return touched;
}

/**
 * Enqueues the order lookup of an attempt. One job per attempt: while it
 * waits (delayed, with its own backoff) another enqueue is a no-op, so stuck
 * attempts never multiply their jobs.
 */
export async function enqueueResolve(deps: Pick<Deps, "queues">, attemptId: string, delayMs = 0): Promise<void> {
  await addJob(deps.queues.lookups, `lookup ${attemptId}`, { attemptId }, { jobId: jobIds.resolve(attemptId), delay: Math.max(0, Math.round(delayMs)), rerunCompleted: true });
}
