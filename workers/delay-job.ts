import { DelayedError, type Job } from "bullmq";

/**
 * Puts the running job back to sleep for `ms` and ends this run. Long waits
 * belong to BullMQ delays, never to a sleeping worker.
 */
export async function delayJob(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + Math.max(0, Math.round(ms)), token);
  throw new DelayedError();
}
