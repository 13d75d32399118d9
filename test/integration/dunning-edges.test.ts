import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { periodBounds } from "../../src/billing/periods.ts";
import { chargeInvoice } from "../../src/charges/charge-invoice.ts";
import { TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { bindCardThroughPage } from "../support/hosted-page.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

// The edges of dunning: cancellations racing it, and a subscription that
// comes back after months as `unpaid` (final state `unpaid` here).
describe("dunning edges", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { BILLING_TEST_CLOCK: "1", DUNNING_FINAL_STATE: "unpaid", DUNNING_JITTER: "0", RENEWAL_SWEEP_INTERVAL: "1h", OEN_REQUEST_TIMEOUT: "5s", RENEWAL_REMINDER_BEFORE: "3d" },
    });
    await h.api("PUT", "/v1/plans/edge", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  const subscription = async (id: string) => h.database.db.selectFrom("subscriptions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const invoicesOf = async (id: string) => h.database.db.selectFrom("invoices").selectAll().where("subscription_id", "=", id).orderBy("cycle").execute();
  const eventTypes = async (id: string) =>
    (await h.database.db.selectFrom("platform_events").select(["type", "data"]).execute())
      .filter((e) => e.data.subscriptionId === id)
      .map((e) => e.type);

  it("a decline that lands after the platform canceled changes nothing: still canceled, invoice void, no dunning", async () => {
    h.simulator.faults.set([{ on: "charge", kind: "latency", latencyMs: 1_500, times: 1 }]);
    const { id } = await subscribeWithCard(h, "edge", "cus_race", { number: TEST_CARDS.declineInsufficientCredit });
    await eventually(async () => {
      const [invoice] = await invoicesOf(id);
      return invoice !== undefined && h.simulator.ledger.byOrder(`${invoice.id}-1`).length === 1;
    }, 10_000, "the charge to reach Oen");
    expect((await h.api("POST", `/v1/subscriptions/${id}/cancel`, { atPeriodEnd: false })).statusCode).toBe(200);
    await eventually(async () => (await h.database.db.selectFrom("charge_attempts").select("status").execute()).some((a) => a.status === "declined"));
    h.simulator.faults.clear();
    expect((await subscription(id)).status).toBe("canceled");
    const [invoice] = await invoicesOf(id);
    expect(invoice).toMatchObject({ status: "void", next_attempt_at: null, first_failed_at: null });
    expect(await eventTypes(id)).not.toContain("invoice.payment_failed");
    expect(await h.database.db.selectFrom("notices").select("kind").where("subscription_id", "=", id).execute()).toEqual([]);
  });

  it("cancel at period end while waiting for a new card: ends at the period end, and the card deadline cannot revive it", async () => {
    // Daily periods: the period ends (day 1) before the new-card deadline (day 7).
    await h.api("PUT", "/v1/plans/edge-daily", { ...samplePlan, interval: "day" });
    const { id } = await subscribeWithCard(h, "edge-daily", "cus_leaving", { number: TEST_CARDS.declineExpired });
    await eventually(async () => (await invoicesOf(id))[0]?.dunning_deadline_at != null, 10_000, "waiting for a new card");
    await h.api("POST", `/v1/subscriptions/${id}/cancel`, { atPeriodEnd: true });
    await h.api("POST", "/v1/test-clock/advance", { by: "1d" });
    expect((await subscription(id)).status).toBe("canceled");
    await h.api("POST", "/v1/test-clock/advance", { by: "7d" }); // past the deadline
    expect((await subscription(id)).status).toBe("canceled");
    expect((await invoicesOf(id)).map((i) => i.status)).toEqual(["void"]);
    const card = await h.api("POST", `/v1/subscriptions/${id}/payment-method`, { successUrl: "https://x.example/ok", failureUrl: "https://x.example/no" });
    expect(card.statusCode).toBe(409);
    expect(await eventTypes(id)).not.toContain("subscription.unpaid");
  });

  it("back from `unpaid` months later: the old invoice is paid, missed periods are skipped, the current one billed once", async () => {
    const { id } = await subscribeWithCard(h, "edge", "cus_back", { number: TEST_CARDS.declineExpired, email: "back@example.com" });
    await eventually(async () => (await invoicesOf(id))[0]?.dunning_deadline_at != null, 10_000, "waiting for a new card");
    await h.api("POST", "/v1/test-clock/advance", { by: "8d" });
    expect((await subscription(id)).status).toBe("unpaid");
    expect(await eventTypes(id)).toContain("subscription.unpaid");
    await h.api("POST", "/v1/test-clock/advance", { by: "100d" }); // three more periods go by, unbilled
    expect(await invoicesOf(id)).toHaveLength(1);

    const { checkoutUrl } = (await h.api("POST", `/v1/subscriptions/${id}/payment-method`, { successUrl: "https://x.example/ok", failureUrl: "https://x.example/no" })).json();
    expect((await bindCardThroughPage(checkoutUrl, { number: TEST_CARDS.success, email: "back@example.com" })).status).toBe(303);
    await eventually(async () => (await invoicesOf(id))[0]?.status === "paid", 10_000, "the old invoice paid with the new card");
    const back = await subscription(id);
    expect(back.status).toBe("active");
    await h.api("POST", "/v1/test-clock/advance", { by: "1s" }); // a sweep
    const invoices = await eventually(async () => {
      const all = await invoicesOf(id);
      return all.length === 2 && all[1]!.status === "paid" && all;
    }, 10_000, "the current period billed");
    const now = new Date((await h.api("GET", "/v1/test-clock")).json().now);
    expect(invoices[1]!.cycle).toBeGreaterThan(2);
    expect(invoices[1]!.period_start.getTime()).toBeLessThanOrEqual(now.getTime());
    expect(invoices[1]!.period_end.getTime()).toBeGreaterThan(now.getTime());
    expect(h.simulator.ledger.successfulCharges().filter((c) => invoices.some((i) => c.orderId.startsWith(`${i.id}-`)))).toHaveLength(2);
  });

  it("a card that had 15 attempts in 30 days is not tried again until the oldest leaves the window", async () => {
    const { id } = await subscribeWithCard(h, "edge", "cus_budget");
    const [first] = await eventually(async () => {
      const invoices = await invoicesOf(id);
      return invoices[0]?.status === "paid" && invoices;
    });
    const attempt = await h.database.db.selectFrom("charge_attempts").selectAll().where("invoice_id", "=", first!.id).executeTakeFirstOrThrow();
    // 14 more attempts on the same card (made by other invoices, say) make 15 in the window.
    await h.database.db
      .insertInto("charge_attempts")
      .values(Array.from({ length: 14 }, (_, i) => ({ ...attempt, id: `ca_budget_${i}`, attempt_no: i + 2, order_id: `${first!.id}-${i + 2}`, status: "declined" as const })))
      .execute();
    const now = h.service.deps.clock.now();
    const invoice = await h.database.db
      .insertInto("invoices")
      .values({ id: "in_budget_2", subscription_id: id, cycle: 2, status: "open", amount: 899, product_details: JSON.stringify(first!.product_details), period_start: first!.period_end, period_end: new Date(first!.period_end.getTime() + 86_400_000), next_attempt_at: now, first_failed_at: null, paid_at: null, created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    const result = await chargeInvoice(h.service.deps, invoice.id);
    expect(result.kind).toBe("not_due");
    const waitsMs = (result as { at: Date }).at.getTime() - now.getTime();
    expect(waitsMs).toBeGreaterThan(29 * 86_400_000);
    expect(waitsMs).toBeLessThanOrEqual(30 * 86_400_000);
    expect(h.simulator.ledger.byOrder("in_budget_2-1")).toEqual([]);
    // On the billing calendar: once the test clock has moved a month, the card may be tried again.
    await h.api("POST", "/v1/test-clock/advance", { by: "31d" });
    await eventually(async () => (await h.database.db.selectFrom("invoices").select("status").where("id", "=", invoice.id).executeTakeFirstOrThrow()).status === "paid", 10_000, "the charge after the window");
  });

  it("a renewal declined, then paid on the first retry: active again, periods still from the original anchor", async () => {
    const { id } = await subscribeWithCard(h, "edge", "cus_renewal");
    const [first] = await eventually(async () => {
      const invoices = await invoicesOf(id);
      return invoices[0]?.status === "paid" && invoices;
    });
    const { token } = h.simulator.ledger.byOrder(`${first!.id}-1`)[0]!;
    h.simulator.reprogramCard(token, { declines: 1, declineCode: "T0004" }); // the card runs out of credit

    await h.api("POST", "/v1/test-clock/advance", { by: "32d" });
    await eventually(async () => (await subscription(id)).status === "past_due", 10_000, "the renewal declined");
    await h.api("POST", "/v1/test-clock/advance", { by: "2d" }); // past the first retry (1d)
    await eventually(async () => (await invoicesOf(id))[1]?.status === "paid", 10_000, "the retry paid");

    const row = await subscription(id);
    const second = periodBounds(row.billing_anchor!, { interval: "month", intervalCount: 1 }, 1, "Asia/Taipei");
    expect(row).toMatchObject({ status: "active", current_cycle: 2, current_period_start: second.start, current_period_end: second.end, next_renewal_at: second.end });
    const renewal = (await invoicesOf(id))[1]!;
    expect(renewal).toMatchObject({ cycle: 2, period_start: second.start, period_end: second.end });
    const attempts = await h.database.db.selectFrom("charge_attempts").select(["status", "code"]).where("invoice_id", "=", renewal.id).orderBy("attempt_no").execute();
    expect(attempts).toEqual([
      { status: "declined", code: "T0004" },
      { status: "succeeded", code: null },
    ]);
    const notices = await h.database.db.selectFrom("notices").select(["cycle", "kind", "status"]).where("subscription_id", "=", id).execute();
    expect(notices).toContainEqual({ cycle: 2, kind: "payment_failed", status: "outbox" }); // no SMTP_URL here: kept and logged
    expect(await eventTypes(id)).toEqual(expect.arrayContaining(["invoice.payment_failed", "subscription.past_due", "invoice.paid"]));
  });

  it("reminds of a renewal RENEWAL_REMINDER_BEFORE ahead, once per cycle", async () => {
    const { id } = await subscribeWithCard(h, "edge", "cus_reminded");
    await eventually(async () => (await invoicesOf(id))[0]?.status === "paid");
    const reminders = () => h.database.db.selectFrom("notices").select(["cycle", "text_body"]).where("subscription_id", "=", id).where("kind", "=", "renewal_reminder").execute();
    await h.api("POST", "/v1/test-clock/advance", { by: "20d" });
    expect(await reminders()).toEqual([]);
    const renewsAt = (await subscription(id)).next_renewal_at!;
    const now = new Date((await h.api("GET", "/v1/test-clock")).json().now);
    await h.api("POST", "/v1/test-clock/advance", { by: `${Math.ceil((renewsAt.getTime() - now.getTime()) / 3_600_000) - 48}h` }); // two days before
    await h.api("POST", "/v1/test-clock/advance", { by: "1h" });
    const sent = await reminders();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.cycle).toBe(2);
    // Rendered, with its signed link, when the worker takes it (here: kept in the outbox).
    await eventually(async () => (await reminders())[0]!.text_body?.includes("/billing/card/"));
  });

  it("an expired card with no new card: card-expired notice, a final notice two days before the deadline, then the final state", async () => {
    const { id } = await subscribeWithCard(h, "edge", "cus_expired", { email: "expired@example.com", number: TEST_CARDS.declineExpired });
    await eventually(async () => (await invoicesOf(id))[0]?.dunning_deadline_at != null, 10_000, "waiting for a new card");
    const kinds = async () => (await h.database.db.selectFrom("notices").select(["kind", "text_body"]).where("subscription_id", "=", id).orderBy("created_at").execute());
    await h.api("POST", "/v1/test-clock/advance", { by: "4d" });
    expect((await kinds()).map((n) => n.kind)).toEqual(["card_expired"]);
    await h.api("POST", "/v1/test-clock/advance", { by: "2d" }); // day 6: within the last step (7d - 5d) of the deadline
    const notices = await kinds();
    expect(notices.map((n) => n.kind)).toEqual(["card_expired", "final_notice"]);
    await eventually(async () => /前仍未更新付款卡片，您的訂閱將會暫停/.test((await kinds())[1]!.text_body ?? ""));
    await h.api("POST", "/v1/test-clock/advance", { by: "1h" });
    expect(await kinds()).toHaveLength(2); // once
    await h.api("POST", "/v1/test-clock/advance", { by: "2d" });
    expect((await subscription(id)).status).toBe("unpaid");
  });
});
