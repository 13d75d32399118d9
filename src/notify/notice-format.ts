import { declineReason, type Locale } from "../billing/declines.ts";

export interface NoticeFormat {
  /** TWD, the only currency Oen charges in: "NT$1,299". */
  amount(amount: number): string;
  /** A calendar date in the billing time zone, where the customer's days begin and end. */
  date(at: Date): string;
  /** A decline code as the customer's reason in plain words. */
  reason(code: string | null): string;
}

export function noticeFormat(locale: Locale, timeZone: string): NoticeFormat {
  const dates = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone });
  const numbers = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  return {
    amount: (amount) => `NT$${numbers.format(amount)}`,
    date: (at) => dates.format(at),
    reason: (code) => declineReason(code, locale),
  };
}
