import { isValidCitizenCertificate, isValidMobileBarcode, isValidUbn } from "../../billing/einvoice.ts";
import type { TokenChargeRequest } from "../types.ts";

/**
 * What Oen refuses on a domain with e-invoice (電子發票) enabled
 * (developers/one-time.md, developers/errors.md): a charge without userName
 * and userEmail, an invalid carrier or 統一編號. Returns Oen's message code
 * for a 400 V0001, or null when the charge may go on.
 */
export function einvoiceRefusal(body: TokenChargeRequest): string | null {
  if (!body.userName || !body.userEmail) return "USER_NAME_AND_EMAIL_REQUIRED";
  const info = body.invoiceInfo as Record<string, unknown> | undefined;
  if (info === undefined) return null;
  if (info.invoiceType === "company") return isValidUbn(info.buyerIdentifier) ? null : "INVALID_TAX_ID_NUMBER";
  if (info.invoiceType !== "cloud") return "INVALID_PARAMS";
  if (info.carrierType === "3J0002") return isValidMobileBarcode(info.carrierId) ? null : "INVALID_CARRIER_ID";
  if (info.carrierType === "CQ0001") return isValidCitizenCertificate(info.carrierId) ? null : "INVALID_CARRIER_ID";
  return info.carrierType === "" ? null : "INVALID_PARAMS";
}
