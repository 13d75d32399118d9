import { planChangeKind, prorationAmount } from "../billing/proration.ts";
import type { Plan, Subscription } from "../db/database.ts";

/** What switching to a plan does, as changeSubscriptionPlan will do it with its defaults. */
export type PlanSwitchPreview =
  /** At once, charging `amount` now (0: nothing to charge, e.g. during a trial). */
  | { kind: "now"; amount: number }
  /** A downgrade (or the same price): the next renewal bills the new plan. */
  | { kind: "period_end"; at: Date | null };

/**
 * The preview a customer confirms: an upgrade now with its proration
 * (round(new × r) − round(old × r)), a downgrade at the period's end, and
 * during a trial a free switch at once. Pure; `now` is the clock's.
 */
export function planSwitchPreview(subscription: Pick<Subscription, "status" | "current_period_start" | "current_period_end">, current: Pick<Plan, "amount">, next: Pick<Plan, "amount">, now: Date): PlanSwitchPreview {
  if (subscription.status === "trialing") return { kind: "now", amount: 0 };
  if (planChangeKind(current, next) !== "upgrade") return { kind: "period_end", at: subscription.current_period_end };
  const { current_period_start: periodStart, current_period_end: periodEnd } = subscription;
  if (periodStart === null || periodEnd === null) return { kind: "now", amount: 0 };
  return { kind: "now", amount: prorationAmount({ oldAmount: current.amount, newAmount: next.amount, periodStart, periodEnd, at: now }) };
}
