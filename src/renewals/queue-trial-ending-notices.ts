import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { noticeMissing } from "../notify/notice-missing.ts";
import type { SideEffects } from "../outbox/side-effects.ts";

/**
 * TRIAL_ENDING_NOTICE (default 3d) before a trial ends: the customer's
 * `trial_will_end` notice (about cycle 1, the first charge) and the
 * platform's `subscription.trial_will_end`, once each per subscription.
 */
export async function queueTrialEndingNotices(deps: Pick<Deps, "db" | "clock" | "config">, effects: SideEffects, limit = 500): Promise<number> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const ending = await tx
      .selectFrom("subscriptions as s")
      .select(["s.id", "s.trial_end"])
      .where("s.status", "=", "trialing")
      .where("s.cancel_at_period_end", "=", false)
      .where("s.trial_end", ">", now)
      .where("s.trial_end", "<=", new Date(now.getTime() + deps.config.trialEndingNoticeMs))
      .where(noticeMissing("trial_will_end", sql.ref("s.id"), sql`1`))
      .limit(limit)
      .execute();
    for (const subscription of ending) {
      const trialEnd = subscription.trial_end!;
      await effects.notice(tx, { subscriptionId: subscription.id, cycle: 1, kind: "trial_will_end", trialEnd });
      await effects.event(tx, {
        type: "subscription.trial_will_end",
        dedupeKey: `subscription.trial_will_end:${subscription.id}`,
        data: { subscriptionId: subscription.id, trialEnd: trialEnd.toISOString() },
        occurredAt: now,
      });
    }
    return ending.length;
  });
}
