// Proration for plan changes and prorated refunds. Time counts in whole seconds
// and amounts are shared out in exact integer arithmetic, so "half up" really
// rounds halves up: in floating point 45 × 0.7 is 31.4999…, which would round to 31.
import type { BillingCycle } from "./periods.ts";

export interface PlanPrice {
  /** Whole TWD per period. */
  amount: number;
}

export type PlanChangeKind = "upgrade" | "downgrade" | "same_price";

export interface ProrationInput {
  oldAmount: number;
  newAmount: number;
  periodStart: Date;
  periodEnd: Date;
  at: Date;
}

export interface ProratedRefundInput {
  paidAmount: number;
  periodStart: Date;
  periodEnd: Date;
  at: Date;
}

interface UnusedTime {
  unused: number;
  length: number;
}

function wholeSeconds(date: Date, name: string): number {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new RangeError(`${name} must be a valid Date`);
  return Math.floor(date.getTime() / 1000);
}

function assertAmount(name: string, amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`${name} must be whole TWD >= 0, got ${amount}`);
}

function unusedTime(periodStart: Date, periodEnd: Date, at: Date): UnusedTime {
  const start = wholeSeconds(periodStart, "periodStart");
  const end = wholeSeconds(periodEnd, "periodEnd");
  const now = wholeSeconds(at, "at");
  if (end <= start) {
    throw new RangeError(`the period must last at least one second, got ${periodStart.toISOString()} to ${periodEnd.toISOString()}`);
  }
  return { unused: Math.min(Math.max(end - now, 0), end - start), length: end - start };
}

/** round(amount × unused / length), halves up; BigInt because amount × seconds can pass 2^53. */
function shareOf(amount: number, { unused, length }: UnusedTime): number {
  const twiceLength = 2n * BigInt(length);
  return Number((2n * BigInt(amount) * BigInt(unused) + BigInt(length)) / twiceLength);
}

/** The part of the period still to run at `at`, by whole seconds: 1 at or before the start, 0 at or after the end. */
export function unusedFraction(periodStart: Date, periodEnd: Date, at: Date): number {
  const time = unusedTime(periodStart, periodEnd, at);
  return time.unused / time.length;
}

/**
 * What an upgrade made at `at` costs now: round(new × r) − round(old × r), each
 * rounded half up to whole TWD (r = unusedFraction). 0 for a downgrade or an
 * equal price, since those wait for the period end. Never above
 * newAmount − oldAmount; it can move by 1 TWD either way as `at` advances,
 * because the two terms round separately.
 */
export function prorationAmount(input: ProrationInput): number {
  assertAmount("oldAmount", input.oldAmount);
  assertAmount("newAmount", input.newAmount);
  const time = unusedTime(input.periodStart, input.periodEnd, input.at);
  return Math.max(0, shareOf(input.newAmount, time) - shareOf(input.oldAmount, time));
}

/** The unused part of a paid amount, round(paid × r) half up: within [0, paidAmount], never rising as `at` advances. */
export function proratedRefund(input: ProratedRefundInput): number {
  assertAmount("paidAmount", input.paidAmount);
  return shareOf(input.paidAmount, unusedTime(input.periodStart, input.periodEnd, input.at));
}

/** Whether moving from `oldPlan` to `newPlan` costs more per period (plans of the same cadence). */
export function planChangeKind(oldPlan: PlanPrice, newPlan: PlanPrice): PlanChangeKind {
  assertAmount("oldPlan.amount", oldPlan.amount);
  assertAmount("newPlan.amount", newPlan.amount);
  if (newPlan.amount > oldPlan.amount) return "upgrade";
  return newPlan.amount < oldPlan.amount ? "downgrade" : "same_price";
}

/** Plans can be swapped only when they bill on the same cycle. */
export function sameCadence(planA: BillingCycle, planB: BillingCycle): boolean {
  return planA.interval === planB.interval && planA.intervalCount === planB.intervalCount;
}
