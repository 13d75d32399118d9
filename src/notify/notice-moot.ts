import type { InvoiceStatus, SubscriptionStatus } from "../db/database.ts";
import type { NoticeData } from "./notice-templates.ts";

/** What a notice's relevance depends on, read when it is about to be sent. */
export interface NoticeState {
  subscriptionStatus: SubscriptionStatus;
  currentCycle: number;
  cancelAtPeriodEnd: boolean;
  /** The status of the invoice of the notice's cycle; null when it has none (yet). */
  invoiceStatus: InvoiceStatus | null;
}

// Subscriptions that are over: no dunning notice can help any more.
const ENDED: ReadonlySet<SubscriptionStatus> = new Set(["canceled", "incomplete_expired"]);

/**
 * Why a notice decided earlier no longer applies when it can finally be
 * sent (after an SMTP outage, say), or null when it still does. A dunning
 * notice is moot once its invoice is settled (paid, void, written off) or the
 * subscription ended; a renewal reminder once the renewal happened, its time
 * passed, or the subscription will not renew. A cancellation notice always
 * applies; a trial's end notice only while the trial runs. `data` is null for notices stored before intents (no facts kept).
 * Pure.
 */
export function noticeMoot(notice: { kind: NoticeData["kind"]; cycle: number }, data: NoticeData | null, state: NoticeState, now: Date): string | null {
  switch (notice.kind) {
    case "subscription_canceled":
      return null;
    case "renewal_reminder":
      if (state.subscriptionStatus !== "active") return `the subscription is ${state.subscriptionStatus}`;
      if (state.cancelAtPeriodEnd) return "the subscription ends at the period end";
      if (state.currentCycle >= notice.cycle) return `the renewal to cycle ${notice.cycle} happened`;
      if (data?.kind === "renewal_reminder" && data.renewsAt.getTime() <= now.getTime()) return "the renewal time has passed";
      return null;
    case "trial_will_end":
      if (state.subscriptionStatus !== "trialing") return `the subscription is ${state.subscriptionStatus}`;
      if (state.cancelAtPeriodEnd) return "the subscription ends with the trial";
      if (data?.kind === "trial_will_end" && data.trialEnd.getTime() <= now.getTime()) return "the trial has ended";
      return null;
    case "payment_failed":
    case "card_expired":
    case "card_needs_replacing":
    case "final_notice":
      if (ENDED.has(state.subscriptionStatus)) return `the subscription is ${state.subscriptionStatus}`;
      if (state.invoiceStatus !== null && state.invoiceStatus !== "open") return `the cycle's invoice is ${state.invoiceStatus}`;
      return null;
  }
}
