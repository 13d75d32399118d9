import type { Deps } from "../deps.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { resume } from "./subscription-transitions.ts";

export type ResumeResult = { kind: "resumed" } | { kind: "not_found" } | { kind: "not_resumable"; message: string };

/** POST /v1/subscriptions/:id/resume: clears a scheduled cancel while the period still runs. */
export async function resumeSubscription(deps: Pick<Deps, "db" | "clock" | "queues" | "config" | "logger">, id: string): Promise<ResumeResult> {
  const effects = createSideEffects(deps);
  const result = await deps.db.transaction().execute(async (tx): Promise<ResumeResult> => {
    const subscription = await tx.selectFrom("subscriptions").select(["status", "cancel_at_period_end"]).where("id", "=", id).forUpdate().executeTakeFirst();
    if (subscription === undefined) return { kind: "not_found" };
    if (await resume(tx, effects, id, deps.clock.now())) return { kind: "resumed" };
    return {
      kind: "not_resumable",
      message: subscription.cancel_at_period_end || subscription.status === "canceled" ? `the subscription is ${subscription.status === "canceled" ? "already canceled" : "past its period end"}: it can no longer be resumed` : "the subscription has no scheduled cancel to resume",
    };
  });
  await effects.flush();
  return result;
}
