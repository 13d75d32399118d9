import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

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
    const busiest = Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + 1_000).length));
    expect(busiest).toBeLessThanOrEqual(8);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(2_900); // 16 charges at 4 per window span at least 4 windows
  });
});
