// The one vocabulary of what a charge's answer can mean to billing. The Oen
// client maps Oen's codes onto it (oen-docs/api/error-codes.md); everything
// above the client speaks only these terms.

/** A card's issuer or network declined: the customer's business (dunning). */
export const DECLINE_CODES = ["T0001", "T0002", "T0003", "T0004", "T0005"] as const;
export type DeclineCode = (typeof DECLINE_CODES)[number];

/** Our own setup is refused: API token, fields, activation, IP allowlist. */
export const CONFIG_ERROR_CODES = ["A0001", "V0001", "V0002", "V0003", "FORBIDDEN"] as const;
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];

/**
 * Oen refuses the MERCHANT, not the card: K0001 is risk control's monthly or
 * single-amount limit on the merchant. Like a configuration error, it is held
 * for ops ("聯絡應援"), never dunned on the customer.
 */
export const ATTENTION_CODES = [...CONFIG_ERROR_CODES, "K0001"] as const;
export type AttentionCode = (typeof ATTENTION_CODES)[number];

/**
 * Why a charge's result is unknown. `unexpected_response`: an answer Oen's docs do not describe
 * (a 200 without a transaction id, a body that is not JSON, a 404/405 page, an unlisted code).
 */
export const UNKNOWN_REASONS = ["timeout", "connection", "http_5xx", "gateway_timeout", "C026", "F0001", "unexpected_response"] as const;
export type UnknownReason = (typeof UNKNOWN_REASONS)[number];

export function isDeclineCode(code: string | null): code is DeclineCode {
  return code !== null && (DECLINE_CODES as readonly string[]).includes(code);
}

export function isAttentionCode(code: string | null): code is AttentionCode {
  return code !== null && (ATTENTION_CODES as readonly string[]).includes(code);
}

export function isConfigErrorCode(code: string | null): code is ConfigErrorCode {
  return code !== null && (CONFIG_ERROR_CODES as readonly string[]).includes(code);
}
