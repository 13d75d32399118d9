import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { periodBounds } from "../../src/billing/periods.ts";
import { eventually, samplePlan, sampleSubscription, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

describe("a year of monthly renewals on the test clock", () => {
  let h: Harness;
  beforeAll(async () => {
    // The scheduler's own tick is slow here: every renewal comes from /v1/test-clock/advance.
    h = await startHarness({ env: { BILLING_TEST_CLOCK: "1", RENEWAL_SWEEP_INTERVAL: "1h" } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const paidInvoices = async (subscriptionId: string) =>
    (await h.api("GET", `/v1/subscriptions/${subscriptionId}/invoices`)).json().data.filter((i: { status: string }) => i.status === "paid");

  it("charges 12 periods, each once, with periods computed from the anchor", async () => {
    await h.api("PUT", "/v1/plans/monthly", samplePlan);
    const subscription = await subscribeWithCard(h, "monthly", "cus_1");
    await eventually(async () => (await paidInvoices(subscription.id)).length === 1);

    for (let month = 2; month <= 12; month++) {
      const advanced = await h.api("POST", "/v1/test-clock/advance", { by: "32d" });
      expect(advanced.statusCode).toBe(200);
      expect(advanced.json().sweep.renewed).toBe(1);
      await eventually(async () => (await paidInvoices(subscription.id)).length === month, 20_000, `invoice ${month} paid`);
    }

    const invoices = (await paidInvoices(subscription.id)).reverse();
    const row = await h.database.db.selectFrom("subscriptions").selectAll().where("id", "=", subscription.id).executeTakeFirstOrThrow();
    expect(invoices.map((i: { cycle: number }) => i.cycle)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    invoices.forEach((invoice: { periodStart: string; periodEnd: string; amount: number }, index: number) => {
      const expected = periodBounds(row.billing_anchor!, { interval: "month", intervalCount: 1 }, index, "Asia/Taipei");
      expect(invoice).toMatchObject({ amount: 899, periodStart: expected.start.toISOString(), periodEnd: expected.end.toISOString() });
    });
    // Consecutive periods: no gap, no overlap.
    for (let i = 1; i < invoices.length; i++) expect(invoices[i].periodStart).toBe(invoices[i - 1].periodEnd);

    const charges = h.simulator.ledger.successfulCharges();
    expect(charges).toHaveLength(12);
    expect(charges.every((c) => c.amount === 899)).toBe(true);
    expect(new Set(charges.map((c) => c.orderId)).size).toBe(12);
    const view = (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json();
    expect(view).toMatchObject({ status: "active", currentCycle: 12 });
  });

  it("cancel at period end stops renewals when the period ends", async () => {
    const subscription = await subscribeWithCard(h, "monthly", "cus_leaving", { email: "a@example.com" });
    await eventually(async () => (await paidInvoices(subscription.id)).length === 1);
    const canceled = (await h.api("POST", `/v1/subscriptions/${subscription.id}/cancel`, { atPeriodEnd: true })).json();
    expect(canceled).toMatchObject({ status: "active", cancelAtPeriodEnd: true });
    await h.api("POST", "/v1/test-clock/advance", { by: "32d" });
    const ended = (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json();
    expect(ended).toMatchObject({ status: "canceled", endedAt: canceled.currentPeriodEnd });
    expect(await paidInvoices(subscription.id)).toHaveLength(1);
  });

  it("an incomplete subscription expires once its page cannot bring a card anymore", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("monthly", "cus_never"))).json();
    await h.api("POST", "/v1/test-clock/advance", { by: "30m" });
    expect((await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().status).toBe("incomplete_expired");
  });
});
