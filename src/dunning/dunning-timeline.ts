import { previewDunning, type DunningEvent } from "../billing/dunning-policy.ts";
import type { Deps } from "../deps.ts";
import { declineState } from "./apply-decline.ts";

/**
 * GET /v1/subscriptions/:id/dunning: what dunning will do, when. In dunning:
 * the timeline from the latest decline, past steps marked. Otherwise: what
 * would follow if the next renewal were declined. Times are nominal (the
 * real retries move by up to ±jitter).
 */
export async function dunningTimeline(deps: Pick<Deps, "db" | "clock" | "dunning">, subscriptionId: string) {
  const subscription = await deps.db.selectFrom("subscriptions").selectAll().where("id", "=", subscriptionId).executeTakeFirst();
  if (subscription === undefined) return undefined;
  const now = deps.clock.now();
  const policy = { retryScheduleMs: deps.dunning.retryScheduleMs, jitterRatio: deps.dunning.jitterRatio, finalState: deps.dunning.finalState, cardAttemptLimit: deps.dunning.cardAttemptLimit };
  const invoice = await deps.db
    .selectFrom("invoices")
    .selectAll()
    .where("subscription_id", "=", subscriptionId)
    .where("status", "=", "open")
    .where("last_failed_at", "is not", null)
    .orderBy("cycle", "desc")
    .executeTakeFirst();
  const lastDecline =
    invoice === undefined
      ? undefined
      : await deps.db.selectFrom("charge_attempts").selectAll().where("invoice_id", "=", invoice.id).where("status", "=", "declined").orderBy("attempt_no", "desc").executeTakeFirst();

  let events: DunningEvent[] = [];
  if (invoice !== undefined && lastDecline !== undefined) {
    events = previewDunning(await declineState(deps, deps.db, invoice, lastDecline, invoice.last_failed_at!)).events;
  } else if (subscription.status === "active" && subscription.next_renewal_at !== null && !subscription.cancel_at_period_end) {
    events = previewDunning({ policy: deps.dunning, code: null, firstFailureAt: null, retriesMadeOnCard: 0, cardAttemptsInWindow: 0, now: subscription.next_renewal_at }).events;
  }
  return {
    subscriptionId,
    status: subscription.status,
    inDunning: invoice !== undefined,
    invoiceId: invoice?.id ?? null,
    nextAttemptAt: invoice?.next_attempt_at?.toISOString() ?? null,
    awaitingNewCardUntil: invoice?.dunning_deadline_at?.toISOString() ?? null,
    schedule: "nominal" as const,
    policy,
    events: events.map((e) => ({ at: e.at.toISOString(), event: e.event, ...e.detail, past: e.at <= now })),
  };
}
