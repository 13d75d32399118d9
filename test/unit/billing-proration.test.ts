import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BillingCycle, type Interval } from "../../src/billing/periods.ts";
import { planChangeKind, proratedRefund, prorationAmount, sameCadence, unusedFraction } from "../../src/billing/proration.ts";

const DAY_MS = 86_400_000;
const START = new Date("2026-03-01T00:00:00.000Z");
const at = (start: Date, ms: number) => new Date(start.getTime() + ms);
const thirtyDays = { periodStart: START, periodEnd: at(START, 30 * DAY_MS) };

// Independent reference on small numbers, where plain doubles hold every
// product exactly: integer quotient and remainder, half rounds up.
function roundHalfUpShare(amount: number, unused: number, length: number): number {
  const product = amount * unused;
  const quotient = Math.floor(product / length);
  return 2 * (product - quotient * length) >= length ? quotient + 1 : quotient;
}

// Periods from one second to ten years, starting anywhere in 1970–2100, with
// `at` before, inside and after the period; millisecond parts make sure only
// whole seconds count.
const periodArb = fc
  .record({
    startMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    lengthSeconds: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 3650 * 86_400 })),
  })
  .map(({ startMs, lengthSeconds }) => {
    const periodStart = new Date(Math.floor(startMs / 1000) * 1000);
    return { periodStart, periodEnd: at(periodStart, lengthSeconds * 1000), lengthSeconds };
  });
const offsetArb = (lengthSeconds: number) =>
  fc.oneof(
    fc.integer({ min: -lengthSeconds * 1000, max: 2 * lengthSeconds * 1000 }),
    fc.integer({ min: 0, max: lengthSeconds * 1000 }),
    fc.constantFrom(0, lengthSeconds * 1000),
  );
const caseArb = periodArb.chain((period) =>
  fc.record({
    period: fc.constant(period),
    at1: offsetArb(period.lengthSeconds).map((ms) => at(period.periodStart, ms)),
    at2: offsetArb(period.lengthSeconds).map((ms) => at(period.periodStart, ms)),
  }),
);
const amountArb = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 10_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER));
const RUNS = { numRuns: 1000 };

describe("unusedFraction", () => {
  it("is 1 at the start, 1/2 halfway, 0 at the end", () => {
    expect(unusedFraction(thirtyDays.periodStart, thirtyDays.periodEnd, START)).toBe(1);
    expect(unusedFraction(thirtyDays.periodStart, thirtyDays.periodEnd, at(START, 15 * DAY_MS))).toBe(0.5);
    expect(unusedFraction(thirtyDays.periodStart, thirtyDays.periodEnd, thirtyDays.periodEnd)).toBe(0);
  });

  it("clamps times outside the period", () => {
    expect(unusedFraction(thirtyDays.periodStart, thirtyDays.periodEnd, at(START, -DAY_MS))).toBe(1);
    expect(unusedFraction(thirtyDays.periodStart, thirtyDays.periodEnd, at(START, 31 * DAY_MS))).toBe(0);
  });

  it("counts whole seconds: milliseconds within a second change nothing", () => {
    const period = { periodStart: START, periodEnd: at(START, 4000) };
    expect(unusedFraction(period.periodStart, period.periodEnd, at(START, 1000))).toBe(0.75);
    expect(unusedFraction(period.periodStart, period.periodEnd, at(START, 1999))).toBe(0.75);
  });

  it("refuses a period under one second and invalid dates", () => {
    expect(() => unusedFraction(START, START, START)).toThrow(RangeError);
    expect(() => unusedFraction(START, at(START, -1000), START)).toThrow(RangeError);
    expect(() => unusedFraction(START, at(START, 999), START)).toThrow(/at least one second/);
    expect(() => unusedFraction(START, thirtyDays.periodEnd, new Date(Number.NaN))).toThrow(/at must be a valid Date/);
  });

  it("lies in [0, 1] and never rises as time advances", () => {
    fc.assert(
      fc.property(caseArb, ({ period, at1, at2 }) => {
        const [early, late] = at1 <= at2 ? [at1, at2] : [at2, at1];
        const rEarly = unusedFraction(period.periodStart, period.periodEnd, early);
        const rLate = unusedFraction(period.periodStart, period.periodEnd, late);
        expect(rEarly).toBeGreaterThanOrEqual(0);
        expect(rEarly).toBeLessThanOrEqual(1);
        expect(rLate).toBeLessThanOrEqual(rEarly);
      }),
      RUNS,
    );
  });
});

describe("prorationAmount", () => {
  it("halfway through a 30-day period, 300 → 600 TWD costs 150", () => {
    expect(prorationAmount({ oldAmount: 300, newAmount: 600, ...thirtyDays, at: at(START, 15 * DAY_MS) })).toBe(150);
  });

  it("rounds each term half up: a third left of 100 → 200 TWD is round(66.67) − round(33.33) = 34", () => {
    expect(prorationAmount({ oldAmount: 100, newAmount: 200, ...thirtyDays, at: at(START, 20 * DAY_MS) })).toBe(34);
  });

  it("rounds an exact half up, where floating point would round it down", () => {
    const period = { periodStart: START, periodEnd: at(START, 10_000) };
    // 7 of 10 seconds left: 45 × 0.7 = 31.5 → 32 (as a double, 31.4999… → 31).
    expect(prorationAmount({ oldAmount: 0, newAmount: 45, ...period, at: at(START, 3000) })).toBe(32);
    expect(prorationAmount({ oldAmount: 1, newAmount: 2, ...thirtyDays, at: at(START, 15 * DAY_MS) })).toBe(0);
    expect(prorationAmount({ oldAmount: 0, newAmount: 1, ...thirtyDays, at: at(START, 15 * DAY_MS) })).toBe(1);
  });

  it("is 0 for a downgrade or the same price at any time", () => {
    expect(prorationAmount({ oldAmount: 600, newAmount: 300, ...thirtyDays, at: START })).toBe(0);
    expect(prorationAmount({ oldAmount: 600, newAmount: 600, ...thirtyDays, at: START })).toBe(0);
  });

  it("can rise by 1 TWD later in the period, because the two terms round separately", () => {
    const period = { periodStart: START, periodEnd: at(START, 6000) };
    const amounts = [3, 4, 5].map((second) => prorationAmount({ oldAmount: 2, newAmount: 3, ...period, at: at(START, second * 1000) }));
    // r = 1/2: 2 − 1; r = 1/3: 1 − 1; r = 1/6: round(0.5) − round(0.33) = 1 − 0.
    expect(amounts).toEqual([1, 0, 1]);
  });

  it("refuses amounts that are not whole TWD >= 0", () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => prorationAmount({ oldAmount: 0, newAmount: bad, ...thirtyDays, at: START })).toThrow(/newAmount must be whole TWD/);
      expect(() => prorationAmount({ oldAmount: bad, newAmount: 0, ...thirtyDays, at: START })).toThrow(/oldAmount must be whole TWD/);
    }
  });

  it("is whole TWD in [0, newAmount], never above newAmount − oldAmount, within 1 TWD of (new − old) × r", () => {
    fc.assert(
      fc.property(caseArb, amountArb, amountArb, ({ period, at1 }, oldAmount, newAmount) => {
        const amount = prorationAmount({ oldAmount, newAmount, ...period, at: at1 });
        expect(Number.isSafeInteger(amount)).toBe(true);
        expect(amount).toBeGreaterThanOrEqual(0);
        expect(amount).toBeLessThanOrEqual(newAmount);
        expect(amount).toBeLessThanOrEqual(Math.max(0, newAmount - oldAmount));
        if (newAmount > oldAmount) {
          const ideal = (newAmount - oldAmount) * unusedFraction(period.periodStart, period.periodEnd, at1);
          // 1 TWD plus float slack for the huge amounts, whose ideal is itself a rounded double.
          expect(Math.abs(amount - ideal)).toBeLessThanOrEqual(1 + ideal * 1e-12);
        } else {
          expect(amount).toBe(0);
        }
      }),
      RUNS,
    );
  });

  it("is exactly max(0, new − old) at or before the start and 0 at or after the end", () => {
    fc.assert(
      fc.property(periodArb, amountArb, amountArb, fc.nat(10 * DAY_MS), (period, oldAmount, newAmount, outside) => {
        const before = at(period.periodStart, -outside);
        const after = at(period.periodEnd, outside);
        expect(prorationAmount({ oldAmount, newAmount, ...period, at: before })).toBe(Math.max(0, newAmount - oldAmount));
        expect(prorationAmount({ oldAmount, newAmount, ...period, at: after })).toBe(0);
      }),
      RUNS,
    );
  });

  it("never rises by more than 1 TWD as time advances, and each term never rises", () => {
    fc.assert(
      fc.property(caseArb, amountArb, amountArb, ({ period, at1, at2 }, oldAmount, newAmount) => {
        const [early, late] = at1 <= at2 ? [at1, at2] : [at2, at1];
        const proration = (when: Date) => prorationAmount({ oldAmount, newAmount, ...period, at: when });
        expect(proration(late)).toBeLessThanOrEqual(proration(early) + 1);
        const term = (amount: number, when: Date) => proratedRefund({ paidAmount: amount, ...period, at: when });
        expect(term(newAmount, late)).toBeLessThanOrEqual(term(newAmount, early));
        expect(term(oldAmount, late)).toBeLessThanOrEqual(term(oldAmount, early));
      }),
      RUNS,
    );
  });

  it("equals round(new × r) − round(old × r) computed independently", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (lengthSeconds, oldAmount, newAmount, where) => {
          const unused = Math.round(lengthSeconds * where);
          const period = { periodStart: START, periodEnd: at(START, lengthSeconds * 1000) };
          const when = at(START, (lengthSeconds - unused) * 1000);
          const expected = roundHalfUpShare(newAmount, unused, lengthSeconds) - roundHalfUpShare(oldAmount, unused, lengthSeconds);
          expect(prorationAmount({ oldAmount, newAmount, ...period, at: when })).toBe(Math.max(0, expected));
        },
      ),
      RUNS,
    );
  });
});

describe("proratedRefund", () => {
  it("refunds the unused part of the paid amount, rounded half up", () => {
    expect(proratedRefund({ paidAmount: 300, ...thirtyDays, at: at(START, 15 * DAY_MS) })).toBe(150);
    expect(proratedRefund({ paidAmount: 100, ...thirtyDays, at: at(START, 10 * DAY_MS) })).toBe(67);
    expect(proratedRefund({ paidAmount: 1, ...thirtyDays, at: at(START, 15 * DAY_MS) })).toBe(1);
    expect(proratedRefund({ paidAmount: 45, periodStart: START, periodEnd: at(START, 10_000), at: at(START, 3000) })).toBe(32);
  });

  it("refuses a paid amount that is not whole TWD >= 0", () => {
    expect(() => proratedRefund({ paidAmount: -5, ...thirtyDays, at: START })).toThrow(/paidAmount must be whole TWD/);
  });

  it("lies in [0, paid], is paid at the start and 0 at the end, and never rises as time advances", () => {
    fc.assert(
      fc.property(caseArb, amountArb, ({ period, at1, at2 }, paidAmount) => {
        const refund = (when: Date) => proratedRefund({ paidAmount, ...period, at: when });
        const [early, late] = at1 <= at2 ? [at1, at2] : [at2, at1];
        expect(Number.isSafeInteger(refund(early))).toBe(true);
        expect(refund(early)).toBeGreaterThanOrEqual(0);
        expect(refund(early)).toBeLessThanOrEqual(paidAmount);
        expect(refund(late)).toBeLessThanOrEqual(refund(early));
        expect(refund(period.periodStart)).toBe(paidAmount);
        expect(refund(period.periodEnd)).toBe(0);
      }),
      RUNS,
    );
  });

  it("equals round(paid × r) computed independently", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), fc.nat(), (lengthSeconds, paidAmount, seed) => {
        const unused = seed % (lengthSeconds + 1);
        const period = { periodStart: START, periodEnd: at(START, lengthSeconds * 1000) };
        const when = at(START, (lengthSeconds - unused) * 1000);
        expect(proratedRefund({ paidAmount, ...period, at: when })).toBe(roundHalfUpShare(paidAmount, unused, lengthSeconds));
      }),
      RUNS,
    );
  });
});

describe("planChangeKind", () => {
  it("compares the price per period", () => {
    expect(planChangeKind({ amount: 300 }, { amount: 600 })).toBe("upgrade");
    expect(planChangeKind({ amount: 600 }, { amount: 300 })).toBe("downgrade");
    expect(planChangeKind({ amount: 300 }, { amount: 300 })).toBe("same_price");
    expect(planChangeKind({ amount: 0 }, { amount: 1 })).toBe("upgrade");
  });

  it("refuses amounts that are not whole TWD >= 0", () => {
    expect(() => planChangeKind({ amount: -1 }, { amount: 1 })).toThrow(/oldPlan.amount/);
    expect(() => planChangeKind({ amount: 1 }, { amount: 0.5 })).toThrow(/newPlan.amount/);
  });

  it("only an upgrade has a proration charge, and swapping the plans swaps upgrade and downgrade", () => {
    fc.assert(
      fc.property(amountArb, amountArb, (oldAmount, newAmount) => {
        const kind = planChangeKind({ amount: oldAmount }, { amount: newAmount });
        const reverse = planChangeKind({ amount: newAmount }, { amount: oldAmount });
        expect(reverse).toBe({ upgrade: "downgrade", downgrade: "upgrade", same_price: "same_price" }[kind]);
        const atStart = prorationAmount({ oldAmount, newAmount, ...thirtyDays, at: START });
        expect(atStart > 0).toBe(kind === "upgrade");
      }),
    );
  });
});

describe("sameCadence", () => {
  const INTERVALS: Interval[] = ["day", "week", "month", "year"];
  const cycleArb: fc.Arbitrary<BillingCycle> = fc.record({
    interval: fc.constantFrom(...INTERVALS),
    intervalCount: fc.integer({ min: 1, max: 3 }),
  });

  it("needs the same interval and count", () => {
    expect(sameCadence({ interval: "month", intervalCount: 1 }, { interval: "month", intervalCount: 1 })).toBe(true);
    expect(sameCadence({ interval: "month", intervalCount: 1 }, { interval: "month", intervalCount: 3 })).toBe(false);
    // Same length of time in most years, still a different cadence.
    expect(sameCadence({ interval: "month", intervalCount: 12 }, { interval: "year", intervalCount: 1 })).toBe(false);
    expect(sameCadence({ interval: "week", intervalCount: 1 }, { interval: "day", intervalCount: 7 })).toBe(false);
  });

  it("is symmetric and true exactly for equal cycles", () => {
    fc.assert(
      fc.property(cycleArb, cycleArb, (a, b) => {
        expect(sameCadence(a, b)).toBe(sameCadence(b, a));
        expect(sameCadence(a, b)).toBe(JSON.stringify(a) === JSON.stringify(b));
        expect(sameCadence(a, { ...a })).toBe(true);
      }),
    );
  });
});
