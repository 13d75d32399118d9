import { DateTime } from "luxon";

// Oen's days are Taipei days (GET /transactions counts from 00:00 to 23:59:59 there), whatever
// BILLING_TIMEZONE says.
const ZONE = "Asia/Taipei";
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The instants a Taipei calendar day `YYYY-MM-DD` spans, [start, end); undefined when it names no day. */
export function taipeiDay(date: string): { start: Date; end: Date } | undefined {
  if (!DATE.test(date)) return undefined;
  const start = DateTime.fromISO(date, { zone: ZONE });
  if (!start.isValid) return undefined;
  return { start: start.toJSDate(), end: start.plus({ days: 1 }).toJSDate() };
}

/** The Taipei calendar date of an instant, `YYYY-MM-DD`. */
export function taipeiDateOf(at: Date): string {
  return DateTime.fromJSDate(at, { zone: ZONE }).toISODate()!;
}

/**
 * The day the daily reconciliation is due for at `now`: the Taipei day that ended at least
 * `afterHours` ago (the previous day from 02:00 on, by default), so that late transactions and
 * unknown outcomes of its last minutes have settled at Oen.
 */
export function dueReconciliationDate(now: Date, afterHours = 2): string {
  return DateTime.fromJSDate(now, { zone: ZONE }).minus({ hours: afterHours }).minus({ days: 1 }).toISODate()!;
}
