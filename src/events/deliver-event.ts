import type { Deps } from "../deps.ts";
import { retryDelayMs, retryScheduleSpanning, type RetrySchedule } from "../notify/retry-schedule.ts";
import type { EventSender } from "./create-event-sender.ts";
import { lockEvent, markEventDelivered, recordEventFailure } from "./event-repository.ts";

/** 10 s doubling to 1 h, for over a day: the platform may be down that long before an event is given up. */
export const EVENT_RETRY: RetrySchedule = retryScheduleSpanning(10_000, 3_600_000, 86_400_000);

export type EventOutcome =
  | { kind: "delivered" }
  | { kind: "not_configured" }
  | { kind: "skipped"; reason: string }
  | { kind: "retry"; delayMs: number; error: string }
  | { kind: "failed"; error: string };

/**
 * One delivery attempt of a pending event. The row stays locked during the
 * POST, so concurrent runs cannot both deliver it; a 2xx marks it delivered
 * in the same transaction. Without a sender (no PLATFORM_WEBHOOK_URL) the
 * event stays pending: if the platform is configured later, the sweep
 * delivers the backlog.
 */
export async function deliverEvent(
  deps: Pick<Deps, "db" | "clock" | "logger">,
  sender: EventSender | null,
  eventId: string,
  schedule: RetrySchedule = EVENT_RETRY,
): Promise<EventOutcome> {
  if (sender === null) return { kind: "not_configured" };
  return deps.db.transaction().execute(async (tx): Promise<EventOutcome> => {
    const event = await lockEvent(tx, eventId);
    if (event === undefined) return { kind: "skipped", reason: "missing, or being delivered by another run" };
    if (event.status !== "pending") return { kind: "skipped", reason: `already ${event.status}` };
    const result = await sender.send(event.payload);
    const now = deps.clock.now();
    if (result.ok) {
      await markEventDelivered(tx, event.id, result.status!, now);
      return { kind: "delivered" };
    }
    const error = result.error!;
    const attempts = event.attempts + 1;
    const delayMs = retryDelayMs(schedule, attempts);
    await recordEventFailure(tx, event.id, { httpStatus: result.status, error, nextAttemptAt: delayMs === null ? null : new Date(now.getTime() + delayMs) });
    const about = { eventId, type: event.type, attempts, httpStatus: result.status, err: error };
    if (delayMs !== null) {
      deps.logger.warn({ ...about, retryInMs: delayMs }, "platform event not acknowledged; will retry");
      return { kind: "retry", delayMs, error };
    }
    deps.logger.error(about, "PLATFORM EVENT GIVEN UP: the platform did not acknowledge it for over a day; it stays `failed` in platform_events");
    return { kind: "failed", error };
  });
}
