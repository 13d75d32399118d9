import { InvalidArgumentError } from "commander";
import { taipeiDay } from "../reconciliation/taipei-day.ts";

/** A commander parser for a whole number from `min` up. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`must be a whole number ≥ ${min}`);
    return Number(value);
  };
}

/** A commander parser for a calendar day YYYY-MM-DD. */
export function calendarDate(value: string): string {
  if (taipeiDay(value) === undefined) throw new InvalidArgumentError("must be a calendar day YYYY-MM-DD");
  return value;
}
