import type { Transaction } from "kysely";
import { writeAudit } from "../audit/audit-log.ts";
import type { CheckoutSession, Database, WebhookOutcome } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../ids.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { collectWithNewCard } from "../invoices/invoice-transitions.ts";
import { activate, startTrial } from "../subscriptions/subscription-transitions.ts";
import { trialDaysFor } from "../subscriptions/trial-days-for.ts";
import type { TokenWebhookJob } from "../queues/jobs.ts";
import { recordWebhookEvent } from "./record-webhook-event.ts";

export interface TokenWebhookResult {
  outcome: WebhookOutcome;
  reason: string | null;
  subscriptionId?: string;
}

/**
 * Applies a token webhook. Webhooks are unsigned, so one is genuine only if
 * its id is a binding page WE opened and its merchantId and customId match;
 * anything else stores nothing and is recorded as rejected (invariant 6).
 * Idempotent: the checkout session row is locked and completed once.
 */
export async function handleTokenWebhook(deps: Pick<Deps, "db" | "config" | "clock">, job: TokenWebhookJob, effects: SideEffects): Promise<TokenWebhookResult> {
  return deps.db.transaction().execute(async (tx) => {
    const finish = async (outcome: WebhookOutcome, reason: string | null, extra: Partial<TokenWebhookResult> = {}) => {
      await recordWebhookEvent(tx, job, outcome, reason);
      return { outcome, reason, ...extra };
    };
    const session = await tx.selectFrom("checkout_sessions").selectAll().where("id", "=", job.checkoutId).forUpdate().executeTakeFirst();
    if (session === undefined) return finish("rejected", "unknown_checkout");
    if (job.merchantId !== deps.config.oen.merchantId) return finish("rejected", "merchant_mismatch");
    if (job.customId !== session.custom_id) return finish("rejected", "custom_id_mismatch");
    const subscriptionId = session.subscription_id;
    // A page binds one card; a later delivery about it is a repeat (Oen retries, duplicates, reorders).
    if (session.status === "completed" || (session.status === "failed" && !job.success)) {
      return finish("duplicate", null, { subscriptionId });
    }
    if (!job.success) {
      await tx
        .updateTable("checkout_sessions")
        .set({ status: "failed", failure_message: job.message ?? "binding failed", completed_at: deps.clock.now() })
        .where("id", "=", session.id)
        .execute();
      await effects.event(tx, {
        type: "subscription.checkout_failed",
        dedupeKey: `subscription.checkout_failed:${session.id}`,
        data: { subscriptionId, checkoutId: session.id, purpose: session.purpose, message: job.message },
        occurredAt: deps.clock.now(),
      });
      return finish("binding_failed", job.message, { subscriptionId });
    }
    if (job.sealedToken === null) return finish("rejected", "missing_token");

    const subscription = await tx.selectFrom("subscriptions").selectAll().where("id", "=", subscriptionId).forUpdate().executeTakeFirstOrThrow();
    if (subscription.status === "canceled") return finish("rejected", "subscription_canceled", { subscriptionId });
    const now = deps.clock.now();
    const paymentTokenId = await storeToken(tx, now, session, job);
    const paymentMethod = { id: paymentTokenId, last4: job.last4 };
    if (session.purpose === "subscribe" && (subscription.status === "incomplete" || subscription.status === "incomplete_expired")) {
      const plan = await tx.selectFrom("plans").selectAll().where("id", "=", subscription.plan_id).executeTakeFirstOrThrow();
      const trialDays = await trialDaysFor(tx, deps.config.trialReuse, subscription, plan);
      const zone = deps.config.billingTimezone;
      if (trialDays > 0) await startTrial(tx, effects, { id: subscriptionId, trialDays, paymentMethod, now, zone });
      else await activate(tx, effects, { id: subscriptionId, plan, paymentMethod, now, zone });
    } else {
      await effects.event(tx, { type: "payment_method.updated", dedupeKey: `payment_method.updated:${paymentTokenId}`, data: { subscriptionId, paymentMethod }, occurredAt: now });
      // A new card retries the open invoice immediately (the dunning schedule waits no longer).
      await collectWithNewCard(tx, effects, subscriptionId, now);
    }
    return finish("accepted", null, { subscriptionId });
  });
}

async function storeToken(tx: Transaction<Database>, now: Date, session: CheckoutSession, job: TokenWebhookJob): Promise<string> {
  const sealed = job.sealedToken!;
  // The previous card stays, inactive, for the audit trail.
  await tx
    .updateTable("payment_tokens")
    .set({ status: "inactive", deactivated_at: now })
    .where("subscription_id", "=", session.subscription_id)
    .where("status", "=", "active")
    .execute();
  const id = newId("pm");
  await tx
    .insertInto("payment_tokens")
    .values({
      id,
      subscription_id: session.subscription_id,
      checkout_session_id: session.id,
      key_id: sealed.keyId,
      ciphertext: sealed.ciphertext,
      last4: job.last4,
      status: "active",
      created_at: now,
      deactivated_at: null,
    })
    .execute();
  await tx.updateTable("checkout_sessions").set({ status: "completed", completed_at: now }).where("id", "=", session.id).execute();
  await writeAudit(tx, {
    actor: "webhook-worker",
    action: "card_token.store",
    subscriptionId: session.subscription_id,
    reason: `token webhook for checkout ${session.id} (${session.purpose})`,
    detail: { paymentTokenId: id, keyId: sealed.keyId, last4: job.last4 },
  });
  return id;
}
