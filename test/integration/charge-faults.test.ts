import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultPlan } from "../../src/oen/simulator/index.ts";
import { eventually, samplePlan, sampleSubscription, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { checkoutIdOf } from "../support/webhook-capture.ts";

// Invariant 1, one fault at a time: whatever Oen's answer (or silence), the
// period is paid exactly once, and nothing is resent before a lookup proves
// the earlier attempt never happened.
describe("charging when Oen misbehaves", () => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await startHarness({ env: { OEN_REQUEST_TIMEOUT: "2s", RENEWAL_SWEEP_INTERVAL: "1s" } });
    await h.api("PUT", "/v1/plans/faulty", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function subscribeUnder(faults: FaultPlan) {
    h.simulator.faults.set(faults);
    const subscription = await subscribeWithCard(h, "faulty", `cus_${n++}`, { email: "f@example.com" });
    const view = await eventually(async () => {
      const current = (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json();
      return current.latestInvoice?.status === "paid" && current;
    }, 30_000, "the invoice to be paid");
    h.simulator.faults.clear();
    const invoices = (await h.api("GET", `/v1/subscriptions/${subscription.id}/invoices`)).json().data;
    return { invoiceId: view.latestInvoice.id as string, attempts: invoices[0].attempts as Array<{ outcome: string; code: string | null }> };
  }

  it.each([
    ["504 after the charge was made", "gateway_timeout_after_charge", ["succeeded"]],
    ["409 C026 after the charge was made", "c026_after_charge", ["succeeded"]],
    ["a connection dropped after the charge was made", "drop_after_charge", ["succeeded"]],
    ["500 F0001 before anything was recorded", "error_5xx", ["not_found", "succeeded"]],
    ["504 before anything was recorded", "gateway_timeout", ["not_found", "succeeded"]],
    ["a connection dropped before anything was recorded", "drop", ["not_found", "succeeded"]],
    ["a 502 HTML page", "bad_gateway", ["not_found", "succeeded"]],
  ] as const)("%s: charged once, resolved by order lookup", async (_what, kind, outcomes) => {
    const { invoiceId, attempts } = await subscribeUnder([{ on: "charge", kind, times: 1 }]);
    expect(h.simulator.ledger.successfulCharges(`${invoiceId}-`)).toHaveLength(1);
    expect(attempts.map((a) => a.outcome)).toEqual(outcomes);
  });

  it("an answer slower than our timeout: the charge happened, lookup finds it", async () => {
    const { invoiceId, attempts } = await subscribeUnder([{ on: "charge", kind: "latency", latencyMs: 3_000, times: 1 }]);
    expect(h.simulator.ledger.successfulCharges(`${invoiceId}-`)).toHaveLength(1);
    expect(attempts.map((a) => a.outcome)).toEqual(["succeeded"]);
  });

  it("order lookups failing or slow while the outcome is unknown: waits, never resends", async () => {
    const { invoiceId, attempts } = await subscribeUnder([
      { on: "charge", kind: "gateway_timeout_after_charge", times: 1 },
      { on: "lookup", kind: "lookup_5xx", times: 4 },
      { on: "lookup", kind: "slow_lookup", latencyMs: 500, times: 2 },
    ]);
    expect(h.simulator.ledger.successfulCharges(`${invoiceId}-`)).toHaveLength(1);
    expect(h.simulator.ledger.all().filter((t) => t.orderId.startsWith(`${invoiceId}-`))).toHaveLength(1);
    expect(attempts.map((a) => a.outcome)).toEqual(["succeeded"]);
  });

  async function heldInvoice(code: string) {
    const attempt = await eventually(() => h.database.db.selectFrom("charge_attempts").selectAll().where("status", "=", "failed").where("code", "=", code).executeTakeFirst());
    const invoice = await eventually(async () => {
      const row = await h.database.db.selectFrom("invoices").selectAll().where("id", "=", attempt.invoice_id).executeTakeFirstOrThrow();
      return row.attention_code !== null && row;
    });
    return { attempt, invoice };
  }

  async function expectHeldForOps(invoice: { id: string; subscription_id: string; status: string; attention_code: string | null; next_attempt_at: Date | null }, code: string) {
    expect(invoice).toMatchObject({ status: "open", attention_code: code });
    // Not hourly for ever: once a day until ops fix it.
    expect(invoice.next_attempt_at!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const events = await h.database.db.selectFrom("platform_events").select("type").where("dedupe_key", "like", `%${invoice.id}%`).execute();
    expect(events.map((e) => e.type)).toContain("invoice.needs_attention");
    expect(events.map((e) => e.type)).not.toContain("invoice.payment_failed");
    // The customer is never dunned for it.
    const subscription = await h.database.db.selectFrom("subscriptions").select("status").where("id", "=", invoice.subscription_id).executeTakeFirstOrThrow();
    expect(subscription.status).toBe("active");
    expect(await h.database.db.selectFrom("notices").select("kind").where("subscription_id", "=", invoice.subscription_id).execute()).toEqual([]);
    expect(h.simulator.ledger.successfulCharges(`${invoice.id}-`)).toHaveLength(0);
  }

  it("a configuration error (V0003: high value not activated) holds the invoice for ops, retried daily, never dunned", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("faulty", "cus_config"))).json();
    // Oen refuses 200,000 TWD and above unless the merchant activated high-value charges.
    await h.database.db.updateTable("plans").set({ amount: 250_000 }).where("id", "=", "faulty").execute();
    try {
      h.simulator.bindCard(checkoutIdOf(subscription.checkoutUrl), { cardNumber: "4242424242424242", expiry: "12/39", cvc: "123", email: "f@example.com" });
      const { attempt, invoice } = await heldInvoice("V0003");
      expect(attempt.amount).toBe(250_000);
      await expectHeldForOps(invoice, "V0003");
    } finally {
      await h.database.db.updateTable("plans").set({ amount: samplePlan.amount }).where("id", "=", "faulty").execute();
    }
  });

  it("K0001 (Oen's risk control refusing the merchant) is held for ops like a configuration error, not dunned as a card decline", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("faulty", "cus_risk"))).json();
    h.simulator.bindCard(checkoutIdOf(subscription.checkoutUrl), { cardNumber: "4000000000000009", expiry: "12/39", cvc: "123", email: "f@example.com" });
    const { invoice } = await heldInvoice("K0001");
    await expectHeldForOps(invoice, "K0001");
  });
});
