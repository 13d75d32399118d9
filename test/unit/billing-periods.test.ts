import fc from "fast-check";
import { DateTime, Duration, type DurationUnit } from "luxon";
import { describe, expect, it, vi } from "vitest";
import { type BillingCycle, type Interval, periodBounds, periodIndexAt } from "../../src/billing/periods.ts";

const TAIPEI = "Asia/Taipei";

// Taipei (the default) has no DST; the others observe it in different ways:
// at 02:00, at midnight (Santiago), by 30 minutes (Lord Howe), south of the equator.
const ZONES_WITHOUT_DST = [TAIPEI, "UTC", "Asia/Kolkata"];
const ZONES_WITH_DST = ["America/New_York", "Europe/London", "America/Santiago", "Australia/Lord_Howe"];
const INTERVALS: Interval[] = ["day", "week", "month", "year"];

function local(iso: string, zone = TAIPEI): Date {
  return DateTime.fromISO(iso, { zone }).toJSDate();
}

function localIso(date: Date, zone = TAIPEI): string | null {
  return DateTime.fromJSDate(date, { zone }).toISO({ includeOffset: false });
}

function startsOf(anchor: Date, cycle: BillingCycle, count: number, zone = TAIPEI): (string | null)[] {
  return Array.from({ length: count }, (_, i) => localIso(periodBounds(anchor, cycle, i, zone).start, zone));
}

// Anchors are built from local wall times so that month ends, leap days and
// times near midnight come up often.
const zoneArb = fc.constantFrom(...ZONES_WITHOUT_DST, ...ZONES_WITH_DST);
const anchorIn = (zone: string) =>
  fc
    .record({
      year: fc.integer({ min: 1995, max: 2080 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.oneof(fc.integer({ min: 1, max: 31 }), fc.integer({ min: 28, max: 31 })),
      hour: fc.oneof(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 23)),
      minute: fc.integer({ min: 0, max: 59 }),
      second: fc.integer({ min: 0, max: 59 }),
      millisecond: fc.integer({ min: 0, max: 999 }),
    })
    .map(({ year, month, day, ...time }) => {
      const daysInMonth = DateTime.local(year, month, { zone }).daysInMonth ?? 28;
      return DateTime.fromObject({ year, month, day: Math.min(day, daysInMonth), ...time }, { zone }).toJSDate();
    });
const cycleArb: fc.Arbitrary<BillingCycle> = fc.record({
  interval: fc.constantFrom(...INTERVALS),
  intervalCount: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 24 })),
});
// Enough periods to cover decades of months and years without leaving Luxon's range.
const maxIndex = (cycle: BillingCycle) =>
  Math.floor({ day: 20_000, week: 3_000, month: 600, year: 60 }[cycle.interval] / cycle.intervalCount);
const caseArb = fc.record({ zone: zoneArb, cycle: cycleArb }).chain(({ zone, cycle }) =>
  fc.record({
    zone: fc.constant(zone),
    cycle: fc.constant(cycle),
    anchor: anchorIn(zone),
    index: fc.integer({ min: 0, max: maxIndex(cycle) }),
  }),
);
const RUNS = { numRuns: 600 };

describe("periodBounds examples", () => {
  it("keeps a day-31 monthly anchor: Jan 31 → Feb 29 (leap) → Mar 31 → Apr 30 → May 31", () => {
    expect(startsOf(local("2024-01-31T10:00"), { interval: "month", intervalCount: 1 }, 5)).toEqual([
      "2024-01-31T10:00:00.000",
      "2024-02-29T10:00:00.000",
      "2024-03-31T10:00:00.000",
      "2024-04-30T10:00:00.000",
      "2024-05-31T10:00:00.000",
    ]);
  });

  it("clamps to Feb 28 in a common year and returns to the 31st", () => {
    expect(startsOf(local("2023-01-31T00:00"), { interval: "month", intervalCount: 1 }, 3)).toEqual([
      "2023-01-31T00:00:00.000",
      "2023-02-28T00:00:00.000",
      "2023-03-31T00:00:00.000",
    ]);
  });

  it("does not drift as stepping from the previous period would (Mar 31, not Mar 29)", () => {
    const anchor = local("2024-01-31T10:00");
    const cycle: BillingCycle = { interval: "month", intervalCount: 1 };
    const february = periodBounds(anchor, cycle, 1, TAIPEI);
    expect(localIso(february.end)).toBe("2024-03-31T10:00:00.000");
    expect(localIso(periodBounds(february.start, cycle, 1, TAIPEI).start)).toBe("2024-03-29T10:00:00.000");
  });

  it("bills a Feb 29 yearly anchor on Feb 28 in common years and Feb 29 in leap years", () => {
    expect(startsOf(local("2024-02-29T12:00"), { interval: "year", intervalCount: 1 }, 5)).toEqual([
      "2024-02-29T12:00:00.000",
      "2025-02-28T12:00:00.000",
      "2026-02-28T12:00:00.000",
      "2027-02-28T12:00:00.000",
      "2028-02-29T12:00:00.000",
    ]);
  });

  it("counts intervals: every 3 months from Nov 30, every 2 weeks, every 10 days", () => {
    expect(startsOf(local("2023-11-30T08:00"), { interval: "month", intervalCount: 3 }, 3)).toEqual([
      "2023-11-30T08:00:00.000",
      "2024-02-29T08:00:00.000",
      "2024-05-30T08:00:00.000",
    ]);
    expect(startsOf(local("2024-12-25T09:00"), { interval: "week", intervalCount: 2 }, 3)).toEqual([
      "2024-12-25T09:00:00.000",
      "2025-01-08T09:00:00.000",
      "2025-01-22T09:00:00.000",
    ]);
    expect(startsOf(local("2024-02-25T09:00"), { interval: "day", intervalCount: 10 }, 2)).toEqual([
      "2024-02-25T09:00:00.000",
      "2024-03-06T09:00:00.000",
    ]);
  });

  it("takes the anchor's day in the billing zone, not in UTC", () => {
    // 2024-01-31T16:30Z is Feb 1 00:30 in Taipei: the anchor day is the 1st.
    const anchor = new Date("2024-01-31T16:30:00Z");
    const { start, end } = periodBounds(anchor, { interval: "month", intervalCount: 1 }, 1, TAIPEI);
    expect(start.toISOString()).toBe("2024-02-29T16:30:00.000Z");
    expect(end.toISOString()).toBe("2024-03-31T16:30:00.000Z");
    expect(localIso(start)).toBe("2024-03-01T00:30:00.000");
  });

  it("keeps the wall time across DST in New York, and moves a skipped wall time forward", () => {
    const zone = "America/New_York";
    const daily: BillingCycle = { interval: "day", intervalCount: 1 };
    const anchor = local("2024-03-09T02:30", zone);
    expect(startsOf(anchor, daily, 3, zone)).toEqual([
      "2024-03-09T02:30:00.000",
      "2024-03-10T03:30:00.000", // 02:30 does not exist that day
      "2024-03-11T02:30:00.000",
    ]);
    // Periods around a DST change are 23 or 25 hours long: calendar days, not 24 h.
    const november = periodBounds(local("2024-11-02T12:00", zone), daily, 0, zone);
    expect(november.end.getTime() - november.start.getTime()).toBe(25 * 3_600_000);
  });

  it("starts period 0 at the anchor even at an ambiguous wall time", () => {
    const anchor = new Date("2024-11-03T06:30:00Z"); // 01:30 EST, the second 01:30 that night
    expect(periodBounds(anchor, { interval: "week", intervalCount: 1 }, 0, "America/New_York").start).toEqual(anchor);
  });
});

describe("periodBounds validation", () => {
  const anchor = local("2024-01-31T10:00");
  const monthly: BillingCycle = { interval: "month", intervalCount: 1 };

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects intervalCount %s", (intervalCount) => {
    expect(() => periodBounds(anchor, { interval: "month", intervalCount }, 0, TAIPEI)).toThrow(
      /intervalCount must be an integer >= 1/,
    );
  });

  it("rejects an unknown interval", () => {
    const cycle = { interval: "fortnight", intervalCount: 1 } as unknown as BillingCycle;
    expect(() => periodBounds(anchor, cycle, 0, TAIPEI)).toThrow(RangeError);
  });

  it.each([-1, 0.5, Number.NaN])("rejects index %s", (index) => {
    expect(() => periodBounds(anchor, monthly, index, TAIPEI)).toThrow(/period index must be an integer >= 0/);
  });

  it.each(["Mars/Olympus_Mons", "", "local", "system"])("rejects zone %j", (zone) => {
    expect(() => periodBounds(anchor, monthly, 0, zone)).toThrow(/unknown IANA time zone/);
    expect(() => periodIndexAt(anchor, monthly, anchor, zone)).toThrow(RangeError);
  });

  it("rejects an invalid anchor and an index beyond the date range", () => {
    expect(() => periodBounds(new Date(Number.NaN), monthly, 0, TAIPEI)).toThrow(/anchor must be a valid Date/);
    expect(() => periodBounds(anchor, monthly, 10_000_000, TAIPEI)).toThrow(/beyond the supported date range/);
    expect(() => periodBounds(anchor, monthly, Number.MAX_SAFE_INTEGER, TAIPEI)).toThrow(RangeError);
  });

  it("rejects a time before the anchor", () => {
    expect(() => periodIndexAt(anchor, monthly, new Date(anchor.getTime() - 1), TAIPEI)).toThrow(/before the anchor/);
  });
});

describe("periodBounds properties", () => {
  it("period i ends exactly where period i+1 starts, and starts strictly increase", () => {
    fc.assert(
      fc.property(caseArb, ({ zone, anchor, cycle, index }) => {
        const current = periodBounds(anchor, cycle, index, zone);
        const next = periodBounds(anchor, cycle, index + 1, zone);
        expect(current.end).toEqual(next.start);
        expect(current.start.getTime()).toBeLessThan(current.end.getTime());
      }),
      RUNS,
    );
  });

  it("period 0 starts at the anchor", () => {
    fc.assert(
      fc.property(caseArb, ({ zone, anchor, cycle }) => {
        expect(periodBounds(anchor, cycle, 0, zone).start).toEqual(anchor);
      }),
      RUNS,
    );
  });

  it("starts exactly index × count units after the anchor, on the anchor's day whenever the month has it", () => {
    fc.assert(
      fc.property(caseArb, ({ zone, anchor, cycle, index }) => {
        const origin = DateTime.fromJSDate(anchor, { zone });
        const start = DateTime.fromJSDate(periodBounds(anchor, cycle, index, zone).start, { zone });
        const monthsApart = (start.year - origin.year) * 12 + (start.month - origin.month);
        const units = index * cycle.intervalCount;
        if (cycle.interval === "month" || cycle.interval === "year") {
          expect(monthsApart).toBe(cycle.interval === "month" ? units : 12 * units);
          expect(start.day).toBe(Math.min(origin.day, start.daysInMonth ?? 0));
        } else {
          const daysApart = start.startOf("day").diff(origin.startOf("day"), "days").days;
          expect(Math.round(daysApart)).toBe(cycle.interval === "day" ? units : 7 * units);
        }
      }),
      RUNS,
    );
  });

  it("keeps the anchor's wall time, or moves it forward by the gap on a day DST skips it", () => {
    fc.assert(
      fc.property(caseArb, ({ zone, anchor, cycle, index }) => {
        const origin = DateTime.fromJSDate(anchor, { zone });
        const start = DateTime.fromJSDate(periodBounds(anchor, cycle, index, zone).start, { zone });
        const minuteOfDay = (t: DateTime) => t.hour * 60 + t.minute;
        const sameWallTime = start.set({ hour: origin.hour, minute: origin.minute });
        const wallTimeExists = sameWallTime.hour === origin.hour && sameWallTime.minute === origin.minute;
        expect(start.toFormat("ss.SSS")).toBe(origin.toFormat("ss.SSS"));
        if (ZONES_WITHOUT_DST.includes(zone) || wallTimeExists) {
          expect(minuteOfDay(start)).toBe(minuteOfDay(origin));
        } else {
          const shift = minuteOfDay(start) - minuteOfDay(origin);
          expect(shift).toBeGreaterThan(0);
          expect(shift).toBeLessThanOrEqual(60);
        }
      }),
      RUNS,
    );
  });

  it("gives period N however it is reached: as N × count single units, weeks as days, years as months", () => {
    fc.assert(
      fc.property(caseArb, ({ zone, anchor, cycle, index }) => {
        const direct = periodBounds(anchor, cycle, index, zone);
        const single = periodBounds(anchor, { interval: cycle.interval, intervalCount: 1 }, index * cycle.intervalCount, zone);
        expect(single.start).toEqual(direct.start);
        if (cycle.interval === "week") {
          expect(periodBounds(anchor, { interval: "day", intervalCount: 7 * cycle.intervalCount }, index, zone)).toEqual(direct);
        }
        if (cycle.interval === "year") {
          expect(periodBounds(anchor, { interval: "month", intervalCount: 12 * cycle.intervalCount }, index, zone)).toEqual(direct);
        }
      }),
      RUNS,
    );
  });
});

describe("periodIndexAt", () => {
  it("finds the period that contains a time", () => {
    const anchor = local("2024-01-31T10:00");
    const monthly: BillingCycle = { interval: "month", intervalCount: 1 };
    expect(periodIndexAt(anchor, monthly, anchor, TAIPEI)).toBe(0);
    expect(periodIndexAt(anchor, monthly, local("2024-02-29T09:59:59.999"), TAIPEI)).toBe(0);
    expect(periodIndexAt(anchor, monthly, local("2024-02-29T10:00"), TAIPEI)).toBe(1);
    expect(periodIndexAt(anchor, monthly, local("2024-03-31T09:00"), TAIPEI)).toBe(1);
    expect(periodIndexAt(anchor, monthly, local("2034-01-31T10:00"), TAIPEI)).toBe(120);
  });

  it("estimates instead of walking every period from the anchor", () => {
    const plus = vi.spyOn(DateTime.prototype, "plus");
    try {
      const anchor = local("2000-01-01T00:00");
      const index = periodIndexAt(anchor, { interval: "day", intervalCount: 1 }, local("2100-01-01T12:00"), TAIPEI);
      expect(index).toBe(36_525); // 100 years of 365 days and 25 leap days
      expect(plus.mock.calls.length).toBeLessThan(20);
    } finally {
      plus.mockRestore();
    }
  });

  it.each([-3, -1, 1, 3])("corrects an estimate that is off by %i periods", (error) => {
    const realDiff = DateTime.prototype.diff;
    const diff = vi.spyOn(DateTime.prototype, "diff").mockImplementation(function (this: DateTime, other, unit) {
      const units = unit as DurationUnit;
      return Duration.fromObject({ [units]: realDiff.call(this, other, units).get(units) + error });
    });
    try {
      const anchor = local("2024-01-31T10:00");
      const monthly: BillingCycle = { interval: "month", intervalCount: 1 };
      expect(periodIndexAt(anchor, monthly, local("2024-02-29T09:59"), TAIPEI)).toBe(0);
      expect(periodIndexAt(anchor, monthly, local("2025-01-31T10:00"), TAIPEI)).toBe(12);
      expect(diff).toHaveBeenCalled();
    } finally {
      diff.mockRestore();
    }
  });

  it("agrees with periodBounds for any time at or after the anchor", () => {
    fc.assert(
      fc.property(caseArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (c, fraction) => {
        const { zone, anchor, cycle, index } = c;
        const lastEnd = periodBounds(anchor, cycle, maxIndex(cycle), zone).end.getTime();
        const at = new Date(anchor.getTime() + Math.floor(fraction * (lastEnd - anchor.getTime())));
        const found = periodIndexAt(anchor, cycle, at, zone);
        const bounds = periodBounds(anchor, cycle, found, zone);
        expect(bounds.start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(at.getTime()).toBeLessThan(bounds.end.getTime());

        const { start, end } = periodBounds(anchor, cycle, index, zone);
        expect(periodIndexAt(anchor, cycle, start, zone)).toBe(index);
        expect(periodIndexAt(anchor, cycle, new Date(end.getTime() - 1), zone)).toBe(index);
      }),
      RUNS,
    );
  });
});
