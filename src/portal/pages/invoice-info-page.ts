import { html } from "../html.ts";
import { INVOICE_INFO_KINDS, type InvoiceInfoFormField, type InvoiceInfoFormValues } from "../invoice-info-form.ts";
import { portalPage, type LayoutSession } from "../portal-layout.ts";
import type { PortalText } from "../portal-text.ts";

/** GET /portal/invoice-info: the e-invoice details, one form for every kind (no script shows or hides fields). */
export function invoiceInfoPage(text: PortalText, layout: LayoutSession, values: InvoiceInfoFormValues, formToken: string, error: InvoiceInfoFormField | null): string {
  const t = text.invoiceInfo;
  const errorOf = (field: InvoiceInfoFormField) => (error === field ? html`<p class="error" id="error-${field}" role="alert">${t.errors[field]}</p>` : null);
  const input = (name: "carrierId" | "buyerIdentifier" | "buyerName" | "email", label: string, type = "text") =>
    html`<label for="${name}">${label}</label><input type="${type}" id="${name}" name="${name}" value="${values[name]}"${error === name ? html` aria-invalid="true" aria-describedby="error-${name}"` : null}>${errorOf(name)}`;
  const body = html`<p><a href="/portal">${text.allSubscriptions}</a></p>
<h1>${t.title}</h1>
<p>${t.intro}</p>
<form method="post" action="/portal/invoice-info" class="card">
<input type="hidden" name="csrf" value="${formToken}">
<label for="kind">${t.kind}</label>
<select id="kind" name="kind">${INVOICE_INFO_KINDS.map((kind) => html`<option value="${kind}"${values.kind === kind ? html` selected` : null}>${t.kinds[kind]}</option>`)}</select>
${errorOf("kind")}
${input("carrierId", t.carrierId)}
<p class="hint">${t.carrierHint}</p>
${input("buyerIdentifier", t.buyerIdentifier)}
${input("buyerName", t.buyerName)}
${input("email", t.email, "email")}
<div class="actions"><button type="submit">${t.save}</button></div>
</form>`;
  return portalPage(text, t.title, body, layout);
}
