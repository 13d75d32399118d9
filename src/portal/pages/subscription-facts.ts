import { html, type Html } from "../html.ts";
import type { PortalSubscription } from "../portal-subscriptions.ts";
import type { PortalText } from "../portal-text.ts";

/** The plan's price in words: "NT$899 / 每月", "NT$899 per month". */
export function planPrice(text: PortalText, plan: PortalSubscription["plan"]): string {
  return text.price(plan.amount, plan.interval, plan.interval_count);
}

/** What a subscription is, in plain words: status, price, next charge, trial end, a scheduled cancel, the card. */
export function subscriptionFacts(text: PortalText, item: PortalSubscription): Html {
  const { subscription, plan, pendingPlan, nextCharge, last4 } = item;
  const endsAt = subscription.next_renewal_at ?? subscription.current_period_end;
  const row = (label: string, value: Html | string, name: string) => html`<dt>${label}</dt><dd data-fact="${name}">${value}</dd>`;
  return html`<dl>
${row(text.labels.status, html`<span class="badge ${subscription.status}">${text.status[subscription.status]}</span>`, "status")}
${row(text.labels.price, planPrice(text, plan), "price")}
${nextCharge === null ? null : row(text.labels.nextCharge, text.nextCharge(nextCharge.amount, nextCharge.at), "next-charge")}
${pendingPlan === null ? null : row("", text.pendingPlan(pendingPlan.name, subscription.current_period_end), "pending-plan")}
${subscription.status === "trialing" && subscription.trial_end !== null ? row(text.labels.trialEnd, text.format.date(subscription.trial_end), "trial-end") : null}
${subscription.cancel_at_period_end && endsAt !== null ? row(text.labels.cancellation, text.endsOn(endsAt), "cancel") : null}
${subscription.status === "canceled" ? null : row(text.labels.card, last4 === null ? text.labels.noCard : `•••• ${last4}`, "card")}
</dl>`;
}
