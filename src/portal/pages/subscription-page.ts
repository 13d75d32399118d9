import type { listInvoices } from "../../invoices/list-invoices.ts";
import { declineWords } from "../decline-words.ts";
import { html, type Html } from "../html.ts";
import { portalPage, type LayoutSession } from "../portal-layout.ts";
import type { PortalSubscription } from "../portal-subscriptions.ts";
import type { PortalText } from "../portal-text.ts";
import { actionForm } from "./action-form.ts";
import { subscriptionFacts } from "./subscription-facts.ts";

type InvoiceRows = Awaited<ReturnType<typeof listInvoices>>;

export interface SubscriptionPageOptions {
  flash: string | null;
  /** Whether any selfService plan can be switched to. */
  canSwitchPlan: boolean;
  /** A fresh CSRF token for each form. */
  formToken(): string;
  /** While a new card's charge is on its way: reload here. */
  refresh?: { seconds: number; url: string };
}

function invoiceTable(text: PortalText, invoices: InvoiceRows): Html {
  if (invoices.length === 0) return html`<p>${text.invoices.none}</p>`;
  const t = text.invoices;
  const day = (iso: string | null) => (iso === null ? "—" : text.format.date(new Date(iso)));
  return html`<table class="table"><thead><tr><th>${t.period}</th><th>${t.amount}</th><th>${t.status}</th><th>${t.paidOn}</th><th>${t.refunded}</th></tr></thead><tbody>
${invoices.map(
  (invoice) => html`<tr data-invoice="${invoice.id}">
<td data-label="${t.period}">${day(invoice.periodStart)} – ${day(invoice.periodEnd)}${invoice.kind === "proration" ? html` <span class="badge">${t.proration}</span>` : null}</td>
<td data-label="${t.amount}">${text.format.amount(invoice.amount)}</td>
<td data-label="${t.status}" data-fact="invoice-status">${t.statuses[invoice.status]}</td>
<td data-label="${t.paidOn}">${day(invoice.paidAt)}</td>
<td data-label="${t.refunded}">${invoice.amountRefunded > 0 ? text.format.amount(invoice.amountRefunded) : "—"}</td>
</tr>`,
)}
</tbody></table>`;
}

/**
 * One subscription: its facts, why a payment failed and the one button that
 * fixes it (a new card), or else what the customer can do (change card,
 * change plan, cancel at period end, resume), and its invoices.
 */
export function subscriptionPage(text: PortalText, layout: LayoutSession, item: PortalSubscription, invoices: InvoiceRows, options: SubscriptionPageOptions): string {
  const { subscription, openInvoice } = item;
  const base = `/portal/subscriptions/${subscription.id}`;
  const changeCard = (style?: "secondary") => actionForm(`${base}/card`, options.formToken(), text.actions.changeCard, style === undefined ? {} : { style });
  const owed = openInvoice !== null && (subscription.status === "past_due" || subscription.status === "unpaid");
  let problem: Html | null = null;
  if (owed && openInvoice.attention_code !== null) problem = html`<p class="notice">${text.attention}</p>`;
  else if (owed) {
    problem = html`<div class="alert" role="alert" data-fact="past-due"><p>${subscription.status === "unpaid" ? text.unpaid(openInvoice.amount) : text.pastDue(declineWords(item.declineCode, text.locale), openInvoice.amount)}</p>
<div class="actions">${changeCard()}</div></div>`;
  }
  const running = subscription.status === "active" || subscription.status === "trialing";
  const actions: Html[] = [];
  if (problem === null) {
    if (subscription.status === "active") actions.push(changeCard("secondary"));
    if (running && !subscription.cancel_at_period_end && options.canSwitchPlan) actions.push(html`<a class="button secondary" href="${base}/plan">${text.actions.changePlan}</a>`);
    if (running && !subscription.cancel_at_period_end) actions.push(html`<a class="button secondary" href="${base}/cancel">${text.actions.cancel}</a>`);
    if (running && subscription.cancel_at_period_end) actions.push(actionForm(`${base}/resume`, options.formToken(), text.actions.resume));
  }
  const body = html`<p><a href="/portal">${text.allSubscriptions}</a></p>
${options.flash === null ? null : html`<p class="notice" role="status">${options.flash}</p>`}
<h1>${item.plan.name}</h1>
${problem}
<section class="card">
${subscriptionFacts(text, item)}
${actions.length === 0 ? null : html`<div class="actions">${actions}</div>`}
</section>
<h2>${text.invoices.title}</h2>
${invoiceTable(text, invoices)}`;
  return portalPage(text, item.plan.name, body, layout, options.refresh === undefined ? {} : { refresh: options.refresh });
}
