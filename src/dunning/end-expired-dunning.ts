import { finalDecision } from "../billing/dunning-policy.ts";
import type { Deps } from "../deps.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { applyFinalState } from "./apply-final-state.ts";

/**
 * Invoices that waited for a new card (hard decline, spent card budget) past
 * their deadline reach the policy's final state, as a failed last retry would.
 */
export async function endExpiredDunning(deps: Pick<Deps, "db" | "clock" | "dunning">, effects: SideEffects, limit = 200): Promise<number> {
  const now = deps.clock.now();
  const expired = await deps.db.selectFrom("invoices").select(["id", "subscription_id"]).where("status", "=", "open").where("dunning_deadline_at", "<=", now).limit(limit).execute();
  const final = finalDecision(deps.dunning);
  let ended = 0;
  for (const candidate of expired) {
    ended += await deps.db.transaction().execute(async (tx) => {
      // Subscription before invoice, the order every writer locks them in; then check again under the locks.
      await tx.selectFrom("subscriptions").select("id").where("id", "=", candidate.subscription_id).forUpdate().execute();
      const invoice = await tx
        .selectFrom("invoices")
        .selectAll()
        .where("id", "=", candidate.id)
        .where("status", "=", "open")
        .where("dunning_deadline_at", "<=", now)
        .forUpdate()
        .executeTakeFirst();
      if (invoice === undefined) return 0;
      await applyFinalState(tx, effects, invoice, final.state, now);
      if (final.notices.includes("subscription_canceled")) {
        await effects.notice(tx, { subscriptionId: invoice.subscription_id, cycle: invoice.cycle, kind: "subscription_canceled", cause: "dunning" });
      }
      return 1;
    });
  }
  return ended;
}
