import type { NoticeKind } from "../billing/dunning-policy.ts";
import type { NoticeData } from "../notify/notice-templates.ts";

export interface NoticeFacts {
  declineCode: string | null;
  nextRetryAt: Date | null;
  deadline: Date | null;
  finalState: "unpaid" | "canceled";
}

/** The data each dunning notice carries, from what the decision established. */
export function noticeFor(kind: Exclude<NoticeKind, "renewal_reminder" | "trial_will_end">, facts: NoticeFacts): NoticeData {
  switch (kind) {
    case "payment_failed":
      return { kind, declineCode: facts.declineCode, nextRetryAt: facts.nextRetryAt };
    case "card_expired":
      return { kind, deadline: facts.deadline };
    case "card_needs_replacing":
      return { kind, declineCode: facts.declineCode, deadline: facts.deadline };
    case "final_notice":
      return { kind, lastRetryAt: facts.nextRetryAt ?? facts.deadline!, withRetry: facts.nextRetryAt !== null, finalState: facts.finalState };
    case "subscription_canceled":
      return { kind, cause: "dunning" };
  }
}
