import type { JobsOptions, Queue } from "bullmq";

/**
 * Adds a job with a deterministic id, and makes sure the work it stands for
 * will run: a job with that id that is kept as failed (it gave up, e.g. while
 * Postgres was down) is retried, and one waiting as delayed is promoted when
 * the work is due now. Otherwise an existing id would swallow the add, and a
 * due invoice or notice could wait a day for the failed job to expire.
 */
export async function addJob<T>(queue: Queue<T>, name: string, data: T, options: JobsOptions & { jobId: string }): Promise<void> {
  const job = await queue.add(name as never, data as never, options);
  const state = await job.getState();
  if (state === "failed") await job.retry("failed").catch(() => {});
  else if (state === "delayed" && (options.delay ?? 0) <= 0) await job.promote().catch(() => {});
}
