import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { periodBounds, type Interval } from "../../src/billing/periods.ts";
import { renewDue } from "../../src/subscriptions/subscription-transitions.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-services.ts";

// The bulk renewal computes periods in SQL; they must be exactly periodBounds' (the one definition
// of a period), for every anchor, interval, count and cycle, month ends and leap days included.
describe("renewDue's periods are periodBounds'", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  const cases = fc.sample(
    fc.record({
      // Month ends, leap days and ordinary days alike, over two decades.
      anchor: fc.oneof(
        fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2040-01-01T00:00:00Z"), noInvalidDate: true }),
        fc.constantFrom("2024-01-31T15:59:59Z", "2024-02-29T04:00:00Z", "2023-03-31T16:00:00Z", "2025-08-30T16:30:00Z").map((d) => new Date(d)),
      ),
      interval: fc.constantFrom<Interval>("day", "week", "month", "year"),
      count: fc.integer({ min: 1, max: 13 }),
      cycle: fc.integer({ min: 1, max: 40 }),
    }),
    { numRuns: 400, seed: 20261201 },
  );

  it.each(["Asia/Taipei", "Europe/London", "America/New_York"])("in %s", async (zone) => {
    const db = database.db;
    await db.deleteFrom("invoices").execute();
    await db.deleteFrom("subscriptions").execute();
    await db.deleteFrom("plans").execute();
    await db.insertInto("customers").values({ id: "cus", name: "王小明", email: "m@example.com" }).onConflict((oc) => oc.doNothing()).execute();
    const plans = new Set<string>();
    for (const [i, c] of cases.entries()) {
      const planId = `${c.interval}-${c.count}`;
      if (!plans.has(planId)) {
        plans.add(planId);
        await db.insertInto("plans").values({ id: planId, name: planId, amount: 100, interval: c.interval, interval_count: c.count, product_code: "P", description: "P", unit: "期" }).execute();
      }
      await db
        .insertInto("subscriptions")
        .values({
          id: `sub_${i}`,
          customer_id: "cus",
          plan_id: planId,
          status: "active",
          success_url: "https://x",
          failure_url: "https://x",
          billing_anchor: c.anchor,
          current_cycle: c.cycle,
          current_period_start: null,
          current_period_end: null,
          canceled_at: null,
          ended_at: null,
          next_renewal_at: new Date("2000-01-01T00:00:00Z"),
        })
        .execute();
    }
    const renewed = await renewDue(db, { now: new Date("2100-01-01T00:00:00Z"), limit: 10_000, jitterMs: 0, zone });
    expect(renewed).toHaveLength(cases.length);
    const invoices = await db.selectFrom("invoices").select(["subscription_id", "cycle", "period_start", "period_end"]).execute();
    const mismatches = invoices.flatMap((invoice) => {
      const c = cases[Number(invoice.subscription_id.slice(4))]!;
      const expected = periodBounds(c.anchor, { interval: c.interval, intervalCount: c.count }, c.cycle, zone);
      const got = { start: invoice.period_start.toISOString(), end: invoice.period_end.toISOString() };
      const want = { start: expected.start.toISOString(), end: expected.end.toISOString() };
      return invoice.cycle === c.cycle + 1 && got.start === want.start && got.end === want.end ? [] : [{ case: c, got, want }];
    });
    expect(mismatches).toEqual([]);
  });
});
