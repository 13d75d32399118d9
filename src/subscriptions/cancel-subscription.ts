import type { Deps } from "../deps.ts";
import type { SideEffects } from "../outbox/side-effects.ts";

export type CancelResult = { kind: "ok" } | { kind: "not_found" } | { kind: "already_ended"; status: string };

/**
 * At period end: no further renewals, status `canceled` when the period ends
 * (the sweep does it). Now: `canceled` at once and open invoices void. A
 * charge already in flight still settles, and is recorded if it succeeded.
 */
export async function cancelSubscription(deps: Pick<Deps, "db" | "clock">, id: string, atPeriodEnd: boolean, effects: SideEffects): Promise<CancelResult> {
  return deps.db.transaction().execute(async (tx) => {
    const subscription = await tx.selectFrom("subscriptions").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
    if (subscription === undefined) return { kind: "not_found" };
    if (subscription.status === "canceled" || subscription.status === "incomplete_expired") return { kind: "already_ended", status: subscription.status };
    const now = deps.clock.now();
    // An incomplete subscription has no period to finish.
    if (atPeriodEnd && subscription.status !== "incomplete") {
      await tx.updateTable("subscriptions").set({ cancel_at_period_end: true, canceled_at: now, updated_at: now }).where("id", "=", id).execute();
      return { kind: "ok" };
    }
    await tx
      .updateTable("subscriptions")
      .set({ status: "canceled", canceled_at: now, ended_at: now, next_renewal_at: null, updated_at: now })
      .where("id", "=", id)
      .execute();
    await tx
      .updateTable("invoices")
      .set({ status: "void", next_attempt_at: null, dunning_deadline_at: null, updated_at: now })
      .where("subscription_id", "=", id)
      .where("status", "=", "open")
      .execute();
    await effects.event(tx, { type: "subscription.canceled", dedupeKey: `subscription.canceled:${id}`, data: { subscriptionId: id, cause: "request" }, occurredAt: now });
    return { kind: "ok" };
  });
}
