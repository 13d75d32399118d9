import type { CheckoutSession } from "../db/database.ts";
import type { TokenWebhookDelivery } from "../queues/jobs.ts";

/** Why a token webhook binds nothing. */
export const TOKEN_WEBHOOK_REJECTIONS = ["unknown_checkout", "merchant_mismatch", "custom_id_mismatch", "checkout_failed", "checkout_expired"] as const;
export type TokenWebhookRejection = (typeof TOKEN_WEBHOOK_REJECTIONS)[number];

export type TokenWebhookVerdict =
  /** For a page of ours that is open and recent: apply it (bind the card, or mark the page failed). */
  | { kind: "apply" }
  /** A repeat about a page that already bound its card or failed (Oen retries, duplicates, reorders). */
  | { kind: "duplicate" }
  | { kind: "rejected"; reason: TokenWebhookRejection };

export interface TokenWebhookRules {
  merchantId: string;
  /** How long after its page expired a webhook is still taken (config.oenWebhooks.lateDeliveryMs). */
  lateDeliveryMs: number;
}

/**
 * Whether a token webhook is one Oen sent about a page WE opened, and what to
 * do with it. Webhooks are unsigned: genuine means the id is our page's, the
 * merchantId ours, and the customId the one we sent (its random part known
 * only to us and Oen). A page binds one card: once it completed or failed, a
 * later delivery is a repeat, and a failed page never succeeds afterwards. A
 * page is taken until its expiry plus Oen's late-delivery margin, counted to
 * when our ingress received the webhook (not when a worker got to it).
 * Pure: the ingress decides with it what to store, the worker what to apply.
 */
export function tokenWebhookVerdict(
  session: Pick<CheckoutSession, "status" | "custom_id" | "expires_at"> | undefined,
  delivery: Pick<TokenWebhookDelivery, "merchantId" | "customId" | "success" | "receivedAt">,
  rules: TokenWebhookRules,
  now: Date,
): TokenWebhookVerdict {
  if (session === undefined) return { kind: "rejected", reason: "unknown_checkout" };
  if (delivery.merchantId !== rules.merchantId) return { kind: "rejected", reason: "merchant_mismatch" };
  if (delivery.customId !== session.custom_id) return { kind: "rejected", reason: "custom_id_mismatch" };
  if (session.status === "completed") return { kind: "duplicate" };
  if (session.status === "failed") return delivery.success ? { kind: "rejected", reason: "checkout_failed" } : { kind: "duplicate" };
  const received = Date.parse(delivery.receivedAt);
  const at = Number.isNaN(received) ? now.getTime() : received;
  if (at > session.expires_at.getTime() + rules.lateDeliveryMs) return { kind: "rejected", reason: "checkout_expired" };
  return { kind: "apply" };
}
