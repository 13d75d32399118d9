import { describe, expect, it } from "vitest";
import { formIdempotencyKey, isFormTokenOf, issueFormToken } from "../../src/portal/form-token.ts";
import { html } from "../../src/portal/html.ts";
import { invoiceInfoFormValues, invoiceInfoFromForm } from "../../src/portal/invoice-info-form.ts";
import { planSwitchPreview } from "../../src/portal/plan-switch-preview.ts";

const SESSION = "a".repeat(43);
const blank = { kind: "none", carrierId: "", buyerIdentifier: "", buyerName: "", email: "" };

describe("form tokens", () => {
  it("are one per form, valid only for the session that got them, and give each form its own idempotency key", () => {
    const [first, second] = [issueFormToken(SESSION), issueFormToken(SESSION)];
    expect(first).not.toBe(second);
    expect(isFormTokenOf(SESSION, first)).toBe(true);
    expect(isFormTokenOf("b".repeat(43), first)).toBe(false);
    for (const bad of [undefined, "", `${first}x`, first.replace(/.$/, (c) => (c === "A" ? "B" : "A")), ["array"]]) expect(isFormTokenOf(SESSION, bad)).toBe(false);
    expect(formIdempotencyKey(first)).toBe(formIdempotencyKey(first));
    expect(formIdempotencyKey(first)).not.toBe(formIdempotencyKey(second));
    expect(formIdempotencyKey(first)).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe("the e-invoice form", () => {
  it("turns each kind into the details the API stores, checked the same way", () => {
    expect(invoiceInfoFromForm(blank)).toEqual({ ok: true, value: null });
    expect(invoiceInfoFromForm({ ...blank, kind: "member", carrierId: "ignored" })).toEqual({ ok: true, value: { invoiceType: "cloud", carrierType: "" } });
    expect(invoiceInfoFromForm({ ...blank, kind: "mobile", carrierId: " /abc.123 ", email: "a@example.com" })).toEqual({ ok: true, value: { invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC.123", email: "a@example.com" } });
    expect(invoiceInfoFromForm({ ...blank, kind: "citizen", carrierId: "AB12345678901234" })).toMatchObject({ ok: true });
    expect(invoiceInfoFromForm({ ...blank, kind: "company", buyerIdentifier: "04595257", buyerName: "", carrierId: "/ignored" })).toEqual({ ok: true, value: { invoiceType: "company", buyerIdentifier: "04595257" } });
  });

  it("names the field a mistake is in", () => {
    expect(invoiceInfoFromForm({ ...blank, kind: "paper" })).toEqual({ ok: false, field: "kind" });
    expect(invoiceInfoFromForm({ ...blank, kind: "mobile", carrierId: "/ab" })).toEqual({ ok: false, field: "carrierId" });
    expect(invoiceInfoFromForm({ ...blank, kind: "mobile" })).toEqual({ ok: false, field: "carrierId" });
    expect(invoiceInfoFromForm({ ...blank, kind: "company", buyerIdentifier: "12345678" })).toEqual({ ok: false, field: "buyerIdentifier" });
    expect(invoiceInfoFromForm({ ...blank, kind: "company", buyerIdentifier: "04595257", buyerName: "x".repeat(61) })).toEqual({ ok: false, field: "buyerName" });
    expect(invoiceInfoFromForm({ ...blank, kind: "member", email: "nope" })).toEqual({ ok: false, field: "email" });
  });

  it("shows stored details back for editing", () => {
    expect(invoiceInfoFormValues({ invoiceType: "company", buyerIdentifier: "04595257", buyerName: "Example" })).toEqual({ ...blank, kind: "company", buyerIdentifier: "04595257", buyerName: "Example" });
    expect(invoiceInfoFormValues(null)).toEqual(blank);
  });
});

describe("the plan switch preview", () => {
  const period = { current_period_start: new Date("2026-12-01T00:00:00Z"), current_period_end: new Date("2026-12-31T00:00:00Z") };
  it("an upgrade charges the prorated difference now, a downgrade waits for the period end, a trial switches free", () => {
    expect(planSwitchPreview({ status: "active", ...period }, { amount: 300 }, { amount: 600 }, new Date("2026-12-16T00:00:00Z"))).toEqual({ kind: "now", amount: 150 });
    expect(planSwitchPreview({ status: "active", ...period }, { amount: 600 }, { amount: 300 }, new Date("2026-12-16T00:00:00Z"))).toEqual({ kind: "period_end", at: period.current_period_end });
    expect(planSwitchPreview({ status: "trialing", ...period }, { amount: 300 }, { amount: 600 }, new Date("2026-12-16T00:00:00Z"))).toEqual({ kind: "now", amount: 0 });
  });
});

describe("html", () => {
  it("escapes every interpolated value, joins arrays, drops null and false", () => {
    const name = `<script>alert("x")</script>`;
    expect(html`<p title="${name}">${[name, null, false, 3]}</p>`.markup).toBe(`<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;3</p>`);
    expect(html`<div>${html`<b>${"&"}</b>`}</div>`.markup).toBe("<div><b>&amp;</b></div>");
  });
});
