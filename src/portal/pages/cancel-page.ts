import { html } from "../html.ts";
import { portalPage, type LayoutSession } from "../portal-layout.ts";
import type { PortalSubscription } from "../portal-subscriptions.ts";
import type { PortalText } from "../portal-text.ts";
import { actionForm } from "./action-form.ts";

/** GET /portal/subscriptions/:id/cancel: says until when the service runs, and asks to confirm. */
export function cancelPage(text: PortalText, layout: LayoutSession, item: PortalSubscription, formToken: string): string {
  const { subscription } = item;
  const base = `/portal/subscriptions/${subscription.id}`;
  const body = html`<p><a href="${base}">← ${item.plan.name}</a></p>
<h1>${text.cancelPage.title}</h1>
<section class="card">
<p data-fact="runs-until">${text.cancelPage.runsUntil(item.plan.name, subscription.next_renewal_at ?? subscription.current_period_end)}</p>
<p>${text.cancelPage.resumeBefore}</p>
<div class="actions">${actionForm(`${base}/cancel`, formToken, text.cancelPage.confirm, { style: "danger" })}<a class="button secondary" href="${base}">${text.cancelPage.keep}</a></div>
</section>`;
  return portalPage(text, text.cancelPage.title, body, layout);
}
