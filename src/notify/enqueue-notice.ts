import type { Deps } from "../deps.ts";
import { addJob, type EnqueueOptions } from "../queues/add-job.ts";
import { jobIds } from "../queues/jobs.ts";
import { pendingNotices } from "./notice-repository.ts";

// How many pending notices one sweep re-enqueues; the rest wait for the next tick.
const SWEEP_LIMIT = 1_000;

/** Call after the transaction that queued the notice committed. Safe to repeat: the job id is the notice's. */
export async function enqueueNotice(deps: Pick<Deps, "queues">, noticeId: string, options: EnqueueOptions = {}): Promise<void> {
  await addJob(deps.queues.notifications, "notice", { noticeId }, { jobId: jobIds.notice(noticeId), delay: Math.max(0, Math.round(options.delayMs ?? 0)), rerunCompleted: options.rerunCompleted ?? false });
}

/**
 * For the sweep: every pending notice gets its job back (after a crash before
 * enqueueing, or a Redis flush), at its retry time: a notice waiting out an
 * SMTP outage keeps waiting, and its job is not promoted; one BullMQ still
 * keeps as completed runs again.
 */
export async function enqueuePendingNotices(deps: Pick<Deps, "db" | "queues" | "clock">): Promise<number> {
  const notices = await pendingNotices(deps.db, SWEEP_LIMIT);
  const now = deps.clock.now().getTime();
  for (const notice of notices) {
    await enqueueNotice(deps, notice.id, { delayMs: notice.next_attempt_at === null ? 0 : notice.next_attempt_at.getTime() - now, rerunCompleted: true });
  }
  return notices.length;
}
