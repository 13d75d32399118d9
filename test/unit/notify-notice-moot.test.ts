import { describe, expect, it } from "vitest";
import { noticeDataFrom, noticeFactsJson } from "../../src/notify/notice-data.ts";
import { noticeMoot, type NoticeState } from "../../src/notify/notice-moot.ts";
import type { NoticeData } from "../../src/notify/notice-templates.ts";

const NOW = new Date("2026-12-01T00:00:00Z");
const LATER = new Date("2026-12-03T00:00:00Z");
const dunning: NoticeState = { subscriptionStatus: "past_due", currentCycle: 2, cancelAtPeriodEnd: false, invoiceStatus: "open" };
const renewing: NoticeState = { subscriptionStatus: "active", currentCycle: 1, cancelAtPeriodEnd: false, invoiceStatus: null };
const failed: NoticeData = { kind: "payment_failed", declineCode: "T0004", nextRetryAt: LATER };
const reminder: NoticeData = { kind: "renewal_reminder", renewsAt: LATER };
const at = (data: NoticeData, cycle: number) => ({ kind: data.kind, cycle });

describe("noticeMoot", () => {
  it("lets a dunning notice go while its invoice is open and the subscription runs", () => {
    expect(noticeMoot(at(failed, 2), failed, dunning, NOW)).toBeNull();
    expect(noticeMoot(at(failed, 2), failed, { ...dunning, subscriptionStatus: "unpaid" }, NOW)).toBeNull();
    // A retry date gone by does not make it moot: the customer still has to learn the payment failed.
    expect(noticeMoot(at(failed, 2), failed, dunning, new Date("2026-12-05T00:00:00Z"))).toBeNull();
  });

  it.each(["paid", "void", "uncollectible"] as const)("drops a dunning notice once the invoice is %s", (status) => {
    expect(noticeMoot(at(failed, 2), failed, { ...dunning, invoiceStatus: status }, NOW)).toBe(`the cycle's invoice is ${status}`);
  });

  it("drops a dunning notice once the subscription ended, but never a cancellation notice", () => {
    const ended = { ...dunning, subscriptionStatus: "canceled" as const, invoiceStatus: "uncollectible" as const };
    expect(noticeMoot(at(failed, 2), failed, ended, NOW)).toBe("the subscription is canceled");
    const canceled: NoticeData = { kind: "subscription_canceled", cause: "dunning" };
    expect(noticeMoot(at(canceled, 2), canceled, ended, NOW)).toBeNull();
  });

  it("lets a renewal reminder go only before a renewal that will happen", () => {
    expect(noticeMoot(at(reminder, 2), reminder, renewing, NOW)).toBeNull();
    expect(noticeMoot(at(reminder, 2), reminder, { ...renewing, currentCycle: 2 }, NOW)).toBe("the renewal to cycle 2 happened");
    expect(noticeMoot(at(reminder, 2), reminder, { ...renewing, cancelAtPeriodEnd: true }, NOW)).toBe("the subscription ends at the period end");
    expect(noticeMoot(at(reminder, 2), reminder, { ...renewing, subscriptionStatus: "past_due" }, NOW)).toBe("the subscription is past_due");
    expect(noticeMoot(at(reminder, 2), reminder, renewing, LATER)).toBe("the renewal time has passed");
  });

  it("judges a notice stored before intents (no facts) by the state alone", () => {
    expect(noticeMoot({ kind: "renewal_reminder", cycle: 2 }, null, renewing, LATER)).toBeNull();
    expect(noticeMoot({ kind: "final_notice", cycle: 2 }, null, { ...dunning, invoiceStatus: "paid" }, NOW)).toBe("the cycle's invoice is paid");
  });
});

describe("notice data as stored", () => {
  it.each<NoticeData>([
    failed,
    { kind: "payment_failed", declineCode: null, nextRetryAt: null },
    { kind: "card_expired", deadline: LATER },
    { kind: "card_needs_replacing", declineCode: "T0002", deadline: null },
    { kind: "final_notice", lastRetryAt: LATER, withRetry: false, finalState: "unpaid" },
    { kind: "subscription_canceled", cause: "request" },
    reminder,
  ])("comes back as it went in: %o", (data) => {
    const stored = JSON.parse(noticeFactsJson(data)) as Record<string, unknown>;
    expect(stored).not.toHaveProperty("kind");
    expect(noticeDataFrom(data.kind, stored)).toEqual(data);
  });
});
