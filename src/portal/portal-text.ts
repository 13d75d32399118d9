import type { Interval, InvoiceStatus, SubscriptionStatus } from "../db/database.ts";
import { noticeFormat, type NoticeFormat } from "../notify/notice-format.ts";
import type { PortalLocale } from "./portal-locale.ts";

/** The messages a page can open with, after an action (`?done=`) or a return from Oen's page (`?card=`). */
export type PortalFlash = "cancel_scheduled" | "resumed" | "plan_changed" | "plan_scheduled" | "plan_pending" | "card_updated" | "card_failed" | "invoice_info_saved";

/** Pages that say something went wrong, with their HTTP status. */
export type PortalProblem =
  | "link_invalid"
  | "link_expired"
  | "no_session"
  | "bad_form"
  | "not_found"
  | "in_progress"
  | "already_submitted"
  | "not_updatable"
  | "not_possible"
  | "oen_unavailable";

export const PROBLEM_STATUS: Record<PortalProblem, number> = {
  link_invalid: 403,
  link_expired: 410,
  no_session: 401,
  bad_form: 403,
  not_found: 404,
  in_progress: 409,
  already_submitted: 422,
  not_updatable: 409,
  not_possible: 409,
  oen_unavailable: 502,
};

/** Every word of the portal in one language. */
export interface PortalText {
  locale: PortalLocale;
  format: NoticeFormat;
  portalTitle: string;
  otherLanguage: { locale: PortalLocale; label: string };
  back: string;
  allSubscriptions: string;
  hello(name: string): string;
  yourSubscriptions: string;
  noSubscriptions: string;
  manage: string;
  status: Record<SubscriptionStatus, string>;
  labels: { status: string; price: string; nextCharge: string; trialEnd: string; cancellation: string; card: string; noCard: string };
  price(amount: number, interval: Interval, count: number): string;
  nextCharge(amount: number, at: Date | null): string;
  endsOn(at: Date): string;
  pendingPlan(plan: string, at: Date | null): string;
  pastDue(reason: string, amount: number): string;
  unpaid(amount: number): string;
  attention: string;
  flash: Record<PortalFlash, (details: { plan?: string; at?: Date | null }) => string>;
  actions: { changeCard: string; cancel: string; resume: string; changePlan: string; editInvoiceInfo: string };
  cancelPage: { title: string; runsUntil(plan: string, at: Date | null): string; resumeBefore: string; confirm: string; keep: string };
  planPage: {
    title: string;
    current(plan: string, price: string): string;
    none: string;
    choose: string;
    switchTo(plan: string): string;
    chargeNow(amount: number, last4: string | null, price: string): string;
    freeNow(price: string): string;
    atPeriodEnd(at: Date | null, price: string): string;
    confirm: string;
    amountChanged: string;
    declined(reason: string): string;
  };
  invoices: { title: string; none: string; period: string; amount: string; status: string; paidOn: string; refunded: string; proration: string; statuses: Record<InvoiceStatus, string> };
  invoiceInfo: {
    title: string;
    intro: string;
    current: string;
    notSet: string;
    kind: string;
    kinds: { none: string; member: string; mobile: string; citizen: string; company: string };
    carrierId: string;
    carrierHint: string;
    buyerIdentifier: string;
    buyerName: string;
    email: string;
    save: string;
    errors: Record<"kind" | "carrierId" | "buyerIdentifier" | "buyerName" | "email", string>;
    describe(info: { kind: keyof PortalText["invoiceInfo"]["kinds"]; id?: string }): string;
  };
  problems: Record<PortalProblem, [title: string, text: string]>;
}

const zhCadence: Record<Interval, string> = { day: "天", week: "週", month: "月", year: "年" };
const enCadence: Record<Interval, string> = { day: "day", week: "week", month: "month", year: "year" };

function zhTW(timeZone: string): PortalText {
  const f = noticeFormat("zh-TW", timeZone);
  const date = (at: Date | null) => (at === null ? "本期結束時" : f.date(at));
  return {
    locale: "zh-TW",
    format: f,
    portalTitle: "訂閱管理",
    otherLanguage: { locale: "en", label: "English" },
    back: "返回網站",
    allSubscriptions: "← 所有訂閱",
    hello: (name) => `${name} 您好`,
    yourSubscriptions: "您的訂閱",
    noSubscriptions: "目前沒有訂閱。",
    manage: "管理訂閱",
    status: {
      incomplete: "等待綁定卡片",
      incomplete_expired: "未完成",
      trialing: "試用中",
      active: "使用中",
      past_due: "付款未成功",
      unpaid: "已暫停（未付款）",
      canceled: "已取消",
    },
    labels: { status: "狀態", price: "方案價格", nextCharge: "下次扣款", trialEnd: "試用結束", cancellation: "取消", card: "付款卡片", noCard: "尚未綁定" },
    price: (amount, interval, count) => `${f.amount(amount)} / ${count === 1 ? `每${zhCadence[interval]}` : `每 ${count} ${interval === "month" ? "個月" : zhCadence[interval]}`}`,
    nextCharge: (amount, at) => (at === null ? `${f.amount(amount)}，更換卡片後立即扣款` : `${f.date(at)} 扣款 ${f.amount(amount)}`),
    endsOn: (at) => `服務將於 ${f.date(at)} 結束，之後不再扣款`,
    pendingPlan: (plan, at) => `將於 ${date(at)} 改為「${plan}」`,
    pastDue: (reason, amount) => `上次扣款未成功，原因：${reason}。更換付款卡片後，我們會立即重新扣款 ${f.amount(amount)}。`,
    unpaid: (amount) => `由於 ${f.amount(amount)} 未能扣款，訂閱已暫停。更換付款卡片後即會重新扣款並恢復服務。`,
    attention: "付款處理暫時延遲，問題在我們這邊，您不需要做任何事。",
    flash: {
      cancel_scheduled: ({ at }) => `已排定取消：服務將持續到 ${date(at ?? null)}。`,
      resumed: () => "已恢復訂閱，將照常續訂。",
      plan_changed: ({ plan }) => `已切換為「${plan}」。`,
      plan_scheduled: ({ plan, at }) => `將於 ${date(at ?? null)} 切換為「${plan}」。`,
      plan_pending: () => "差額扣款處理中，完成後方案即會切換。",
      card_updated: () => "已收到新卡片。若有未付的帳單，我們正在重新扣款，請稍候片刻。",
      card_failed: () => "卡片沒有綁定成功，請再試一次或改用其他卡片。",
      invoice_info_saved: () => "電子發票資料已儲存。",
    },
    actions: { changeCard: "更換付款卡片", cancel: "取消訂閱", resume: "恢復訂閱", changePlan: "變更方案", editInvoiceInfo: "編輯電子發票資料" },
    cancelPage: {
      title: "取消訂閱",
      runsUntil: (plan, at) => `您的「${plan}」服務將持續到 ${date(at)}，之後不再扣款。`,
      resumeBefore: "在那之前，您隨時可以回到這裡恢復訂閱。",
      confirm: "確認取消",
      keep: "保留訂閱",
    },
    planPage: {
      title: "變更方案",
      current: (plan, price) => `目前方案：「${plan}」，${price}`,
      none: "目前沒有其他可以自行切換的方案。",
      choose: "選擇此方案",
      switchTo: (plan) => `切換為「${plan}」`,
      chargeNow: (amount, last4, price) =>
        `立即生效。本期剩餘期間的差額 ${f.amount(amount)} 將立即以您的卡片${last4 === null ? "" : `（末四碼 ${last4}）`}扣款；下次續訂起為 ${price}。`,
      freeNow: (price) => `立即生效，不另外扣款；之後為 ${price}。`,
      atPeriodEnd: (at, price) => `將於本期結束時（${date(at)}）生效，之後為 ${price}。本期已付的費用不退還。`,
      confirm: "確認變更",
      amountChanged: "差額已隨時間更新，請確認新的金額。",
      declined: (reason) => `差額扣款未成功（${reason}），方案沒有變更。`,
    },
    invoices: {
      title: "帳單",
      none: "尚無帳單。",
      period: "期間",
      amount: "金額",
      status: "狀態",
      paidOn: "付款日",
      refunded: "已退款",
      proration: "方案差額",
      statuses: { open: "待付款", paid: "已付款", uncollectible: "無法收款", void: "已作廢" },
    },
    invoiceInfo: {
      title: "電子發票",
      intro: "每次扣款時開立的電子發票會使用以下資料。",
      current: "目前設定",
      notSet: "未設定（使用商店預設的會員載具）",
      kind: "發票類型",
      kinds: { none: "不指定（商店預設）", member: "會員載具", mobile: "手機條碼", citizen: "自然人憑證", company: "公司（統一編號）" },
      carrierId: "載具號碼",
      carrierHint: "手機條碼為「/」加 7 碼；自然人憑證為 2 個英文字母加 14 個數字。",
      buyerIdentifier: "統一編號",
      buyerName: "公司名稱（選填）",
      email: "發票通知 Email（選填）",
      save: "儲存",
      errors: {
        kind: "請選擇發票類型。",
        carrierId: "載具號碼格式不正確：手機條碼為「/」加 7 碼，自然人憑證為 2 個英文字母加 14 個數字。",
        buyerIdentifier: "統一編號不正確：請輸入 8 位數字，並確認號碼無誤。",
        buyerName: "公司名稱最多 60 個字。",
        email: "Email 格式不正確。",
      },
      describe: ({ kind, id }) => (kind === "none" ? "未設定（使用商店預設的會員載具）" : `${{ member: "會員載具", mobile: "手機條碼", citizen: "自然人憑證", company: "統一編號" }[kind]}${id === undefined ? "" : ` ${id}`}`),
    },
    problems: {
      link_invalid: ["連結無效", "這個連結不完整或已被修改。請回到網站，或使用通知信中的完整連結，重新開啟訂閱管理頁。"],
      link_expired: ["連結已過期", "這個連結已經失效。請回到網站，或使用最新通知信中的連結，重新開啟訂閱管理頁。"],
      no_session: ["請重新開啟訂閱管理頁", "您的使用階段已結束（有效 1 小時）。請回到網站或使用通知信中的連結重新開啟。"],
      bad_form: ["表單已失效", "這個表單已過期或不完整，沒有做任何變更。請重新整理頁面後再試一次。"],
      not_found: ["找不到頁面", "找不到這個頁面或訂閱。"],
      in_progress: ["處理中", "您的要求仍在處理中，請稍候片刻再重新整理。"],
      already_submitted: ["表單已送出", "這個表單已經送出過了。請回到訂閱頁查看結果。"],
      not_updatable: ["無法更換卡片", "這個訂閱已結束或尚在試用中，目前無法更換付款卡片。"],
      not_possible: ["無法完成", "這個訂閱目前的狀態無法進行這項操作。"],
      oen_unavailable: ["暫時無法開啟付款頁面", "請稍後再試一次。"],
    },
  };
}

function en(timeZone: string): PortalText {
  const f = noticeFormat("en", timeZone);
  const date = (at: Date | null) => (at === null ? "the end of this period" : f.date(at));
  return {
    locale: "en",
    format: f,
    portalTitle: "Manage your subscriptions",
    otherLanguage: { locale: "zh-TW", label: "中文" },
    back: "Back to the site",
    allSubscriptions: "← All subscriptions",
    hello: (name) => `Hello ${name}`,
    yourSubscriptions: "Your subscriptions",
    noSubscriptions: "You have no subscriptions.",
    manage: "Manage",
    status: {
      incomplete: "Waiting for a card",
      incomplete_expired: "Not completed",
      trialing: "Free trial",
      active: "Active",
      past_due: "Payment failed",
      unpaid: "Suspended (unpaid)",
      canceled: "Canceled",
    },
    labels: { status: "Status", price: "Price", nextCharge: "Next charge", trialEnd: "Trial ends", cancellation: "Cancellation", card: "Card", noCard: "none" },
    price: (amount, interval, count) => `${f.amount(amount)} ${count === 1 ? `per ${enCadence[interval]}` : `every ${count} ${enCadence[interval]}s`}`,
    nextCharge: (amount, at) => (at === null ? `${f.amount(amount)}, as soon as you add a new card` : `${f.amount(amount)} on ${f.date(at)}`),
    endsOn: (at) => `Ends on ${f.date(at)}; nothing is charged after that`,
    pendingPlan: (plan, at) => `Switches to ${plan} on ${date(at)}`,
    pastDue: (reason, amount) => `Your last payment did not go through: ${reason}. Change your card and we will charge ${f.amount(amount)} again right away.`,
    unpaid: (amount) => `Your subscription is suspended because ${f.amount(amount)} could not be charged. Change your card and we will charge it again and restore the service.`,
    attention: "A payment is delayed by a problem on our side; you do not need to do anything.",
    flash: {
      cancel_scheduled: ({ at }) => `Cancellation scheduled: your service runs until ${date(at ?? null)}.`,
      resumed: () => "Your subscription is resumed and renews as before.",
      plan_changed: ({ plan }) => `You are now on ${plan}.`,
      plan_scheduled: ({ plan, at }) => `You switch to ${plan} on ${date(at ?? null)}.`,
      plan_pending: () => "The charge for the difference is being processed; the plan switches once it is paid.",
      card_updated: () => "We received your new card. If an invoice was due, we are charging it now; this takes a moment.",
      card_failed: () => "The card was not added. Please try again or use another card.",
      invoice_info_saved: () => "Your e-invoice details are saved.",
    },
    actions: { changeCard: "Change card", cancel: "Cancel subscription", resume: "Resume subscription", changePlan: "Change plan", editInvoiceInfo: "Edit e-invoice details" },
    cancelPage: {
      title: "Cancel subscription",
      runsUntil: (plan, at) => `Your ${plan} service runs until ${date(at)}; nothing is charged after that.`,
      resumeBefore: "Until then, you can come back here and resume it at any time.",
      confirm: "Confirm cancellation",
      keep: "Keep my subscription",
    },
    planPage: {
      title: "Change plan",
      current: (plan, price) => `Current plan: ${plan}, ${price}`,
      none: "There is no other plan you can switch to here.",
      choose: "Choose this plan",
      switchTo: (plan) => `Switch to ${plan}`,
      chargeNow: (amount, last4, price) =>
        `Takes effect now. The difference for the rest of this period, ${f.amount(amount)}, is charged to your card${last4 === null ? "" : ` ending in ${last4}`} now; from the next renewal you pay ${price}.`,
      freeNow: (price) => `Takes effect now, with nothing charged now; then ${price}.`,
      atPeriodEnd: (at, price) => `Takes effect when this period ends (${date(at)}); then ${price}. Nothing is refunded for this period.`,
      confirm: "Confirm change",
      amountChanged: "The difference has changed with time; please confirm the new amount.",
      declined: (reason) => `The charge for the difference did not go through (${reason}); your plan did not change.`,
    },
    invoices: {
      title: "Invoices",
      none: "No invoices yet.",
      period: "Period",
      amount: "Amount",
      status: "Status",
      paidOn: "Paid on",
      refunded: "Refunded",
      proration: "plan change",
      statuses: { open: "Due", paid: "Paid", uncollectible: "Uncollectible", void: "Void" },
    },
    invoiceInfo: {
      title: "E-invoice",
      intro: "The e-invoice (電子發票) of every charge is issued with these details.",
      current: "Current details",
      notSet: "Not set (the shop's member carrier)",
      kind: "Invoice type",
      kinds: { none: "Not set (the shop's default)", member: "Member carrier", mobile: "Mobile barcode", citizen: "Citizen certificate", company: "Company (tax ID)" },
      carrierId: "Carrier number",
      carrierHint: 'A mobile barcode is "/" and 7 characters; a citizen certificate is 2 letters and 14 digits.',
      buyerIdentifier: "Tax ID (統一編號)",
      buyerName: "Company name (optional)",
      email: "Email for the invoice notice (optional)",
      save: "Save",
      errors: {
        kind: "Please choose an invoice type.",
        carrierId: 'The carrier number is not valid: a mobile barcode is "/" and 7 characters, a citizen certificate 2 letters and 14 digits.',
        buyerIdentifier: "The tax ID is not valid: it has 8 digits, and its check digit must match.",
        buyerName: "The company name is at most 60 characters.",
        email: "The email address is not valid.",
      },
      describe: ({ kind, id }) => (kind === "none" ? "Not set (the shop's member carrier)" : `${{ member: "Member carrier", mobile: "Mobile barcode", citizen: "Citizen certificate", company: "Tax ID" }[kind]}${id === undefined ? "" : ` ${id}`}`),
    },
    problems: {
      link_invalid: ["Invalid link", "This link is incomplete or has been altered. Please open your subscription page again from the site, or use the full link from your email."],
      link_expired: ["This link has expired", "This link no longer works. Please open your subscription page again from the site, or use the link in our most recent email."],
      no_session: ["Please open your subscription page again", "Your visit has ended (it lasts one hour). Please open the page again from the site or from the link in your email."],
      bad_form: ["This form has expired", "This form has expired or is incomplete, and nothing was changed. Please reload the page and try again."],
      not_found: ["Page not found", "We could not find this page or subscription."],
      in_progress: ["Still working", "Your request is still being processed. Please wait a moment and reload."],
      already_submitted: ["Already submitted", "This form was already submitted. Please go back to your subscription to see the result."],
      not_updatable: ["The card cannot be changed", "This subscription has ended or is in its trial, so its card cannot be changed now."],
      not_possible: ["This cannot be done", "This subscription's current state does not allow this."],
      oen_unavailable: ["The card page is unavailable", "We could not open the card page right now. Please try again in a few minutes."],
    },
  };
}

/** The portal's words in `locale`, dates in the billing time zone. */
export function portalText(locale: PortalLocale, timeZone: string): PortalText {
  return locale === "en" ? en(timeZone) : zhTW(timeZone);
}
