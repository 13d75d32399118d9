import { CARD_UPDATE_LINK_TTL_MS, cardUpdateLink } from "../checkout/card-update-link.ts";
import type { Config } from "../config.ts";
import type { Notice } from "../db/database.ts";
import { portalLink } from "../portal/portal-link.ts";
import type { NoticeContext } from "./notice-repository.ts";
import type { NoticeData } from "./notice-templates.ts";
import { renderNotice, type RenderedNotice } from "./render-notice.ts";

export type NoticeMail = RenderedNotice & { locale: "zh-TW" | "en"; to: string };

/**
 * A notice as the email it is now: to the customer's current address, in
 * their language (any locale we do not write in gets Traditional Chinese),
 * dates in the billing time zone, with a card-update link and a portal entry
 * to this subscription signed at `now`, so that both live their whole life
 * (as long as the card link) from the moment it is sent. Pure.
 */
export function noticeMail(config: Pick<Config, "publicUrl" | "tokenKeys" | "billingTimezone">, notice: Pick<Notice, "subscription_id">, data: NoticeData, context: NoticeContext, now: Date): NoticeMail {
  const locale = context.locale === "en" ? "en" : "zh-TW";
  const portalUrl = portalLink(config, { customerId: context.customerId, subscriptionId: notice.subscription_id, locale: null, returnUrl: null }, now, CARD_UPDATE_LINK_TTL_MS).url;
  const content = { ...data, customerName: context.customerName, planName: context.planName, amount: context.amount, cardUpdateUrl: cardUpdateLink(config, notice.subscription_id, now), portalUrl };
  return { ...renderNotice(content, locale, config.billingTimezone), locale, to: context.email };
}
