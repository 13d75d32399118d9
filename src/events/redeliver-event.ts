import type { Deps } from "../deps.ts";
import { enqueueEvent } from "./enqueue-event.ts";
import { resetEventForRedelivery } from "./event-repository.ts";

export type RedeliverResult =
  /** Pending again with a fresh retry schedule, and its job enqueued for now. */
  | { kind: "redelivered"; previousStatus: "failed" | "delivered" }
  /** It was still being retried: its next attempt is now. */
  | { kind: "already_pending" }
  | { kind: "not_found" };

/**
 * Delivers an event again: one given up (`failed`), or one the platform
 * acknowledged but wants again. The body is the frozen one and the
 * webhook-id the same, so a receiver that deduplicates by webhook-id sees a
 * repeat. Its job is revived even when BullMQ still keeps it (failed or
 * completed). With no platform webhook configured the event waits, pending.
 */
export async function redeliverEvent(deps: Pick<Deps, "db" | "queues" | "config">, eventId: string): Promise<RedeliverResult> {
  const previous = await resetEventForRedelivery(deps.db, eventId);
  if (previous === undefined) return { kind: "not_found" };
  await enqueueEvent(deps, eventId, { rerunCompleted: true });
  return previous === "pending" ? { kind: "already_pending" } : { kind: "redelivered", previousStatus: previous };
}
