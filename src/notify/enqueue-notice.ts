import type { Deps } from "../deps.ts";
import { addJob } from "../queues/add-job.ts";
import { jobIds } from "../queues/jobs.ts";
import { pendingNoticeIds } from "./notice-repository.ts";

// How many pending notices one sweep re-enqueues; the rest wait for the next tick.
const SWEEP_LIMIT = 1_000;

/** Call after the transaction that queued the notice committed. Safe to repeat: the job id is the notice's. */
export async function enqueueNotice(deps: Pick<Deps, "queues">, noticeId: string): Promise<void> {
  await addJob(deps.queues.notifications, "notice", { noticeId }, { jobId: jobIds.notice(noticeId) });
}

/** For the sweep: every pending notice gets its job back (after a crash before enqueueing, or a Redis flush). */
export async function enqueuePendingNotices(deps: Pick<Deps, "db" | "queues">): Promise<number> {
  const ids = await pendingNoticeIds(deps.db, SWEEP_LIMIT);
  for (const id of ids) await enqueueNotice(deps, id);
  return ids.length;
}
