/*
 * Test cards of the Oen simulator: the card number typed on the hosted binding page (or passed
 * to `sim.bindCard`) chooses what happens, at binding time and at every later token charge.
 * Expiry (MM/YY, not in the past: the page refuses an expired card like Oen's does), CVC
 * (3–4 digits) and email are required on the page but do not change the outcome.
 *
 * | card number              | binding                                   | token charges                          |
 * | ------------------------ | ----------------------------------------- | -------------------------------------- |
 * | 4242 4242 4242 4242      | succeeds                                  | always succeed                         |
 * | 4000 0000 0000 0001      | succeeds                                  | always decline T0001 (general)         |
 * | 4000 0000 0000 0002      | succeeds                                  | always decline T0002 (CVV)             |
 * | 4000 0000 0000 0003      | succeeds                                  | always decline T0003 (card expired)    |
 * | 4000 0000 0000 0004      | succeeds                                  | always decline T0004 (insufficient)    |
 * | 4000 0000 0000 0005      | succeeds                                  | always decline T0005 (issuer refused)  |
 * | 4000 0000 0000 0009      | succeeds                                  | always decline K0001 (risk refusal)    |
 * | 4100 0000 00C0 KKKK      | succeeds                                  | the first KKKK charges of the token    |
 * |                          |                                           | decline with code C (1–5: T000C,       |
 * |                          |                                           | 9: K0001), then every charge succeeds  |
 * | 4000 0000 0000 0101      | fails: webhook success:false, message     | —                                      |
 * |                          | CARD_VERIFICATION_FAILED; redirect to     |                                        |
 * |                          | failureUrl?payment_error=T0001            |                                        |
 * | 4000 0000 0000 0102      | fails: webhook success:false, message     | —                                      |
 * |                          | 3DS_ABANDONED (sent at once, not after    |                                        |
 * |                          | 10 minutes); payment_error=T0001          |                                        |
 * | any other 13–19 digits   | succeeds                                  | always succeed                         |
 *
 * Example: 4100000000400002 (`flakyCardNumber("T0004", 2)`) declines twice with T0004, then pays.
 * Decline counts belong to the token: binding the same card again gives a fresh token and count.
 */
import type { DeclineCode } from "../../billing/charge-codes.ts";

/** What a simulated card can be refused with: a card decline, or K0001 (risk control refusing the merchant). */
export type CardRefusalCode = DeclineCode | "K0001";

export const TEST_CARDS = {
  success: "4242424242424242",
  declineGeneral: "4000000000000001",
  declineCvv: "4000000000000002",
  declineExpired: "4000000000000003",
  declineInsufficientCredit: "4000000000000004",
  declineIssuerRefused: "4000000000000005",
  declineRisk: "4000000000000009",
  bindingFails: "4000000000000101",
  threeDsAbandoned: "4000000000000102",
} as const;

export interface CardBehaviour {
  /** null: binding succeeds; otherwise the `message` of the failed token webhook. */
  bindingFailure: string | null;
  /** How many charges of a token decline before they succeed (Infinity: all of them). */
  declines: number;
  declineCode: CardRefusalCode;
}

/** Oen-style `message` of each decline (the code is what programs read). */
export const DECLINE_MESSAGES: Readonly<Record<CardRefusalCode, string>> = {
  T0001: "TRANSACTION_FAILED",
  T0002: "INVALID_CVV",
  T0003: "CARD_EXPIRED",
  T0004: "INSUFFICIENT_CREDIT",
  T0005: "ISSUER_DECLINED",
  K0001: "RISK_CONTROL_REJECTED",
};

const CODE_DIGITS: Readonly<Record<string, CardRefusalCode>> = {
  "1": "T0001",
  "2": "T0002",
  "3": "T0003",
  "4": "T0004",
  "5": "T0005",
  "9": "K0001",
};

const ALWAYS_DECLINES = /^400000000000000([1-59])$/;
const FLAKY = /^4100000000([1-59])0(\d{4})$/;
const SUCCEEDS: CardBehaviour = { bindingFailure: null, declines: 0, declineCode: "T0001" };

export function cardBehaviour(cardNumber: string): CardBehaviour {
  if (cardNumber === TEST_CARDS.bindingFails) return { ...SUCCEEDS, bindingFailure: "CARD_VERIFICATION_FAILED" };
  if (cardNumber === TEST_CARDS.threeDsAbandoned) return { ...SUCCEEDS, bindingFailure: "3DS_ABANDONED" };
  const always = ALWAYS_DECLINES.exec(cardNumber);
  if (always?.[1] !== undefined) return { bindingFailure: null, declines: Infinity, declineCode: codeOf(always[1]) };
  const flaky = FLAKY.exec(cardNumber);
  if (flaky?.[1] !== undefined && flaky[2] !== undefined) {
    return { bindingFailure: null, declines: Number(flaky[2]), declineCode: codeOf(flaky[1]) };
  }
  return SUCCEEDS;
}

/** The card whose token declines its first `declines` charges with `code`, then succeeds. */
export function flakyCardNumber(code: CardRefusalCode, declines: number): string {
  const digit = Object.keys(CODE_DIGITS).find((key) => CODE_DIGITS[key] === code);
  if (digit === undefined || !Number.isInteger(declines) || declines < 0 || declines > 9999) {
    throw new RangeError(`no flaky test card for ${code} × ${declines}`);
  }
  return `4100000000${digit}0${String(declines).padStart(4, "0")}`;
}

function codeOf(digit: string): CardRefusalCode {
  return CODE_DIGITS[digit] ?? "T0001";
}
