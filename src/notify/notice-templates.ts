import type { Locale } from "../billing/declines.ts";
import type { FinalState, NoticeKind } from "../billing/dunning-policy.ts";
import type { NoticeFormat } from "./notice-format.ts";

/**
 * What a notice says beyond the subscription itself: the facts the caller
 * decided, stored with the notice as its intent (the outbox).
 * Nothing here is rendered or signed: the worker adds the rest when it sends.
 */
export type NoticeData =
  | { kind: "payment_failed"; declineCode: string | null; nextRetryAt: Date | null }
  /** deadline: when the subscription reaches its final state without a new card (null: not scheduled). */
  | { kind: "card_expired"; deadline: Date | null }
  | { kind: "card_needs_replacing"; declineCode: string | null; deadline: Date | null }
  /** lastRetryAt: when the final state comes; withRetry: whether a last charge is tried then (soft declines) or only a new card helps (hard ones). */
  | { kind: "final_notice"; lastRetryAt: Date; withRetry: boolean; finalState: FinalState }
  | { kind: "subscription_canceled"; cause: "dunning" | "request" }
  | { kind: "renewal_reminder"; renewsAt: Date }
  /** trialEnd: when the trial ends and the first charge is made. */
  | { kind: "trial_will_end"; trialEnd: Date };

/** What the worker reads and signs when it sends a notice. */
export interface NoticeSubject {
  customerName: string;
  planName: string;
  /** The cycle's invoice amount, or the plan's before that invoice exists (a renewal reminder). */
  amount: number;
  /** A card-update link signed at send time, so it is valid for its whole life from the moment the customer gets it. */
  cardUpdateUrl: string;
  /** The portal entry of this subscription (signed at send time like the card link): where a dunning notice sends the customer. */
  portalUrl: string;
}

/** A notice's data with what it is about: everything its words need. */
export type NoticeContent = NoticeData & NoticeSubject;

/** Plain strings only: rendering escapes them once, so no template can forget to. */
export interface NoticeTemplate {
  subject: string;
  greeting: string;
  paragraphs: string[];
  action: { label: string; url: string } | null;
  /** A second way to the same end (the card page itself, beside the portal). */
  alternative: { label: string; url: string } | null;
  footer: string;
}

type Body = Omit<NoticeTemplate, "greeting" | "footer" | "alternative">;
type KindTemplates = { [K in NoticeKind]: (content: Extract<NoticeContent, { kind: K }>, format: NoticeFormat) => Body };

interface LocaleTemplates {
  greeting(name: string): string;
  footer: string;
  /** The card page itself, offered under a dunning notice's link to the portal. */
  cardPage: string;
  kinds: KindTemplates;
}

const zhTW: LocaleTemplates = {
  greeting: (name) => `${name} 您好：`,
  footer: "此信件由系統自動發送，請勿直接回覆。",
  cardPage: "或直接前往更換卡片頁面",
  kinds: {
    payment_failed: (c, f) => ({
      subject: `「${c.planName}」本期扣款未成功`,
      paragraphs: [
        `您訂閱的「${c.planName}」本期費用 ${f.amount(c.amount)} 扣款未成功，原因：${f.reason(c.declineCode)}。`,
        c.nextRetryAt === null
          ? "請點下方連結更新付款卡片，以免訂閱中斷。"
          : `我們將於 ${f.date(c.nextRetryAt)} 再次扣款，您不需要做任何事。若想改用其他卡片，請點下方連結更新。`,
      ],
      action: { label: "更新付款卡片", url: c.portalUrl },
    }),
    card_expired: (c, f) => ({
      subject: `「${c.planName}」的付款卡片已過期`,
      paragraphs: [
        `您用於「${c.planName}」的卡片已過期，本期費用 ${f.amount(c.amount)} 無法扣款。`,
        `請${c.deadline === null ? "" : `於 ${f.date(c.deadline)} 前`}點下方連結綁定新卡片，以免訂閱中斷。`,
      ],
      action: { label: "綁定新卡片", url: c.portalUrl },
    }),
    card_needs_replacing: (c, f) => ({
      subject: `請更換「${c.planName}」的付款卡片`,
      paragraphs: [
        `「${c.planName}」本期費用 ${f.amount(c.amount)} 無法以目前的卡片扣款，原因：${f.reason(c.declineCode)}。`,
        `請${c.deadline === null ? "" : `於 ${f.date(c.deadline)} 前`}點下方連結改用其他卡片，以免訂閱中斷。`,
      ],
      action: { label: "更換付款卡片", url: c.portalUrl },
    }),
    final_notice: (c, f) => ({
      subject: `「${c.planName}」即將${c.finalState === "canceled" ? "取消" : "暫停"}`,
      paragraphs: [
        `「${c.planName}」本期費用 ${f.amount(c.amount)} 仍未扣款成功。`,
        c.withRetry
          ? `我們將於 ${f.date(c.lastRetryAt)} 最後一次扣款；若仍未成功，您的訂閱將會${c.finalState === "canceled" ? "取消" : "暫停"}。`
          : `若在 ${f.date(c.lastRetryAt)} 前仍未更新付款卡片，您的訂閱將會${c.finalState === "canceled" ? "取消" : "暫停"}。`,
        "請點下方連結更新付款卡片。",
      ],
      action: { label: "更新付款卡片", url: c.portalUrl },
    }),
    subscription_canceled: (c, f) => ({
      subject: `「${c.planName}」訂閱已取消`,
      paragraphs: [
        c.cause === "dunning"
          ? `由於本期費用 ${f.amount(c.amount)} 多次扣款未成功，您的「${c.planName}」訂閱已取消。`
          : `您的「${c.planName}」訂閱已依您的要求取消。`,
        "感謝您的支持，歡迎隨時再次訂閱。",
      ],
      action: null,
    }),
    trial_will_end: (c, f) => ({
      subject: `「${c.planName}」免費試用即將結束`,
      paragraphs: [
        `您的「${c.planName}」免費試用將於 ${f.date(c.trialEnd)} 結束，屆時將以您綁定的卡片扣款 ${f.amount(c.amount)}，之後每期自動續訂。`,
        "若不想繼續訂閱，請在試用結束前取消；若需更換卡片，請點下方連結。",
      ],
      action: { label: "更換付款卡片", url: c.cardUpdateUrl },
    }),
    renewal_reminder: (c, f) => ({
      subject: `「${c.planName}」即將續訂`,
      paragraphs: [
        `您的「${c.planName}」訂閱將於 ${f.date(c.renewsAt)} 自動續訂，屆時將以您綁定的卡片扣款 ${f.amount(c.amount)}。`,
        "若需更換卡片，請點下方連結。",
      ],
      action: { label: "更換付款卡片", url: c.cardUpdateUrl },
    }),
  },
};

const en: LocaleTemplates = {
  greeting: (name) => `Hello ${name},`,
  footer: "This message was sent automatically; please do not reply to it.",
  cardPage: "Or go straight to the card page",
  kinds: {
    payment_failed: (c, f) => ({
      subject: `Your payment for ${c.planName} did not go through`,
      paragraphs: [
        `We could not charge ${f.amount(c.amount)} for your ${c.planName} subscription: ${f.reason(c.declineCode)}.`,
        c.nextRetryAt === null
          ? "Please update your card with the link below to keep your subscription."
          : `We will try again on ${f.date(c.nextRetryAt)}; you do not need to do anything. To use a different card, update it with the link below.`,
      ],
      action: { label: "Update your card", url: c.portalUrl },
    }),
    card_expired: (c, f) => ({
      subject: `The card for ${c.planName} has expired`,
      paragraphs: [
        `The card you use for ${c.planName} has expired, so we could not charge ${f.amount(c.amount)}.`,
        `Please add a new card with the link below${c.deadline === null ? "" : ` by ${f.date(c.deadline)}`} to keep your subscription.`,
      ],
      action: { label: "Add a new card", url: c.portalUrl },
    }),
    card_needs_replacing: (c, f) => ({
      subject: `Please replace the card for ${c.planName}`,
      paragraphs: [
        `We could not charge ${f.amount(c.amount)} for ${c.planName} to your current card: ${f.reason(c.declineCode)}.`,
        `Please switch to another card with the link below${c.deadline === null ? "" : ` by ${f.date(c.deadline)}`} to keep your subscription.`,
      ],
      action: { label: "Use another card", url: c.portalUrl },
    }),
    final_notice: (c, f) => ({
      subject: c.withRetry ? `Last attempt to renew ${c.planName}` : `${c.planName}: a new card is needed by ${f.date(c.lastRetryAt)}`,
      paragraphs: [
        `The payment of ${f.amount(c.amount)} for ${c.planName} is still outstanding.`,
        c.withRetry
          ? `We will make a last attempt on ${f.date(c.lastRetryAt)}. If it fails, your subscription will be ${c.finalState === "canceled" ? "canceled" : "suspended"}.`
          : `If no new card is added by ${f.date(c.lastRetryAt)}, your subscription will be ${c.finalState === "canceled" ? "canceled" : "suspended"}.`,
        "To avoid this, update your card with the link below.",
      ],
      action: { label: "Update your card", url: c.portalUrl },
    }),
    subscription_canceled: (c, f) => ({
      subject: `Your ${c.planName} subscription has been canceled`,
      paragraphs: [
        c.cause === "dunning"
          ? `Your ${c.planName} subscription has been canceled because we could not collect the payment of ${f.amount(c.amount)}.`
          : `Your ${c.planName} subscription has been canceled as you requested.`,
        "Thank you for being with us. You are welcome to subscribe again at any time.",
      ],
      action: null,
    }),
    trial_will_end: (c, f) => ({
      subject: `Your ${c.planName} trial ends on ${f.date(c.trialEnd)}`,
      paragraphs: [
        `Your free trial of ${c.planName} ends on ${f.date(c.trialEnd)}. Then ${f.amount(c.amount)} will be charged to your card on file, and the subscription renews every period.`,
        "To stop, cancel before the trial ends. To use a different card, update it with the link below.",
      ],
      action: { label: "Update your card", url: c.cardUpdateUrl },
    }),
    renewal_reminder: (c, f) => ({
      subject: `${c.planName} renews on ${f.date(c.renewsAt)}`,
      paragraphs: [
        `Your ${c.planName} subscription renews on ${f.date(c.renewsAt)}, and ${f.amount(c.amount)} will be charged to your card on file.`,
        "To use a different card, update it with the link below.",
      ],
      action: { label: "Update your card", url: c.cardUpdateUrl },
    }),
  },
};

const TEMPLATES: Record<Locale, LocaleTemplates> = { "zh-TW": zhTW, en };

/** The words of a notice in the customer's language. */
export function noticeTemplate(content: NoticeContent, locale: Locale, format: NoticeFormat): NoticeTemplate {
  const templates = TEMPLATES[locale];
  // The compiler cannot follow `content.kind` into the mapped type; KindTemplates guarantees the pairing.
  const body = (templates.kinds[content.kind] as (c: NoticeContent, f: NoticeFormat) => Body)(content, format);
  // A link to the portal keeps the card page one click away too.
  const alternative = body.action?.url === content.portalUrl ? { label: templates.cardPage, url: content.cardUpdateUrl } : null;
  return { ...body, alternative, greeting: templates.greeting(content.customerName), footer: templates.footer };
}
