import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dueReconciliationDate, taipeiDateOf, taipeiDay } from "../../src/reconciliation/taipei-day.ts";

// Oen's days are Taipei days (UTC+8, no daylight saving time), whatever BILLING_TIMEZONE says.
describe("Taipei days", () => {
  it("a day spans 00:00 to 24:00 in Taipei", () => {
    expect(taipeiDay("2026-09-01")).toEqual({ start: new Date("2026-08-31T16:00:00Z"), end: new Date("2026-09-01T16:00:00Z") });
    expect(taipeiDay("2028-02-29")?.start).toEqual(new Date("2028-02-28T16:00:00Z"));
  });

  it("names no day for anything but a real YYYY-MM-DD", () => {
    for (const bad of ["2026-02-30", "2026-9-1", "2026/09/01", "20260901", "", "2026-09-01T00:00"]) expect(taipeiDay(bad)).toBeUndefined();
  });

  it("every instant falls in the day its Taipei date names", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }), (at) => {
        const day = taipeiDay(taipeiDateOf(at))!;
        return day.start <= at && at < day.end;
      }),
    );
  });

  it("the reconciliation of a day is due from 02:00 the next day", () => {
    expect(dueReconciliationDate(new Date("2026-09-02T01:59:59+08:00"))).toBe("2026-08-31");
    expect(dueReconciliationDate(new Date("2026-09-02T02:00:00+08:00"))).toBe("2026-09-01");
    expect(dueReconciliationDate(new Date("2026-09-02T23:59:59+08:00"))).toBe("2026-09-01");
    expect(dueReconciliationDate(new Date("2026-03-01T03:00:00+08:00"))).toBe("2026-02-28");
  });
});
