import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

/** The most charges the simulator recorded within any `windowMs` (sliding, from each charge). */
function busiestWindow(h: Harness, windowMs: number): number {
  const times = h.simulator.ledger.all().map((t) => Date.parse(t.createdAt)).sort((a, b) => a - b);
  return Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + windowMs).length));
}

// OEN_CHARGE_RATE caps charge requests towards Oen across all workers (a BullMQ
// rate limiter kept in Redis), so a month-start burst reaches Oen as a stream.
describe("charge rate limit", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { OEN_CHARGE_RATE: "4" } });
    await h.api("PUT", "/v1/plans/rate", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("spreads charges at OEN_CHARGE_RATE per second", async () => {
    const subscriptions = 16;
    for (let i = 0; i < subscriptions; i++) await subscribeWithCard(h, "rate", `cus_rate_${i}`);
    await eventually(async () => h.simulator.ledger.successfulCharges().length === subscriptions, 30_000, "every charge");
    const times = h.simulator.ledger.all().map((t) => Date.parse(t.createdAt)).sort((a, b) => a - b);
    // BullMQ's limiter counts in fixed one-second windows, so a sliding second can hold two windows' worth.
    expect(busiestWindow(h, 1_000)).toBeLessThanOrEqual(8);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(2_900); // 16 charges at 4 per window span at least 4 windows
  });
});

// The worker runs more jobs than CHARGE_CONCURRENCY (reading and settling beside the requests),
// but never lets more than CHARGE_CONCURRENCY charges be at Oen at once.
describe("charge concurrency", () => {
  const LATENCY_MS = 400;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { CHARGE_CONCURRENCY: "2", OEN_CHARGE_RATE: "1000" } });
    await h.api("PUT", "/v1/plans/slow", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("keeps at most CHARGE_CONCURRENCY charges at Oen, each answered before the next takes its place", async () => {
    // The simulator records a charge when it arrives and answers LATENCY_MS later.
    h.simulator.faults.set([{ on: "charge", kind: "latency", latencyMs: LATENCY_MS }]);
    const subscriptions = 8;
    await Promise.all(Array.from({ length: subscriptions }, (_, i) => subscribeWithCard(h, "slow", `cus_slow_${i}`)));
    await eventually(async () => h.simulator.ledger.successfulCharges().length === subscriptions, 30_000, "every charge");
    // Within any LATENCY_MS (less a little for the clock's rounding), at most two arrived: the third waited for an answer.
    expect(busiestWindow(h, LATENCY_MS - 10)).toBe(2);
    expect(h.simulator.ledger.all()).toHaveLength(subscriptions);
  });
});

// Claims run ahead of the places at Oen only while Oen answers quickly: a claim that waited for its
// place longer than the pre-send check allows would be refused as stale (an attempt burnt, left to
// the order lookup). With an 8 s request timeout that limit is 6.5 s, and Oen here answers in 7 s.
describe("charge concurrency when Oen answers slowly", () => {
  const LATENCY_MS = 7_000;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { CHARGE_CONCURRENCY: "1", OEN_CHARGE_RATE: "1000", OEN_REQUEST_TIMEOUT: "8s" } });
    await h.api("PUT", "/v1/plans/slower", samplePlan);
    h.simulator.faults.set([{ on: "charge", kind: "latency", latencyMs: LATENCY_MS }]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const attempts = () => h.database.db.selectFrom("charge_attempts").select(["status", "order_id"]).orderBy("created_at").execute();

  it("once an answer was slow, a charge takes its place before it claims: none waits long enough to go stale", async () => {
    await subscribeWithCard(h, "slower", "cus_slower_0");
    // Answered and settled: the simulator records a charge when it arrives, 7 s before it answers.
    await eventually(async () => (await attempts()).some((a) => a.status === "succeeded"), 30_000, "the first, slow charge");
    await Promise.all([1, 2].map((i) => subscribeWithCard(h, "slower", `cus_slower_${i}`)));
    await eventually(async () => h.simulator.ledger.successfulCharges().length === 3, 40_000, "both charges after it");
    await eventually(async () => (await attempts()).every((a) => a.status === "succeeded") && true, 15_000, "every attempt settled");
    // One attempt per charge: had the third claimed while the second was out, it would have waited 7 s and gone stale.
    expect(await attempts()).toHaveLength(3);
  }, 90_000);
});
