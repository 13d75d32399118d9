import type { JobsOptions, Queue } from "bullmq";

// BullMQ's answers (ErrorCode) when a job is not where the move expects it.
const JOB_NOT_EXIST = -1;
const JOB_NOT_IN_STATE = -3;

/** How the enqueue helpers of a row's job (notice, event) add it. */
export interface EnqueueOptions {
  delayMs?: number;
  /** Run again a job BullMQ keeps as completed: Postgres says there is work left, so that job is stale. */
  rerunCompleted?: boolean;
}

export interface AddJobOptions extends JobsOptions {
  jobId: string;
  /** Also run again a job kept as completed (a redelivery asked for by hand). */
  rerunCompleted?: boolean;
}

/**
 * Adds a job with a deterministic id, and makes sure the work it stands for
 * will run: a job with that id that is kept as failed (it gave up, e.g. while
 * Postgres was down) is retried, and one waiting as delayed is promoted when
 * the work is due now. With `rerunCompleted`, one kept as completed runs
 * again, at once or, when the add is delayed, at its delay (it is replaced).
 * Otherwise an existing id would swallow the add, and a due invoice or notice
 * could wait a day for the kept job to expire.
 *
 * The only error ignored is the race with another producer or a worker that
 * moved the job on between reading its state and moving it (it is running or
 * waiting then). A job removed in that moment is added afresh. Anything else
 * (Redis refusing, the connection lost) reaches the caller: a revival that
 * silently did not happen would leave due work asleep.
 */
export async function addJob<T>(queue: Queue<T>, name: string, data: T, options: AddJobOptions): Promise<void> {
  const { rerunCompleted = false, ...jobOptions } = options;
  for (let round = 0; ; round++) {
    const job = await queue.add(name as never, data as never, jobOptions);
    const state = await job.getState();
    try {
      if (state === "failed") await job.retry("failed");
      else if (state === "completed" && rerunCompleted && (jobOptions.delay ?? 0) <= 0) await job.retry("completed");
      else if (state === "completed" && rerunCompleted && round === 0) {
        // retry() would run it now: the completed job gives way to a fresh one with the delay.
        await job.remove();
        continue;
      }
      else if (state === "delayed" && (jobOptions.delay ?? 0) <= 0) await job.promote();
      else if (state === "unknown" && round === 0) continue; // removed (retention) right after the add
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === JOB_NOT_IN_STATE) return;
      if (code === JOB_NOT_EXIST && round === 0) continue;
      throw error;
    }
  }
}
