import type { Plan } from "../../db/database.ts";
import { html, type Html } from "../html.ts";
import type { PlanSwitchPreview } from "../plan-switch-preview.ts";
import { portalPage, type LayoutSession } from "../portal-layout.ts";
import type { PortalSubscription } from "../portal-subscriptions.ts";
import type { PortalText } from "../portal-text.ts";
import { actionForm } from "./action-form.ts";
import { planPrice } from "./subscription-facts.ts";

export interface PlanChoice {
  plan: Plan;
  preview: PlanSwitchPreview;
  formToken: string;
  /** Why the customer sees this again: the amount moved, or the charge was declined (its reason). */
  note: { kind: "amount_changed" } | { kind: "declined"; reason: string } | null;
}

function confirmation(text: PortalText, item: PortalSubscription, choice: PlanChoice): Html {
  const { plan, preview } = choice;
  const price = planPrice(text, plan);
  const words = preview.kind === "period_end" ? text.planPage.atPeriodEnd(preview.at, price) : preview.amount > 0 ? text.planPage.chargeNow(preview.amount, item.last4, price) : text.planPage.freeNow(price);
  const note =
    choice.note === null ? null : html`<p class="${choice.note.kind === "declined" ? "alert" : "notice"}" role="alert">${choice.note.kind === "declined" ? text.planPage.declined(choice.note.reason) : text.planPage.amountChanged}</p>`;
  return html`<section class="card" data-confirm="${plan.id}">
<h2>${text.planPage.switchTo(plan.name)}</h2>
${note}
<p data-fact="proration"${preview.kind === "now" ? html` data-amount="${preview.amount}"` : null}>${words}</p>
<div class="actions">${actionForm(`/portal/subscriptions/${item.subscription.id}/plan`, choice.formToken, text.planPage.confirm, {
    fields: { planId: plan.id, ...(preview.kind === "now" ? { expectedProration: preview.amount } : {}) },
  })}</div>
</section>`;
}

/** GET /portal/subscriptions/:id/plan: the selfService plans to switch to, and for the chosen one what it costs now, to confirm. */
export function planPage(text: PortalText, layout: LayoutSession, item: PortalSubscription, plans: readonly Plan[], choice: PlanChoice | null): string {
  const base = `/portal/subscriptions/${item.subscription.id}`;
  const body = html`<p><a href="${base}">← ${item.plan.name}</a></p>
<h1>${text.planPage.title}</h1>
<p>${text.planPage.current(item.plan.name, planPrice(text, item.plan))}</p>
${choice === null ? null : confirmation(text, item, choice)}
${plans.length === 0 ? html`<p>${text.planPage.none}</p>` : null}
<ul class="plans">
${plans
  .filter((plan) => plan.id !== choice?.plan.id)
  .map(
    (plan) => html`<li class="card" data-plan="${plan.id}"><h2>${plan.name}</h2><p>${planPrice(text, plan)}</p>${plan.description === "" ? null : html`<p class="hint">${plan.description}</p>`}
<div class="actions"><a class="button secondary" href="${base}/plan?planId=${plan.id}">${text.planPage.choose}</a></div></li>`,
  )}
</ul>`;
  return portalPage(text, text.planPage.title, body, layout);
}
