import type { NoticeKind } from "../billing/dunning-policy.ts";
import type { NoticeData } from "./notice-templates.ts";

type Facts<K extends NoticeKind> = Omit<Extract<NoticeData, { kind: K }>, "kind">;
type DateFields<K extends NoticeKind> = { [F in keyof Facts<K>]: Facts<K>[F] extends Date | null ? F : never }[keyof Facts<K>];

// Which facts are dates: JSON keeps them as ISO 8601 strings, and they come back as Dates.
const DATE_FIELDS: { [K in NoticeKind]: ReadonlyArray<DateFields<K>> } = {
  payment_failed: ["nextRetryAt"],
  card_expired: ["deadline"],
  card_needs_replacing: ["deadline"],
  final_notice: ["lastRetryAt"],
  subscription_canceled: [],
  renewal_reminder: ["renewsAt"],
  trial_will_end: ["trialEnd"],
};

/** The facts of a notice as its `data` column holds them (the kind has its own column). */
export function noticeFactsJson(data: NoticeData): string {
  const { kind: _kind, ...facts } = data;
  return JSON.stringify(facts);
}

/** A notice's data back from its kind and `data` column. */
export function noticeDataFrom(kind: NoticeKind, facts: Record<string, unknown>): NoticeData {
  const data: Record<string, unknown> = { ...facts, kind };
  for (const field of DATE_FIELDS[kind] as readonly string[]) {
    const value = facts[field];
    data[field] = typeof value === "string" ? new Date(value) : null;
  }
  return data as NoticeData;
}
