// What each Oen outcome code means for billing: which card declines are worth
// retrying, which codes are our own configuration's fault, and how to explain a
// decline to a customer. Source: oen-docs/api/error-codes.md.
import { ATTENTION_CODES, isDeclineCode, type DeclineCode } from "./charge-codes.ts";

export type DeclineClass = "soft" | "hard";
export type Locale = "zh-TW" | "en";

// A Record keyed by DeclineCode makes the compiler insist that every decline
// code Oen documents is classified and explained.
const DECLINES: Record<DeclineCode, { class: DeclineClass; reason: Record<Locale, string> }> = {
  T0001: { class: "soft", reason: { "zh-TW": "交易未獲授權", en: "the payment was declined" } },
  T0002: { class: "hard", reason: { "zh-TW": "安全碼錯誤", en: "the card security code (CVV) is incorrect" } },
  T0003: { class: "hard", reason: { "zh-TW": "卡片已過期", en: "the card has expired" } },
  T0004: { class: "soft", reason: { "zh-TW": "額度不足", en: "insufficient credit limit" } },
  T0005: { class: "soft", reason: { "zh-TW": "發卡銀行拒絕授權", en: "the card issuer refused the payment" } },
};

// A lookup can tell us a charge `failed` without any code; the customer still
// gets an honest, if general, reason.
const UNSPECIFIED_REASON: Record<Locale, string> = {
  "zh-TW": "交易失敗",
  en: "the payment failed",
};

// Codes Oen documents that are not card declines. Treating one as a soft decline
// would be dangerous: C026 and F0001 mean the charge may have gone through, and
// Oen says never to charge again under a new order; K0001 and configuration
// errors are the merchant's, and the customer must not be dunned for them.
const NOT_DECLINES: readonly string[] = [...ATTENTION_CODES, "S0000", "C026", "F0001", "R0001"];

function declineCodesOf(declineClass: DeclineClass): readonly DeclineCode[] {
  return Object.freeze(
    (Object.keys(DECLINES) as DeclineCode[]).filter((code) => DECLINES[code].class === declineClass),
  );
}

export const SOFT_DECLINE_CODES: readonly DeclineCode[] = declineCodesOf("soft");
export const HARD_DECLINE_CODES: readonly DeclineCode[] = declineCodesOf("hard");

function assertMayBeDecline(code: string | null): void {
  if (code !== null && NOT_DECLINES.includes(code)) {
    throw new RangeError(`Oen code "${code}" is not a card decline`);
  }
}

/**
 * Soft declines may succeed later on the same card; hard ones never will.
 * An absent or undocumented code counts as soft: the card may still work.
 * `hardCodes` lets a dunning policy reclassify the documented codes.
 * Throws RangeError for codes Oen documents as something other than a decline.
 */
export function classifyDecline(code: string | null, hardCodes: readonly DeclineCode[] = HARD_DECLINE_CODES): DeclineClass {
  assertMayBeDecline(code);
  return isDeclineCode(code) && hardCodes.includes(code) ? "hard" : "soft";
}

/** The decline's reason in plain words for the customer. Throws like classifyDecline. */
export function declineReason(code: string | null, locale: Locale = "zh-TW"): string {
  assertMayBeDecline(code);
  return (isDeclineCode(code) ? DECLINES[code].reason : UNSPECIFIED_REASON)[locale];
}
