import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";

const DAY = 86_400_000;

// Trials on the test clock, against the simulator over HTTP, with a real SMTP server.
describe("trials", () => {
  let h: Harness;
  let smtp: SmtpSink;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    h = await startHarness({ env: { BILLING_TEST_CLOCK: "1", RENEWAL_SWEEP_INTERVAL: "1h", SMTP_URL: smtp.url } });
    await h.api("PUT", "/v1/plans/trial14", { ...samplePlan, trialDays: 14 });
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const advance = async (by: string) => (await h.api("POST", "/v1/test-clock/advance", { by })).json();
  const view = async (id: string) => (await h.api("GET", `/v1/subscriptions/${id}`)).json();
  const charged = (customerEmail: string) => h.simulator.ledger.successfulCharges().filter((c) => c.userEmail === customerEmail);

  it("a 14-day trial: nothing charged for 14 days, the trial-ending email 3 days before, the first charge at its end, renewals a month after it", async () => {
    const email = "trial@example.com";
    const subscription = await subscribeWithCard(h, "trial14", "cus_trial", { email });
    const trialing = await eventually(async () => {
      const current = await view(subscription.id);
      return current.status === "trialing" && current;
    }, 10_000, "the trial to start");
    const trialEnd = new Date(trialing.trialEnd);
    expect(trialEnd.getTime() - new Date(trialing.trialStart).getTime()).toBe(14 * DAY);
    expect(trialing.latestInvoice).toBeNull();

    await advance("10d");
    expect(charged(email)).toEqual([]);
    expect(smtp.messages.filter((m) => m.to.includes(email))).toEqual([]);
    await advance("1d"); // 3 days before the end
    const notice = await eventually(async () => smtp.messages.find((m) => m.to.includes(email)), 10_000, "the trial-ending email");
    expect(notice.subject).toContain("免費試用即將結束");
    expect(charged(email)).toEqual([]);

    await advance("3d"); // the trial is over
    const active = await eventually(async () => {
      const current = await view(subscription.id);
      return current.latestInvoice?.status === "paid" && current;
    }, 10_000, "the first charge");
    expect(active).toMatchObject({ status: "active", currentCycle: 1, currentPeriodStart: trialEnd.toISOString() });
    expect(charged(email).map((c) => c.amount)).toEqual([samplePlan.amount]);
    // The first period runs a month from the trial's end, and so the renewal comes then.
    const renewsAt = new Date(active.currentPeriodEnd);
    expect(renewsAt.getTime() - trialEnd.getTime()).toBeGreaterThanOrEqual(28 * DAY);
    await advance("32d");
    await eventually(async () => charged(email).length === 2, 10_000, "the first renewal");
    const renewed = await view(subscription.id);
    expect(renewed).toMatchObject({ currentCycle: 2, currentPeriodStart: renewsAt.toISOString() });

    const events = await h.database.db.selectFrom("platform_events").select("type").where("dedupe_key", "like", `%${subscription.id}%`).execute();
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["subscription.trial_started", "subscription.trial_will_end", "subscription.activated"]));

    // A second subscription of the same customer to the same plan gets no trial (TRIAL_REUSE=once_per_plan).
    const again = await subscribeWithCard(h, "trial14", "cus_trial", { email });
    await eventually(async () => (await view(again.id)).latestInvoice?.status === "paid", 10_000, "the second subscription charged at once");
    expect(await view(again.id)).toMatchObject({ status: "active", trialEnd: null });
  });

  it("a cancel during the trial charges nothing", async () => {
    const email = "leaves@example.com";
    const subscription = await subscribeWithCard(h, "trial14", "cus_leaves", { email });
    await eventually(async () => (await view(subscription.id)).status === "trialing", 10_000, "the trial to start");
    const scheduled = (await h.api("POST", `/v1/subscriptions/${subscription.id}/cancel`, { atPeriodEnd: true })).json();
    expect(scheduled).toMatchObject({ status: "trialing", cancelAtPeriodEnd: true });
    await advance("15d");
    expect(await view(subscription.id)).toMatchObject({ status: "canceled", latestInvoice: null });
    expect(charged(email)).toEqual([]);
  });
});
