import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { CheckoutPurpose, Database } from "../db/database.ts";
import type { Deps } from "../deps.ts";

export interface CheckoutRequest {
  subscriptionId: string;
  purpose: CheckoutPurpose;
  successUrl: string;
  failureUrl: string;
  payerEmail?: string;
}

export interface StartedCheckout {
  id: string;
  customId: string;
  checkoutUrl: string;
  expiresAt: Date;
}

/**
 * Opens a binding page on Oen. The page lives 10 minutes from this call, so a
 * link we send by email must come back to us and open a fresh one.
 */
export async function openOenCheckout(deps: Pick<Deps, "oen" | "config" | "clock">, request: CheckoutRequest): Promise<StartedCheckout> {
  // customId lets the webhook worker check that a token webhook belongs to the page we opened.
  // Its random part is known only to us and Oen (the customer sees the page id, never this),
  // so knowing a subscription id and a page id is not enough to forge a token webhook.
  const customId = `${request.subscriptionId}.${request.purpose}.${randomBytes(12).toString("base64url")}`;
  const { id } = await deps.oen.createCheckoutToken({
    successUrl: request.successUrl,
    failureUrl: request.failureUrl,
    customId,
    ...(request.payerEmail === undefined ? {} : { payerEmail: request.payerEmail }),
  });
  return {
    id,
    customId,
    checkoutUrl: `${deps.config.oen.hostedUrl}/checkout/subscription/create/${id}`,
    expiresAt: new Date(deps.clock.now().getTime() + deps.config.checkoutTtlMs),
  };
}

export async function recordCheckout(db: Kysely<Database>, subscriptionId: string, purpose: CheckoutPurpose, checkout: StartedCheckout): Promise<void> {
  await db
    .insertInto("checkout_sessions")
    .values({
      id: checkout.id,
      subscription_id: subscriptionId,
      purpose,
      custom_id: checkout.customId,
      status: "open",
      failure_message: null,
      expires_at: checkout.expiresAt,
      completed_at: null,
    })
    .execute();
}
