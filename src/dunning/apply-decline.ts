import type { Kysely, Transaction } from "kysely";
import { countCardAttempts, decideAfterDecline, type DeclineInput, type NoticeKind } from "../billing/dunning-policy.ts";
import type { ChargeAttempt, Database, Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { recordDecline, scheduleCollection } from "../invoices/invoice-transitions.ts";
import { metrics } from "../metrics/metrics.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { markPastDue } from "../subscriptions/subscription-transitions.ts";
import { applyFinalState } from "./apply-final-state.ts";
import { noticeFor } from "./notice-for.ts";

type DeclineDeps = Pick<Deps, "dunning">;

// Attempts that reached (or may have reached) the card network count against its budget.
const COUNTED = ["sending", "unknown", "succeeded", "declined"] as const;

/**
 * What a declined attempt means, by the dunning policy: a retry later, a
 * request for a new card (hard declines, a spent card budget), or the final
 * state. The subscription is `past_due` while dunning runs. A decline counts
 * only against the card it was made on: when the card was replaced while the
 * attempt was in flight, the new card is charged at once instead.
 */
export async function applyDecline(deps: DeclineDeps, tx: Transaction<Database>, invoice: Invoice, attempt: ChargeAttempt, now: Date, effects: SideEffects): Promise<Invoice | undefined> {
  const subscriptionId = invoice.subscription_id;
  const card = await tx.selectFrom("payment_tokens").select("id").where("subscription_id", "=", subscriptionId).where("status", "=", "active").executeTakeFirst();
  const replaced = card !== undefined && card.id !== attempt.payment_token_id;
  const decision = replaced ? undefined : decideAfterDecline({ ...(await declineState(deps, tx, invoice, attempt, now)), random: Math.random() });
  const nextRetryAt = decision === undefined ? now : decision.action === "retry" ? decision.at : null;
  const deadline = decision?.action === "await_new_card" ? decision.finalAt : null;

  await effects.event(tx, {
    type: "invoice.payment_failed",
    dedupeKey: `invoice.payment_failed:${attempt.id}`,
    data: { invoiceId: invoice.id, subscriptionId, cycle: invoice.cycle, amount: invoice.amount, orderId: attempt.order_id, declineCode: attempt.code, nextAttemptAt: nextRetryAt?.toISOString() ?? null, awaitingNewCard: deadline !== null },
    occurredAt: now,
  });
  effects.afterCommit(() => metrics.dunningStep(decision?.action ?? "new_card"));
  if (decision === undefined) return scheduleCollection(tx, effects, invoice.id, now, now);

  await markPastDue(tx, effects, subscriptionId, invoice.id, now);
  let updated = await recordDecline(tx, effects, invoice.id, { nextRetryAt, deadline, now });
  if (decision.action === "final") updated = await applyFinalState(tx, effects, invoice, decision.state, now);

  const facts = { declineCode: attempt.code, nextRetryAt, deadline, finalState: deps.dunning.finalState };
  for (const kind of decision.notices as Array<Exclude<NoticeKind, "renewal_reminder" | "trial_will_end">>) {
    await effects.notice(tx, { subscriptionId, cycle: invoice.cycle, ...noticeFor(kind, facts) });
  }
  return updated;
}

/** What the policy needs to know about a decline, also used to preview the timeline after it. */
export async function declineState(deps: Pick<Deps, "dunning">, db: Kysely<Database>, invoice: Invoice, attempt: ChargeAttempt, at: Date): Promise<Omit<DeclineInput, "random">> {
  const onCard = await db
    .selectFrom("charge_attempts")
    .select(["invoice_id", "status", "attempt_no", "clock_at"])
    .where("payment_token_id", "=", attempt.payment_token_id)
    .where("status", "in", COUNTED)
    .orderBy("clock_at", "desc")
    .execute();
  const declinedOnCard = onCard.filter((a) => a.invoice_id === invoice.id && a.status === "declined" && a.attempt_no <= attempt.attempt_no).length;
  return {
    policy: deps.dunning,
    code: attempt.code,
    // Null when this decline is the invoice's first.
    firstFailureAt: invoice.first_failed_at !== null && invoice.first_failed_at < at ? invoice.first_failed_at : null,
    // The first decline on a card is its first try, not one of the scheduled retries.
    retriesMadeOnCard: Math.max(0, declinedOnCard - 1),
    cardAttemptsInWindow: countCardAttempts(onCard.map((a) => a.clock_at), at, deps.dunning),
    now: at,
  };
}
