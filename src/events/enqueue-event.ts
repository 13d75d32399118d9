import type { Deps } from "../deps.ts";
import { addJob, type EnqueueOptions } from "../queues/add-job.ts";
import { jobIds } from "../queues/jobs.ts";
import { pendingEvents } from "./event-repository.ts";

// How many pending events one sweep re-enqueues; the rest wait for the next tick.
const SWEEP_LIMIT = 1_000;

/**
 * Call after the transaction that recorded the event committed. Safe to
 * repeat: the job id is the event's. Does nothing while no platform webhook
 * is configured (the event waits, pending).
 */
export async function enqueueEvent(deps: Pick<Deps, "queues" | "config">, eventId: string, options: EnqueueOptions = {}): Promise<void> {
  if (deps.config.platformWebhook === null) return;
  await addJob(deps.queues.notifications, "event", { eventId }, { jobId: jobIds.event(eventId), delay: Math.max(0, Math.round(options.delayMs ?? 0)), rerunCompleted: options.rerunCompleted ?? false });
}

/**
 * For the sweep: every pending event gets its job back, at its scheduled
 * retry time (after a Redis flush, say), whatever BullMQ kept of the old one.
 */
export async function enqueuePendingEvents(deps: Pick<Deps, "db" | "queues" | "config" | "clock">): Promise<number> {
  if (deps.config.platformWebhook === null) return 0;
  const events = await pendingEvents(deps.db, SWEEP_LIMIT);
  const now = deps.clock.now().getTime();
  for (const event of events) {
    await enqueueEvent(deps, event.id, { delayMs: event.next_attempt_at === null ? 0 : event.next_attempt_at.getTime() - now, rerunCompleted: true });
  }
  return events.length;
}
