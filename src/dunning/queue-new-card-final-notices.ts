import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { noticeMissing } from "../notify/notice-missing.ts";
import type { SideEffects } from "../outbox/side-effects.ts";

/**
 * An invoice waiting for a new card (hard decline, spent card budget) gets
 * its final notice as far ahead of the deadline as a soft decline's final
 * notice comes ahead of its last retry: the schedule's last step.
 */
export async function queueNewCardFinalNotices(deps: Pick<Deps, "db" | "clock" | "config" | "dunning">, effects: SideEffects, limit = 500): Promise<number> {
  const schedule = deps.dunning.retryScheduleMs;
  const leadMs = (schedule.at(-1) ?? 0) - (schedule.at(-2) ?? 0);
  if (leadMs <= 0) return 0;
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const waiting = await tx
      .selectFrom("invoices as i")
      .select(["i.subscription_id", "i.cycle", "i.dunning_deadline_at"])
      .where("i.status", "=", "open")
      .where("i.dunning_deadline_at", ">", now)
      .where("i.dunning_deadline_at", "<=", new Date(now.getTime() + leadMs))
      .where(noticeMissing("final_notice", sql.ref("i.subscription_id"), sql.ref("i.cycle")))
      .limit(limit)
      .execute();
    for (const invoice of waiting) {
      await effects.notice(tx, {
        subscriptionId: invoice.subscription_id,
        cycle: invoice.cycle,
        kind: "final_notice",
        lastRetryAt: invoice.dunning_deadline_at!,
        withRetry: false,
        finalState: deps.dunning.finalState,
      });
    }
    return waiting.length;
  });
}
