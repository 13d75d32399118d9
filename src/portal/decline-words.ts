import { declineReason } from "../billing/declines.ts";
import type { PortalLocale } from "./portal-locale.ts";

/** Why a charge failed, in the customer's words; a code that is not a card decline (or a typed one) reads as a general failure. */
export function declineWords(code: string | null, locale: PortalLocale): string {
  try {
    return declineReason(code === "" ? null : code, locale);
  } catch {
    return declineReason(null, locale);
  }
}
