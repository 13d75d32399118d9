import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { noticeMissing } from "../notify/notice-missing.ts";
import type { SideEffects } from "../outbox/side-effects.ts";

/**
 * RENEWAL_REMINDER_BEFORE: tells customers of a renewal coming within that
 * window, once per cycle (the notice's unique key sees to "once").
 */
export async function queueRenewalReminders(deps: Pick<Deps, "db" | "clock" | "config">, effects: SideEffects, limit = 500): Promise<number> {
  const before = deps.config.renewalReminderBeforeMs;
  if (before === null) return 0;
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const due = await tx
      .selectFrom("subscriptions as s")
      .select(["s.id", "s.current_cycle", "s.next_renewal_at"])
      .where("s.status", "=", "active")
      .where("s.cancel_at_period_end", "=", false)
      .where("s.next_renewal_at", ">", now)
      .where("s.next_renewal_at", "<=", new Date(now.getTime() + before))
      .where(noticeMissing("renewal_reminder", sql.ref("s.id"), sql`s.current_cycle + 1`))
      .limit(limit)
      .execute();
    for (const subscription of due) {
      await effects.notice(tx, {
        subscriptionId: subscription.id,
        cycle: subscription.current_cycle + 1,
        kind: "renewal_reminder",
        renewsAt: subscription.next_renewal_at!,
      });
    }
    return due.length;
  });
}
