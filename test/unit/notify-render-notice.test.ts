import { describe, expect, it } from "vitest";
import type { Locale } from "../../src/billing/declines.ts";
import type { NoticeKind } from "../../src/billing/dunning-policy.ts";
import type { NoticeContent, NoticeData } from "../../src/notify/notice-templates.ts";
import { renderNotice } from "../../src/notify/render-notice.ts";

const LINK = "https://billing.example.com/billing/card/k1.sub_1.1800000000.abc";
const PORTAL = "https://billing.example.com/portal/enter?token=k1.eyJjIjoiY3VzXzEifQ.abc";
// 01:30 on 3 December in Taipei, still 2 December in UTC.
const AT = new Date("2026-12-02T17:30:00Z");
const TAIPEI = "Asia/Taipei";

// The links are signed by the worker at send time; every kind but a cancellation carries the card link.
const about = { customerName: "王小明", planName: "Premium", amount: 1299, cardUpdateUrl: LINK, portalUrl: PORTAL };
const DUNNING: NoticeKind[] = ["payment_failed", "card_expired", "card_needs_replacing", "final_notice"];
const content = (data: NoticeData): NoticeContent => ({ ...data, ...about });

const EVERY_KIND: Record<NoticeKind, NoticeData> = {
  payment_failed: { kind: "payment_failed", declineCode: "T0004", nextRetryAt: AT },
  card_expired: { kind: "card_expired", deadline: AT },
  card_needs_replacing: { kind: "card_needs_replacing", declineCode: "T0002", deadline: AT },
  final_notice: { kind: "final_notice", lastRetryAt: AT, withRetry: true, finalState: "canceled" },
  subscription_canceled: { kind: "subscription_canceled", cause: "dunning" },
  renewal_reminder: { kind: "renewal_reminder", renewsAt: AT },
  trial_will_end: { kind: "trial_will_end", trialEnd: AT },
};

describe("renderNotice", () => {
  describe.each(["zh-TW", "en"] as Locale[])("every kind in %s", (locale) => {
    it.each(Object.keys(EVERY_KIND) as NoticeKind[])("%s: subject, greeting, plan, text and HTML agree", (kind) => {
      const notice = renderNotice(content(EVERY_KIND[kind]), locale, TAIPEI);
      expect(notice.subject).toContain("Premium");
      expect(notice.text).toContain(locale === "en" ? "Hello 王小明," : "王小明 您好：");
      expect(notice.html).toContain(`<html lang="${locale}">`);
      // The HTML says what the text says, paragraph by paragraph.
      for (const paragraph of notice.text.split("\n\n").slice(0, 2)) expect(notice.html).toContain(paragraph);
      const hasLink = kind !== "subscription_canceled";
      expect(notice.text.includes(LINK)).toBe(hasLink);
      expect(notice.html.includes(`href="${LINK}"`)).toBe(hasLink);
      // Dunning notices lead to the subscription's portal page first, the card page beside it.
      const toPortal = DUNNING.includes(kind);
      expect(notice.html.includes(`href="${PORTAL.replace("&", "&amp;")}"`)).toBe(toPortal);
      if (toPortal) expect(notice.text.indexOf(PORTAL)).toBeLessThan(notice.text.indexOf(LINK));
    });
  });

  it("explains a failed payment in Traditional Chinese: reason, amount, next retry in Taipei's calendar, link", () => {
    const notice = renderNotice(content(EVERY_KIND.payment_failed), "zh-TW", TAIPEI);
    expect(notice.subject).toBe("「Premium」本期扣款未成功");
    expect(notice.text).toContain("本期費用 NT$1,299 扣款未成功，原因：額度不足。");
    expect(notice.text).toContain("我們將於 2026年12月3日 再次扣款");
    expect(notice.text).toContain(`更新付款卡片:\n${PORTAL}`);
    expect(notice.text).toContain(`或直接前往更換卡片頁面:\n${LINK}`);
  });

  it("explains a failed payment in English", () => {
    const notice = renderNotice(content(EVERY_KIND.payment_failed), "en", TAIPEI);
    expect(notice.subject).toBe("Your payment for Premium did not go through");
    expect(notice.text).toContain("We could not charge NT$1,299 for your Premium subscription: insufficient credit limit.");
    expect(notice.text).toContain("We will try again on December 3, 2026");
  });

  it("shows dates in the billing time zone it is given", () => {
    expect(renderNotice(content(EVERY_KIND.payment_failed), "en", "UTC").text).toContain("December 2, 2026");
  });

  it("asks for a new card at once when no retry is scheduled", () => {
    const data: NoticeData = { kind: "payment_failed", declineCode: null, nextRetryAt: null };
    expect(renderNotice(content(data), "zh-TW", TAIPEI).text).toContain("原因：交易失敗。\n\n請點下方連結更新付款卡片");
    expect(renderNotice(content(data), "en", TAIPEI).text).toContain("the payment failed.\n\nPlease update your card");
  });

  it("gives the deadline of an expired card, or none when there is none", () => {
    expect(renderNotice(content(EVERY_KIND.card_expired), "zh-TW", TAIPEI).text).toContain("請於 2026年12月3日 前點下方連結綁定新卡片");
    expect(renderNotice(content({ kind: "card_expired", deadline: null }), "en", TAIPEI).text).toContain(
      "Please add a new card with the link below to keep your subscription.",
    );
  });

  it("names the hard decline that makes a card unusable", () => {
    expect(renderNotice(content(EVERY_KIND.card_needs_replacing), "zh-TW", TAIPEI).text).toContain("原因：安全碼錯誤。");
    expect(renderNotice(content(EVERY_KIND.card_needs_replacing), "en", TAIPEI).text).toContain("the card security code (CVV) is incorrect");
  });

  it("says what the final state will be", () => {
    const suspended: NoticeData = { kind: "final_notice", lastRetryAt: AT, withRetry: true, finalState: "unpaid" };
    const newCardOnly: NoticeData = { kind: "final_notice", lastRetryAt: AT, withRetry: false, finalState: "canceled" };
    expect(renderNotice(content(newCardOnly), "zh-TW", TAIPEI).text).toMatch(/前仍未更新付款卡片，您的訂閱將會取消/);
    expect(renderNotice(content(newCardOnly), "en", TAIPEI).text).toContain("If no new card is added by");
    expect(renderNotice(content(newCardOnly), "en", TAIPEI).text).not.toContain("last attempt");
    expect(renderNotice(content(EVERY_KIND.final_notice), "zh-TW", TAIPEI).text).toContain("您的訂閱將會取消");
    expect(renderNotice(content(suspended), "zh-TW", TAIPEI).subject).toBe("「Premium」即將暫停");
    expect(renderNotice(content(suspended), "en", TAIPEI).text).toContain("your subscription will be suspended");
  });

  it("tells a cancellation by dunning from one by request", () => {
    expect(renderNotice(content(EVERY_KIND.subscription_canceled), "en", TAIPEI).text).toContain("because we could not collect the payment of NT$1,299");
    const byRequest = renderNotice(content({ kind: "subscription_canceled", cause: "request" }), "zh-TW", TAIPEI);
    expect(byRequest.text).toContain("已依您的要求取消");
    expect(byRequest.text).not.toContain("NT$");
  });

  it("reminds of a renewal, with a card link", () => {
    const english = renderNotice(content(EVERY_KIND.renewal_reminder), "en", TAIPEI);
    expect(english.subject).toBe("Premium renews on December 3, 2026");
    expect(english.text).toContain("NT$1,299 will be charged to your card on file");
    const chinese = renderNotice(content(EVERY_KIND.renewal_reminder), "zh-TW", TAIPEI);
    expect(chinese.text).toContain("若需更換卡片");
    expect(chinese.html).toContain(`href="${LINK}"`);
  });

  it("escapes names, plan names and links in the HTML, and keeps the text as written", () => {
    const link = `https://billing.example.com/billing/card/x"><img src=y onerror=alert(1)>`;
    const hostile = { customerName: `<script>alert("x")</script>`, planName: `Gold & "Silver" <b>`, amount: 10, cardUpdateUrl: link, portalUrl: PORTAL };
    const notice = renderNotice({ ...EVERY_KIND.payment_failed, ...hostile } as NoticeContent, "en", TAIPEI);
    expect(notice.html).not.toContain("<script>");
    expect(notice.html).not.toContain("<b>");
    expect(notice.html).not.toContain("<img");
    expect(notice.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(notice.html).toContain("Gold &amp; &quot;Silver&quot; &lt;b&gt;");
    expect(notice.html).toContain(`href="https://billing.example.com/billing/card/x&quot;&gt;&lt;img src=y onerror=alert(1)&gt;"`);
    expect(notice.text).toContain(`Hello <script>alert("x")</script>,`);
  });

  it("keeps the subject on one line whatever the plan name holds", () => {
    const notice = renderNotice({ ...EVERY_KIND.card_expired, ...about, planName: "Evil\r\nBcc: victim@example.com" }, "en", TAIPEI);
    expect(notice.subject).toBe("The card for Evil Bcc: victim@example.com has expired");
  });
});
