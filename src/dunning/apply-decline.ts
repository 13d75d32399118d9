import { sql, type Kysely, type Transaction } from "kysely";
import { decideAfterDecline, type DeclineInput, type NoticeKind } from "../billing/dunning-policy.ts";
import type { ChargeAttempt, Database, Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { applyFinalState } from "./apply-final-state.ts";
import { noticeFor } from "./notice-for.ts";

type DeclineDeps = Pick<Deps, "config" | "dunning">;


/**
 * What a declined attempt means, by the dunning policy: a retry later, a
 * request for a new card (hard declines, a spent card budget), or the final
 * state. The subscription is `past_due` while dunning runs. Notices and
 * platform events are written in the same transaction (at most once each).
 */
export async function applyDecline(deps: DeclineDeps, tx: Transaction<Database>, invoice: Invoice, attempt: ChargeAttempt, now: Date, effects: SideEffects): Promise<Invoice> {
  const decision = decideAfterDecline({ ...(await declineState(deps, tx, invoice, attempt, now)), random: Math.random() });
  const subscription = await tx.selectFrom("subscriptions").select(["id", "status"]).where("id", "=", invoice.subscription_id).forUpdate().executeTakeFirstOrThrow();
  const nextRetryAt = decision.action === "retry" ? decision.at : null;
  const deadline = decision.action === "await_new_card" ? decision.finalAt : null;

  await effects.event(tx, {
    type: "invoice.payment_failed",
    dedupeKey: `invoice.payment_failed:${attempt.id}`,
    data: { invoiceId: invoice.id, subscriptionId: subscription.id, cycle: invoice.cycle, amount: invoice.amount, orderId: attempt.order_id, declineCode: attempt.code, nextAttemptAt: nextRetryAt?.toISOString() ?? null, awaitingNewCard: deadline !== null },
    occurredAt: now,
  });
  if (subscription.status === "active") {
    await tx.updateTable("subscriptions").set({ status: "past_due", updated_at: now }).where("id", "=", subscription.id).execute();
    await effects.event(tx, { type: "subscription.past_due", dedupeKey: `subscription.past_due:${invoice.id}`, data: { subscriptionId: subscription.id, invoiceId: invoice.id }, occurredAt: now });
  }
  let updated = await tx
    .updateTable("invoices")
    .set({ next_attempt_at: nextRetryAt, dunning_deadline_at: deadline, first_failed_at: invoice.first_failed_at ?? now, last_failed_at: now, updated_at: now })
    .where("id", "=", invoice.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (decision.action === "final") updated = await applyFinalState(tx, effects, updated, decision.state, now);

  const facts = { declineCode: attempt.code, nextRetryAt, deadline, finalState: deps.dunning.finalState };
  for (const kind of decision.notices as Array<Exclude<NoticeKind, "renewal_reminder">>) {
    await effects.notice(tx, { subscriptionId: subscription.id, cycle: invoice.cycle, ...noticeFor(kind, facts) });
  }
  return updated;
}

/** What the policy needs to know about a decline, also used to preview the timeline after it. */
export async function declineState(deps: Pick<Deps, "dunning">, db: Kysely<Database>, invoice: Invoice, attempt: ChargeAttempt, at: Date): Promise<Omit<DeclineInput, "random">> {
  const row = await db
    .selectFrom("charge_attempts")
    .select([
      sql<string>`count(*) filter (where invoice_id = ${invoice.id} and status = 'declined' and attempt_no <= ${attempt.attempt_no})`.as("declinedOnCard"),
      // Attempts that reached the card network count against its budget, on the billing calendar.
      sql<string>`count(*) filter (where status in ('sending', 'unknown', 'succeeded', 'declined') and clock_at > ${new Date(at.getTime() - deps.dunning.cardAttemptWindowMs)})`.as("inWindow"),
    ])
    .where("payment_token_id", "=", attempt.payment_token_id)
    .executeTakeFirstOrThrow();
  return {
    policy: deps.dunning,
    code: attempt.code,
    // Null when this decline is the invoice's first.
    firstFailureAt: invoice.first_failed_at !== null && invoice.first_failed_at < at ? invoice.first_failed_at : null,
    // The first decline on a card is its first try, not one of the scheduled retries.
    retriesMadeOnCard: Math.max(0, Number(row.declinedOnCard) - 1),
    cardAttemptsInWindow: Number(row.inWindow),
    now: at,
  };
}
