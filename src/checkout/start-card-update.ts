import type { SubscriptionStatus } from "../db/database.ts";
import { CARD_STATES } from "../subscriptions/subscription-transitions.ts";
import type { Deps } from "../deps.ts";
import { claimLinkPage } from "./claim-link-page.ts";
import { openOenCheckout, recordCheckout, type StartedCheckout } from "./start-checkout.ts";

export type CardUpdateStart =
  | { kind: "started"; checkout: StartedCheckout }
  | { kind: "not_found" }
  | { kind: "not_updatable"; status: SubscriptionStatus };

export type LinkCardUpdateStart =
  | CardUpdateStart
  /** The emailed link asked for a card that has been replaced since. */
  | { kind: "link_superseded" }
  /** The emailed link opened its pages for this hour. */
  | { kind: "link_exhausted" };

/** An emailed link, as verifyCardUpdateToken read it. */
export interface CardUpdateLinkUse {
  subscriptionId: string;
  linkId: string;
  issuedAt: Date;
}

type Needs = Pick<Deps, "db" | "oen" | "config" | "clock">;

// A card can be replaced while the subscription has one (a trial too); before the first
// card (incomplete) the subscribe page binds it, and an ended subscription bills no more.
const UPDATABLE: readonly SubscriptionStatus[] = CARD_STATES;
// Links carry whole seconds: a card bound in the second the link was made is not "since".
const LINK_TIME_RESOLUTION_MS = 1_000;

/**
 * Opens a fresh Oen page that replaces the subscription's card (the token
 * webhook then keeps the old card inactive and retries the open invoice).
 * Redirect URLs default to the subscription's own. Oen errors propagate.
 */
export async function startCardUpdate(deps: Needs, subscriptionId: string, urls?: { successUrl: string; failureUrl: string }): Promise<CardUpdateStart> {
  const subscription = await updatable(deps, subscriptionId);
  return subscription.kind === "updatable" ? open(deps, subscriptionId, subscription, urls) : subscription;
}

/**
 * The same through an emailed link, which must still be current (no card
 * bound since it was sent) and have pages left this hour (claimLinkPage).
 */
export async function startCardUpdateFromLink(deps: Needs, link: CardUpdateLinkUse): Promise<LinkCardUpdateStart> {
  const subscription = await updatable(deps, link.subscriptionId);
  if (subscription.kind !== "updatable") return subscription;
  if (subscription.cardSince !== null && subscription.cardSince.getTime() >= link.issuedAt.getTime() + LINK_TIME_RESOLUTION_MS) return { kind: "link_superseded" };
  if (!(await claimLinkPage(deps.db, link.linkId))) return { kind: "link_exhausted" };
  return open(deps, link.subscriptionId, subscription);
}

async function updatable(deps: Needs, subscriptionId: string) {
  const subscription = await deps.db
    .selectFrom("subscriptions as s")
    .innerJoin("customers as c", "c.id", "s.customer_id")
    .leftJoin("payment_tokens as t", (join) => join.onRef("t.subscription_id", "=", "s.id").on("t.status", "=", "active"))
    .select(["s.status", "s.success_url", "s.failure_url", "c.email", "t.created_at as cardSince"])
    .where("s.id", "=", subscriptionId)
    .executeTakeFirst();
  if (subscription === undefined) return { kind: "not_found" as const };
  if (!UPDATABLE.includes(subscription.status)) return { kind: "not_updatable" as const, status: subscription.status };
  return { kind: "updatable" as const, ...subscription };
}

async function open(
  deps: Needs,
  subscriptionId: string,
  subscription: { success_url: string; failure_url: string; email: string },
  urls?: { successUrl: string; failureUrl: string },
): Promise<CardUpdateStart> {
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
