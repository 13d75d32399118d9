// Billing periods as calendar arithmetic in the billing time zone. Period i is
// computed from the anchor and i alone, so clamping (Jan 31 → Feb 29) never
// carries into later periods and nothing drifts however many periods pass.
import { DateTime, IANAZone } from "luxon";

export type Interval = "day" | "week" | "month" | "year";

export interface BillingCycle {
  interval: Interval;
  intervalCount: number;
}

export interface PeriodBounds {
  start: Date;
  end: Date;
}

const LUXON_UNIT = { day: "days", week: "weeks", month: "months", year: "years" } as const;

function assertCycle(cycle: BillingCycle): void {
  if (!Object.hasOwn(LUXON_UNIT, cycle.interval)) {
    throw new RangeError(`billing interval must be day, week, month or year, got ${JSON.stringify(cycle.interval)}`);
  }
  if (!Number.isSafeInteger(cycle.intervalCount) || cycle.intervalCount < 1) {
    throw new RangeError(`intervalCount must be an integer >= 1, got ${cycle.intervalCount}`);
  }
}

function assertIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`period index must be an integer >= 0, got ${index}`);
  }
}

function inZone(date: Date, name: string, zone: string): DateTime {
  // Only IANA names: "local" or "system" would make the result depend on the host.
  if (!IANAZone.isValidZone(zone)) throw new RangeError(`unknown IANA time zone ${JSON.stringify(zone)}`);
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new RangeError(`${name} must be a valid Date`);
  return DateTime.fromJSDate(date, { zone });
}

// Luxon adds calendar units in local time and clamps the day to the month's
// length; a wall time that a DST change skips moves forward by the gap.
function startOf(origin: DateTime, cycle: BillingCycle, index: number): DateTime {
  const start = origin.plus({ [LUXON_UNIT[cycle.interval]]: index * cycle.intervalCount });
  if (!start.isValid) throw new RangeError(`period ${index} lies beyond the supported date range`);
  return start;
}

/** Start and end (exclusive) of period `index`; period 0 starts at the anchor. */
export function periodBounds(anchor: Date, cycle: BillingCycle, index: number, zone: string): PeriodBounds {
  assertCycle(cycle);
  assertIndex(index);
  const origin = inZone(anchor, "anchor", zone);
  return {
    start: startOf(origin, cycle, index).toJSDate(),
    end: startOf(origin, cycle, index + 1).toJSDate(),
  };
}

/** Index of the period that contains `at` (at >= anchor). */
export function periodIndexAt(anchor: Date, cycle: BillingCycle, at: Date, zone: string): number {
  assertCycle(cycle);
  const origin = inZone(anchor, "anchor", zone);
  const target = inZone(at, "at", zone);
  if (target.toMillis() < origin.toMillis()) throw new RangeError(`${at.toISOString()} is before the anchor ${anchor.toISOString()}`);
  // Luxon's calendar diff counts whole units the way plus() adds them, so the
  // estimate is normally exact; Luxon does not promise that, so step to the
  // period that really contains `at`.
  const unit = LUXON_UNIT[cycle.interval];
  let index = Math.max(0, Math.floor(target.diff(origin, unit).get(unit) / cycle.intervalCount));
  while (startOf(origin, cycle, index).toMillis() > target.toMillis()) index--;
  while (startOf(origin, cycle, index + 1).toMillis() <= target.toMillis()) index++;
  return index;
}
