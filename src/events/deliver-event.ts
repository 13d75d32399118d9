import type { PlatformEvent } from "../db/database.ts";
import { claimDelivery } from "../outbox/claim-delivery.ts";
import type { Deps } from "../deps.ts";
import { metrics } from "../metrics/metrics.ts";
import { retryDelayMs, retryScheduleSpanning, type RetrySchedule } from "../notify/retry-schedule.ts";
import { buildEventBody } from "./build-event-body.ts";
import type { EventSender } from "./create-event-sender.ts";
import { freezeEventPayload, lockEvent, markEventDelivered, readEvent, recordEventAttempt, recordEventFailure } from "./event-repository.ts";

/** 10 s doubling to 1 h, then hourly, for 30 days: retried until acknowledged, then `failed` and redeliverable. */
export const EVENT_RETRY: RetrySchedule = retryScheduleSpanning(10_000, 3_600_000, 30 * 86_400_000);

export type EventOutcome =
  | { kind: "delivered" }
  | { kind: "not_configured" }
  | { kind: "skipped"; reason: string }
  /** The next attempt is not due yet (a job run early); nothing sent. */
  | { kind: "not_due"; delayMs: number }
  | { kind: "retry"; delayMs: number; error: string }
  | { kind: "failed"; error: string };

// How long a delivery run holds its event: beyond the sender's timeout (10 s).
const SEND_CLAIM_MS = 60_000;

/**
 * One delivery attempt of a pending event. Before the first one, the body is
 * built (buildEventBody) and frozen in its own commit, so every attempt,
 * crash or redelivery sends the same bytes under the same webhook-id. The
 * event is claimed in a short transaction (claimDelivery), so concurrent runs
 * cannot both deliver it, and no transaction stays open during the POST; a
 * 2xx marks it delivered under that claim. Each attempt is kept
 * (platform_event_attempts: when, the answer, the latency), in the short
 * transaction that records its outcome. A failure is retried at a time stored
 * on the row, which the job and the sweep both follow. Without a sender (no
 * PLATFORM_WEBHOOK_URL) the event stays pending: if the platform is configured
 * later, the sweep delivers the backlog.
 */
export async function deliverEvent(
  deps: Pick<Deps, "db" | "clock" | "logger">,
  sender: EventSender | null,
  eventId: string,
  schedule: RetrySchedule = EVENT_RETRY,
): Promise<EventOutcome> {
  if (sender === null) return { kind: "not_configured" };
  const current = await readEvent(deps.db, eventId);
  if (current === undefined) return { kind: "skipped", reason: "missing" };
  if (current.status !== "pending") return { kind: "skipped", reason: `already ${current.status}` };
  const waitMs = (current.next_attempt_at?.getTime() ?? 0) - deps.clock.now().getTime();
  if (waitMs > 0) return { kind: "not_due", delayMs: waitMs };
  if (current.payload === null) await freezeEventPayload(deps.db, eventId, await buildEventBody(deps.db, current));

  const claim = await deps.db.transaction().execute(async (tx): Promise<{ kind: "claimed"; event: PlatformEvent; claimedUntil: Date } | { kind: "skipped"; reason: string }> => {
    const event = await lockEvent(tx, eventId);
    if (event === undefined) return { kind: "skipped", reason: "being delivered by another run" };
    if (event.status !== "pending") return { kind: "skipped", reason: `already ${event.status}` };
    const claimedUntil = await claimDelivery(tx, "platform_events", eventId, SEND_CLAIM_MS);
    return claimedUntil === undefined ? { kind: "skipped", reason: "being delivered by another run" } : { kind: "claimed", event, claimedUntil };
  });
  if (claim.kind === "skipped") return claim;
  const { event, claimedUntil } = claim;
  const started = performance.now();
  const result = await sender.send(event.payload!);
  const now = deps.clock.now();
  const attempt = { eventId, at: now, statusCode: result.status, error: result.error, latencyMs: performance.now() - started };
  const outcome = await deps.db.transaction().execute(async (tx): Promise<EventOutcome> => {
    await recordEventAttempt(tx, attempt);
    if (result.ok) {
      if (!(await markEventDelivered(tx, event.id, claimedUntil, result.status!, now))) {
        deps.logger.warn({ eventId, type: event.type }, "platform event acknowledged after its claim was gone (redelivered meanwhile); not marked delivered");
      }
      return { kind: "delivered" };
    }
    const error = result.error!;
    const delayMs = retryDelayMs(schedule, event.retry_attempts + 1);
    await recordEventFailure(tx, event.id, claimedUntil, { at: now, httpStatus: result.status, error, nextAttemptAt: delayMs === null ? null : new Date(now.getTime() + delayMs) });
    const about = { eventId, type: event.type, attempts: event.attempts + 1, httpStatus: result.status, err: error };
    if (delayMs !== null) {
      deps.logger.warn({ ...about, retryInMs: delayMs }, "platform event not acknowledged; will retry");
      return { kind: "retry", delayMs, error };
    }
    deps.logger.error(about, "PLATFORM EVENT GIVEN UP: the platform did not acknowledge it for 30 days; it stays `failed` (redeliverable) for PLATFORM_EVENTS_RETENTION, then is deleted");
    return { kind: "failed", error };
  });
  metrics.eventAttempted(event.type, outcome.kind as "delivered" | "retry" | "failed");
  return outcome;
}
