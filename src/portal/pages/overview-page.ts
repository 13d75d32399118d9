import type { Customer } from "../../db/database.ts";
import { describeInvoiceInfo } from "../invoice-info-form.ts";
import { html } from "../html.ts";
import { portalPage, type LayoutSession } from "../portal-layout.ts";
import type { PortalSubscription } from "../portal-subscriptions.ts";
import type { PortalText } from "../portal-text.ts";
import { subscriptionFacts } from "./subscription-facts.ts";

/** GET /portal: every subscription of the customer, and their e-invoice details. */
export function overviewPage(text: PortalText, layout: LayoutSession, customer: Customer, subscriptions: readonly PortalSubscription[], flash: string | null): string {
  const body = html`${flash === null ? null : html`<p class="notice" role="status">${flash}</p>`}
<p>${text.hello(customer.name)}</p>
<h1>${text.yourSubscriptions}</h1>
${subscriptions.length === 0 ? html`<p>${text.noSubscriptions}</p>` : null}
${subscriptions.map(
  (item) => html`<section class="card" data-subscription="${item.subscription.id}">
<h2>${item.plan.name}</h2>
${subscriptionFacts(text, item)}
<div class="actions"><a class="button" href="/portal/subscriptions/${item.subscription.id}">${text.manage}</a></div>
</section>`,
)}
<section class="card">
<h2>${text.invoiceInfo.title}</h2>
<p data-fact="invoice-info">${describeInvoiceInfo(text, customer.invoice_info)}</p>
<div class="actions"><a class="button secondary" href="/portal/invoice-info">${text.actions.editInvoiceInfo}</a></div>
</section>`;
  return portalPage(text, text.yourSubscriptions, body, layout);
}
