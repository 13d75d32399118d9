import type { SubscriptionStatus } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { openOenCheckout, recordCheckout, type StartedCheckout } from "./start-checkout.ts";

export type CardUpdateStart =
  | { kind: "started"; checkout: StartedCheckout }
  | { kind: "not_found" }
  | { kind: "not_updatable"; status: SubscriptionStatus };

// A card can be replaced while the subscription bills or tries to; before the first
// card (incomplete) the subscribe page binds it, and an ended subscription bills no more.
const UPDATABLE: readonly SubscriptionStatus[] = ["active", "past_due", "unpaid"];

/**
 * Opens a fresh Oen page that replaces the subscription's card (the token
 * webhook then keeps the old card inactive and retries the open invoice).
 * Redirect URLs default to the subscription's own. Oen errors propagate.
 */
export async function startCardUpdate(
  deps: Pick<Deps, "db" | "oen" | "config" | "clock">,
  subscriptionId: string,
  urls?: { successUrl: string; failureUrl: string },
): Promise<CardUpdateStart> {
  const subscription = await deps.db
    .selectFrom("subscriptions as s")
    .innerJoin("customers as c", "c.id", "s.customer_id")
    .select(["s.status", "s.success_url", "s.failure_url", "c.email"])
    .where("s.id", "=", subscriptionId)
    .executeTakeFirst();
  if (subscription === undefined) return { kind: "not_found" };
  if (!UPDATABLE.includes(subscription.status)) return { kind: "not_updatable", status: subscription.status };
  const checkout = await openOenCheckout(deps, {
    subscriptionId,
    purpose: "update_card",
    successUrl: urls?.successUrl ?? subscription.success_url,
    failureUrl: urls?.failureUrl ?? subscription.failure_url,
    payerEmail: subscription.email,
  });
  await recordCheckout(deps.db, subscriptionId, "update_card", checkout);
  return { kind: "started", checkout };
}
