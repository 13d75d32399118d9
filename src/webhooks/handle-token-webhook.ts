import type { Transaction } from "kysely";
import { writeAudit } from "../audit/audit-log.ts";
import type { CheckoutSession, Database, WebhookOutcome } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../ids.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { collectWithNewCard } from "../invoices/invoice-transitions.ts";
import { activate, startTrial } from "../subscriptions/subscription-transitions.ts";
import { trialDaysFor } from "../subscriptions/trial-days-for.ts";
import type { TokenWebhookDelivery } from "../queues/jobs.ts";
import type { SealedToken } from "../vault/token-cipher.ts";
import { bindWebhookToken } from "../vault/token-vault.ts";
import { recordWebhookEvent } from "./record-webhook-event.ts";
import { tokenWebhookVerdict } from "./token-webhook-verdict.ts";

export interface TokenWebhookResult {
  outcome: WebhookOutcome;
  reason: string | null;
  subscriptionId?: string;
}

/**
 * Applies a token webhook. Webhooks are unsigned, so one is genuine only if
 * its id is a binding page WE opened, still open and recent, and its
 * merchantId and customId match (tokenWebhookVerdict, again here under the
 * page's lock: the ingress checked without one). Its token must open for that
 * page (it was sealed for the page the body named): a sealed value moved to
 * another page's delivery does not. Anything else stores nothing and is
 * recorded as rejected (invariant 6). Idempotent: the page is locked and
 * completed once.
 */
export async function handleTokenWebhook(deps: Pick<Deps, "db" | "config" | "clock">, delivery: TokenWebhookDelivery, effects: SideEffects): Promise<TokenWebhookResult> {
  return deps.db.transaction().execute(async (tx) => {
    const finish = async (outcome: WebhookOutcome, reason: string | null, extra: Partial<TokenWebhookResult> = {}) => {
      await recordWebhookEvent(tx, delivery, outcome, reason);
      return { outcome, reason, ...extra };
    };
    const session = await tx.selectFrom("checkout_sessions").selectAll().where("id", "=", delivery.checkoutId).forUpdate().executeTakeFirst();
    const rules = { merchantId: deps.config.oen.merchantId, lateDeliveryMs: deps.config.oenWebhooks.lateDeliveryMs };
    const verdict = tokenWebhookVerdict(session, delivery, rules, deps.clock.now());
    if (verdict.kind === "rejected") return finish("rejected", verdict.reason);
    const subscriptionId = session!.subscription_id;
    if (verdict.kind === "duplicate") return finish("duplicate", null, { subscriptionId });
    if (!delivery.success) {
      await tx
        .updateTable("checkout_sessions")
        .set({ status: "failed", failure_message: delivery.message ?? "binding failed", completed_at: deps.clock.now() })
        .where("id", "=", session!.id)
        .execute();
      await effects.event(tx, {
        type: "subscription.checkout_failed",
        dedupeKey: `subscription.checkout_failed:${session!.id}`,
        data: { subscriptionId, checkoutId: session!.id, purpose: session!.purpose, message: delivery.message },
        occurredAt: deps.clock.now(),
      });
      return finish("binding_failed", delivery.message, { subscriptionId });
    }
    if (delivery.sealedToken === null) return finish("rejected", "missing_token");

    const subscription = await tx.selectFrom("subscriptions").selectAll().where("id", "=", subscriptionId).forUpdate().executeTakeFirstOrThrow();
    if (subscription.status === "canceled") return finish("rejected", "subscription_canceled", { subscriptionId });
    const now = deps.clock.now();
    const paymentTokenId = await storeToken(tx, deps, now, session!, delivery.sealedToken, delivery.last4);
    if (paymentTokenId === null) return finish("rejected", "token_unreadable", { subscriptionId });
    const paymentMethod = { id: paymentTokenId, last4: delivery.last4 };
    if (session!.purpose === "subscribe" && (subscription.status === "incomplete" || subscription.status === "incomplete_expired")) {
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

/** The new card, sealed for its own row; null (nothing stored) when the token does not open for this page. */
async function storeToken(tx: Transaction<Database>, deps: Pick<Deps, "config">, now: Date, session: CheckoutSession, sealed: SealedToken, last4: string | null): Promise<string | null> {
  const row = { id: newId("pm"), subscription_id: session.subscription_id, checkout_session_id: session.id };
  const stored = await bindWebhookToken(tx, deps.config.tokenKeys, sealed, session.id, row, {
    actor: "webhook-worker",
    reason: `seal the token of checkout ${session.id} (${session.purpose}) for its payment token`,
  });
  if (stored === null) return null;
  // The previous card stays, inactive, for the audit trail.
  await tx
    .updateTable("payment_tokens")
    .set({ status: "inactive", deactivated_at: now })
    .where("subscription_id", "=", session.subscription_id)
    .where("status", "=", "active")
    .execute();
  await tx
    .insertInto("payment_tokens")
    .values({ ...row, key_id: stored.keyId, ciphertext: stored.ciphertext, last4, status: "active", created_at: now, deactivated_at: null })
    .execute();
  await tx.updateTable("checkout_sessions").set({ status: "completed", completed_at: now }).where("id", "=", session.id).execute();
  await writeAudit(tx, {
    actor: "webhook-worker",
    action: "card_token.store",
    subscriptionId: session.subscription_id,
    reason: `token webhook for checkout ${session.id} (${session.purpose})`,
    detail: { paymentTokenId: row.id, keyId: stored.keyId, last4 },
  });
  return row.id;
}
