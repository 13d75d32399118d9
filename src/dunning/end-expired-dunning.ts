import { finalDecision } from "../billing/dunning-policy.ts";
import type { Deps } from "../deps.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { applyFinalState } from "./apply-final-state.ts";

/**
 * Invoices that waited for a new card (hard decline, spent card budget) past
 * their deadline reach the policy's final state, as a failed last retry would.
 */
export async function endExpiredDunning(deps: Pick<Deps, "db" | "clock" | "dunning">, effects: SideEffects, limit = 200): Promise<number> {
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now();
    const invoices = await tx
      .selectFrom("invoices")
      .selectAll()
      .where("status", "=", "open")
      .where("dunning_deadline_at", "<=", now)
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    const final = finalDecision(deps.dunning);
    for (const invoice of invoices) {
      await applyFinalState(tx, effects, invoice, final.state, now);
      if (final.notices.includes("subscription_canceled")) {
        await effects.notice(tx, { subscriptionId: invoice.subscription_id, cycle: invoice.cycle, kind: "subscription_canceled", cause: "dunning" });
      }
    }
    return invoices.length;
  });
}
