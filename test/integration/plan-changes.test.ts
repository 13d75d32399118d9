import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, samplePlan, startHarness, subscribeWithCard, API_KEY, type Harness } from "../support/harness.ts";

// Plan changes, cancel and resume, on the test clock against the simulator over HTTP.
describe("plan changes, cancel and resume", () => {
  let h: Harness;
  let n = 0;
  const thirtyDays = { ...samplePlan, interval: "day", intervalCount: 30 } as const;
  beforeAll(async () => {
    h = await startHarness({ env: { BILLING_TEST_CLOCK: "1", RENEWAL_SWEEP_INTERVAL: "1h" } });
    await h.api("PUT", "/v1/plans/basic", { ...thirtyDays, name: "Basic", amount: 300 });
    await h.api("PUT", "/v1/plans/plus", { ...thirtyDays, name: "Plus", amount: 600 });
    await h.api("PUT", "/v1/plans/yearly", { ...samplePlan, name: "Yearly", interval: "year", amount: 6000 });
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (path: string, body: unknown, key: string | null = randomUUID()) =>
    h.service.app!.inject({ method: "POST", url: path, headers: { authorization: `Bearer ${API_KEY}`, ...(key === null ? {} : { "idempotency-key": key }) }, payload: body as object });
  const advance = (by: string) => h.api("POST", "/v1/test-clock/advance", { by });
  const chargesOf = (invoiceIds: string[]) => h.simulator.ledger.successfulCharges().filter((c) => invoiceIds.some((id) => c.orderId.startsWith(`${id}-`)));
  const invoicesOf = async (id: string) => (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data as Array<{ id: string; status: string; amount: number }>;
  const row = (id: string) => h.database.db.selectFrom("subscriptions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  async function paidSubscription(planId: string) {
    const subscription = await subscribeWithCard(h, planId, `cus_${n++}`);
    await eventually(async () => (await invoicesOf(subscription.id))[0]?.status === "paid", 10_000, "the first invoice paid");
    return subscription.id;
  }

  it("an upgrade halfway through a 30-day period from 300 to 600 TWD charges 150 at once, and the next renewal 600", async () => {
    const id = await paidSubscription("basic");
    await advance("15d");
    const changed = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "plus" });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ subscription: { planId: "plus", status: "active" }, prorationInvoice: { amount: 150, status: "paid" } });
    await advance("16d");
    await eventually(async () => (await invoicesOf(id)).filter((i) => i.status === "paid").length === 3, 10_000, "the renewal paid");
    const invoices = await invoicesOf(id);
    expect(chargesOf(invoices.map((i) => i.id)).map((c) => c.amount).sort((a, b) => a - b)).toEqual([150, 300, 600]);
    const events = await h.database.db.selectFrom("platform_events").select("data").where("type", "=", "subscription.plan_changed").execute();
    expect(events.map((e) => e.data)).toContainEqual(expect.objectContaining({ subscriptionId: id, oldPlanId: "basic", newPlanId: "plus" }));
  });

  it("a downgrade waits for the period end, then the renewal bills the new plan", async () => {
    const id = await paidSubscription("plus");
    const scheduled = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "basic" });
    expect(scheduled.statusCode).toBe(200);
    expect(scheduled.json()).toMatchObject({ subscription: { planId: "plus" }, prorationInvoice: null });
    expect(await row(id)).toMatchObject({ plan_id: "plus", pending_plan_id: "basic" });
    await advance("31d");
    await eventually(async () => (await invoicesOf(id)).filter((i) => i.status === "paid").length === 2, 10_000, "the renewal paid");
    expect((await invoicesOf(id)).map((i) => i.amount)).toEqual([300, 600]);
    expect(await row(id)).toMatchObject({ plan_id: "basic", pending_plan_id: null });
  });

  it("a declined proration leaves the old plan and says why", async () => {
    const id = await paidSubscription("basic");
    const [first] = await invoicesOf(id);
    const { token } = h.simulator.ledger.byOrder(`${first!.id}-1`)[0]!;
    h.simulator.reprogramCard(token, { declines: 1, declineCode: "T0004" });
    const declined = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "plus" });
    expect(declined.statusCode).toBe(402);
    expect(declined.json()).toMatchObject({ error: "proration_declined", declineCode: "T0004", prorationInvoice: { status: "void" } });
    expect(declined.json().message).toMatch(/T0004/);
    expect(await row(id)).toMatchObject({ plan_id: "basic", status: "active" });
    // Not dunned: the subscription is not past_due and no notice went out about it.
    expect(await h.database.db.selectFrom("notices").select("kind").where("subscription_id", "=", id).execute()).toEqual([]);
  });

  it("Oen's answer to the proration lost: 202, no other plan change until it is settled, then the plan switches as the lookup finds it paid", async () => {
    const id = await paidSubscription("basic");
    h.simulator.faults.set([{ on: "charge", kind: "gateway_timeout_after_charge", times: 1 }]);
    const pending = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "plus" });
    expect(pending.statusCode).toBe(202);
    expect(pending.json()).toMatchObject({ subscription: { planId: "basic" }, prorationInvoice: { status: "open" } });
    const meanwhile = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "plus", prorate: false });
    expect(meanwhile.statusCode).toBe(409);
    expect(meanwhile.json()).toMatchObject({ error: "plan_change_in_progress" });
    await eventually(async () => (await row(id)).plan_id === "plus", 20_000, "the lookup to settle the proration");
    expect((await invoicesOf(id)).find((i) => i.id === pending.json().prorationInvoice.id)).toMatchObject({ status: "paid" });
  });

  it("refuses a plan of another interval with a 422 naming the field, and an unknown plan", async () => {
    const id = await paidSubscription("basic");
    const other = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "yearly" });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ error: "interval_mismatch", message: expect.stringMatching(/^planId: /) });
    expect((await post(`/v1/subscriptions/${id}/plan-change`, { planId: "nope" })).statusCode).toBe(422);
    expect((await post(`/v1/subscriptions/sub_missing/plan-change`, { planId: "plus" })).statusCode).toBe(404);
  });

  it("requires an Idempotency-Key, and the same key twice is one change and one charge", async () => {
    const id = await paidSubscription("basic");
    const missing = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "plus" }, null);
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: "idempotency_key_required" });
    expect((await post(`/v1/subscriptions/${id}/resume`, {}, null)).statusCode).toBe(400);

    const key = randomUUID();
    const first = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "plus" }, key);
    const again = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "plus" }, key);
    expect(again.statusCode).toBe(first.statusCode);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual(first.json());
    expect((await invoicesOf(id)).length).toBe(2);
    const reused = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "basic" }, key);
    expect(reused.statusCode).toBe(422);
  });

  async function upgradedHalfway() {
    const id = await paidSubscription("basic");
    await advance("15d");
    expect((await post(`/v1/subscriptions/${id}/plan-change`, { planId: "plus" })).json()).toMatchObject({ prorationInvoice: { amount: 150, status: "paid" } });
    return id;
  }
  const refundedAtOen = (id: string) =>
    eventually(
      async () => {
        const hids = new Set(chargesOf((await invoicesOf(id)).map((i) => i.id)).map((c) => c.id));
        const refunds = h.simulator.ledger.refunds().filter((r) => hids.has(r.transactionHid));
        return refunds.length === 2 && refunds.map((r) => r.amount).sort((a, b) => a - b);
      },
      10_000,
      "both refunds at Oen",
    );

  it("terminate after an upgrade refunds the unused part of the period's renewal and of its proration, each on its own transaction", async () => {
    const id = await upgradedHalfway();
    await advance("5d");
    const terminated = await post(`/v1/subscriptions/${id}/terminate`, { refund: "prorated" });
    expect(terminated.statusCode).toBe(200);
    // 10 of 30 days left: a third of the renewal's 300, and two thirds of the proration's 150
    // (its own 15 days): a third of the 600 the period now costs.
    const [renewal, proration] = (await invoicesOf(id)).filter((i) => i.status === "paid").sort((a, b) => b.amount - a.amount);
    expect(terminated.json()).toMatchObject({ refund: { invoiceId: renewal!.id, amount: 100 } });
    expect(terminated.json().refunds.map((r: { invoiceId: string; amount: number }) => [r.invoiceId, r.amount])).toEqual([
      [renewal!.id, 100],
      [proration!.id, 100],
    ]);
    expect(await refundedAtOen(id)).toEqual([100, 100]);
    const event = await h.database.db.selectFrom("platform_events").select("data").where("dedupe_key", "=", `subscription.terminated:${id}`).executeTakeFirstOrThrow();
    // refundId and refundAmount name the renewal's refund, as the answer's `refund` does.
    expect(event.data).toMatchObject({ refund: "prorated", refundId: terminated.json().refund.id, refundAmount: 100, refundIds: terminated.json().refunds.map((r: { id: string }) => r.id), refundTotal: 200 });
  });

  it("terminate after an upgrade paid while the period's renewal is held for ops (K0001) refunds the unused part of that proration", async () => {
    const id = await paidSubscription("basic");
    const [first] = await invoicesOf(id);
    h.simulator.reprogramCard(h.simulator.ledger.byOrder(`${first!.id}-1`)[0]!.token, { declines: 1, declineCode: "K0001" });
    await advance("30d");
    const renewalHeld = async () => (await h.database.db.selectFrom("invoices").select("attention_code").where("subscription_id", "=", id).where("cycle", "=", 2).where("kind", "=", "renewal").executeTakeFirst())?.attention_code === "K0001";
    await eventually(renewalHeld, 10_000, "cycle 2's renewal held for K0001");
    await advance("12h");
    const changed = await post(`/v1/subscriptions/${id}/plan-change`, { planId: "plus" });
    expect(changed.json()).toMatchObject({ prorationInvoice: { status: "paid" } });
    const proration = changed.json().prorationInvoice as { id: string; amount: number };
    await advance("6h");
    const terminated = await post(`/v1/subscriptions/${id}/terminate`, { refund: "prorated" });
    expect(terminated.statusCode).toBe(200);
    // Cycle 1's period is over; cycle 2's renewal was never paid and is voided: the proration is what the customer paid for now.
    expect(terminated.json()).toMatchObject({ refund: null, refunds: [{ invoiceId: proration.id }] });
    const [refund] = terminated.json().refunds as Array<{ amount: number }>;
    expect(refund!.amount).toBeGreaterThan(0);
    expect(refund!.amount).toBeLessThan(proration.amount);
  });

  it("terminate with a full refund after an upgrade refunds both charges of the period", async () => {
    const id = await upgradedHalfway();
    const terminated = await post(`/v1/subscriptions/${id}/terminate`, { refund: "full" });
    expect(terminated.json().refunds.map((r: { amount: number }) => r.amount)).toEqual([300, 150]);
    expect(await refundedAtOen(id)).toEqual([150, 300]);
  });

  it("a scheduled cancel, then resume: the subscription renews; after the period ended, resume is 409", async () => {
    const id = await paidSubscription("basic");
    expect((await h.api("POST", `/v1/subscriptions/${id}/cancel`, { atPeriodEnd: true })).json()).toMatchObject({ cancelAtPeriodEnd: true });
    const resumed = await post(`/v1/subscriptions/${id}/resume`, {});
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json()).toMatchObject({ status: "active", cancelAtPeriodEnd: false, canceledAt: null });
    await advance("31d");
    await eventually(async () => (await invoicesOf(id)).filter((i) => i.status === "paid").length === 2, 10_000, "the renewal paid");

    const leaving = await paidSubscription("basic");
    await h.api("POST", `/v1/subscriptions/${leaving}/cancel`, { atPeriodEnd: true });
    await advance("31d");
    expect((await row(leaving)).status).toBe("canceled");
    const late = await post(`/v1/subscriptions/${leaving}/resume`, {});
    expect(late.statusCode).toBe(409);
    expect(late.json().message).toMatch(/can no longer be resumed/);
  });
});
