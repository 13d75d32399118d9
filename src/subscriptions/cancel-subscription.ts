import type { Deps } from "../deps.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { cancel, scheduleCancel } from "./subscription-transitions.ts";

export type CancelResult = { kind: "ok" } | { kind: "not_found" } | { kind: "already_ended"; status: string };

/**
 * POST /v1/subscriptions/:id/cancel. At period end: a flag, and the sweep
 * cancels it when the period ends. Now: canceled at once, open invoices void.
 * An incomplete subscription has no period to finish and ends now either way.
 */
export async function cancelSubscription(deps: Pick<Deps, "db" | "clock">, id: string, atPeriodEnd: boolean, effects: SideEffects): Promise<CancelResult> {
  return deps.db.transaction().execute(async (tx) => {
    const subscription = await tx.selectFrom("subscriptions").select(["status", "cancel_at_period_end"]).where("id", "=", id).forUpdate().executeTakeFirst();
    if (subscription === undefined) return { kind: "not_found" };
    const now = deps.clock.now();
    if (atPeriodEnd && subscription.status !== "incomplete") {
      // Scheduling twice is one schedule.
      if (subscription.cancel_at_period_end) return { kind: "ok" };
      return (await scheduleCancel(tx, effects, id, now)) === undefined ? { kind: "already_ended", status: subscription.status } : { kind: "ok" };
    }
    return (await cancel(tx, effects, { id, cause: "requested", now })) === undefined ? { kind: "already_ended", status: subscription.status } : { kind: "ok" };
  });
}
