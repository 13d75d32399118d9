import type { Kysely } from "kysely";
import type { Config } from "../config.ts";
import type { Database, Plan, Subscription } from "../db/database.ts";

/**
 * How many trial days a subscription gets when its card is bound: its own
 * override, else the plan's; 0 when TRIAL_REUSE says the customer had theirs
 * (a trial counts as used once it started).
 */
export async function trialDaysFor(db: Kysely<Database>, reuse: Config["trialReuse"], subscription: Subscription, plan: Plan): Promise<number> {
  const days = subscription.trial_days ?? plan.trial_days;
  if (days === 0 || reuse === "unlimited") return days;
  let earlier = db
    .selectFrom("subscriptions")
    .select("id")
    .where("customer_id", "=", subscription.customer_id)
    .where("trial_start", "is not", null)
    .where("id", "!=", subscription.id);
  if (reuse === "once_per_plan") earlier = earlier.where("plan_id", "=", plan.id);
  return (await earlier.limit(1).executeTakeFirst()) === undefined ? days : 0;
}
