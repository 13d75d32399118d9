// The e-invoice (電子發票) details a customer keeps and every charge sends to Oen
// as `invoiceInfo`. Checking them here turns Oen's 400 V0001 (INVALID_TAX_ID_NUMBER,
// or a malformed carrier) into a 4xx naming the field before any money moves.
// Oen still asks the Ministry of Finance whether a mobile barcode exists.

/** Oen's `invoiceInfo`, normalized, ready to send as is. */
export type InvoiceInfo =
  | { invoiceType: "cloud"; carrierType: "3J0002" | "CQ0001"; carrierId: string; email?: string }
  /** Oen's member carrier (會員載具): the cloud invoice Oen also issues when no invoiceInfo is sent. */
  | { invoiceType: "cloud"; carrierType: ""; email?: string }
  | { invoiceType: "company"; buyerIdentifier: string; buyerName?: string; email?: string };

export type InvoiceInfoCheck = { ok: true; value: InvoiceInfo } | { ok: false; field: string; message: string };

type Failure = Extract<InvoiceInfoCheck, { ok: false }>;

const UBN_WEIGHTS = [1, 2, 1, 2, 1, 2, 4, 1];
const FIELDS = {
  cloud: ["invoiceType", "carrierType", "carrierId", "email"],
  company: ["invoiceType", "buyerIdentifier", "buyerName", "email"],
} as const;
// The MIG's limit for the buyer's name on an invoice.
const BUYER_NAME_MAX = 60;
const EMAIL_MAX = 254;

/**
 * 統一編號: 8 digits, weighted 1,2,1,2,1,2,4,1, the digits of each product summed;
 * valid when the sum is divisible by 5 (the Ministry of Finance rule since 2023;
 * it was 10 before, and every number valid then is valid now).
 */
export function isValidUbn(ubn: unknown): ubn is string {
  if (typeof ubn !== "string" || !/^[0-9]{8}$/.test(ubn)) return false;
  const sum = [...ubn].reduce((total, digit, i) => {
    const product = Number(digit) * (UBN_WEIGHTS[i] ?? 0);
    return total + Math.floor(product / 10) + (product % 10);
  }, 0);
  // A 7 in the seventh place makes 7 × 4 = 28 → 2 + 8 = 10, which the rule lets count as 1 or 0.
  return sum % 5 === 0 || (ubn[6] === "7" && (sum + 1) % 5 === 0);
}

/** A mobile barcode carrier (手機條碼, 3J0002): "/" and 7 of 0-9, A-Z, ".", "+", "-". */
export function isValidMobileBarcode(code: unknown): code is string {
  return typeof code === "string" && /^\/[0-9A-Z.+-]{7}$/.test(code);
}

/** A citizen digital certificate carrier (自然人憑證, CQ0001): 2 uppercase letters and 14 digits. */
export function isValidCitizenCertificate(code: unknown): code is string {
  return typeof code === "string" && /^[A-Z]{2}[0-9]{14}$/.test(code);
}

function fail(field: string, message: string): Failure {
  return { ok: false, field: `invoiceInfo${field === "" ? "" : `.${field}`}`, message };
}

function isFailure(value: unknown): value is Failure {
  return typeof value === "object" && value !== null;
}

/** A trimmed string, undefined when absent or blank, or the failure. */
function optionalText(info: Record<string, unknown>, field: string): string | undefined | Failure {
  const value = info[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string") return fail(field, "must be a string");
  const text = value.trim();
  return text === "" ? undefined : text;
}

function carrierInfo(info: Record<string, unknown>, email: string | undefined): InvoiceInfoCheck {
  const carrierType = optionalText(info, "carrierType") ?? "";
  if (isFailure(carrierType)) return carrierType;
  const carrierId = optionalText(info, "carrierId");
  if (isFailure(carrierId)) return carrierId;
  const withEmail = email === undefined ? {} : { email };
  if (carrierType === "") {
    if (carrierId !== undefined) return fail("carrierId", 'must be absent for the member carrier (carrierType "")');
    return { ok: true, value: { invoiceType: "cloud", carrierType: "", ...withEmail } };
  }
  if (carrierType !== "3J0002" && carrierType !== "CQ0001") {
    return fail("carrierType", 'must be "3J0002" (mobile barcode), "CQ0001" (citizen certificate) or "" (member carrier)');
  }
  if (carrierId === undefined) return fail("carrierId", `is required with carrierType ${carrierType}`);
  const id = carrierId.toUpperCase();
  if (carrierType === "3J0002" && !isValidMobileBarcode(id)) {
    return fail("carrierId", 'must be a mobile barcode: "/" and 7 of 0-9, A-Z, ".", "+", "-"');
  }
  if (carrierType === "CQ0001" && !isValidCitizenCertificate(id)) {
    return fail("carrierId", "must be a citizen certificate number: 2 letters and 14 digits");
  }
  return { ok: true, value: { invoiceType: "cloud", carrierType, carrierId: id, ...withEmail } };
}

function companyInfo(info: Record<string, unknown>, email: string | undefined): InvoiceInfoCheck {
  const buyerIdentifier = optionalText(info, "buyerIdentifier");
  if (isFailure(buyerIdentifier)) return buyerIdentifier;
  if (buyerIdentifier === undefined) return fail("buyerIdentifier", "is required for a company invoice (the buyer's 統一編號)");
  if (!/^[0-9]{8}$/.test(buyerIdentifier)) return fail("buyerIdentifier", "must be 8 digits (統一編號)");
  if (!isValidUbn(buyerIdentifier)) return fail("buyerIdentifier", "is not a valid 統一編號: its check digit is wrong");
  const buyerName = optionalText(info, "buyerName");
  if (isFailure(buyerName)) return buyerName;
  if (buyerName !== undefined && [...buyerName].length > BUYER_NAME_MAX) {
    return fail("buyerName", `must be at most ${BUYER_NAME_MAX} characters`);
  }
  const value: InvoiceInfo = { invoiceType: "company", buyerIdentifier };
  if (buyerName !== undefined) value.buyerName = buyerName;
  if (email !== undefined) value.email = email;
  return { ok: true, value };
}

/**
 * Checks e-invoice details given in Oen's own field names (strings are trimmed,
 * carrier numbers upper-cased, blank optional fields dropped, a cloud invoice
 * without carrierType gets the member carrier). A failure names the field,
 * e.g. "invoiceInfo.buyerIdentifier". Null is not accepted: clearing the details
 * is the caller's decision.
 */
export function validateInvoiceInfo(input: unknown): InvoiceInfoCheck {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return fail("", "must be an object");
  const info = input as Record<string, unknown>;
  const { invoiceType } = info;
  if (invoiceType !== "cloud" && invoiceType !== "company") return fail("invoiceType", 'must be "cloud" or "company"');
  const allowed: readonly string[] = FIELDS[invoiceType];
  const stray = Object.keys(info).find((key) => info[key] !== undefined && !allowed.includes(key));
  if (stray !== undefined) {
    const other = invoiceType === "cloud" ? "company" : "cloud";
    const forOther = (FIELDS[other] as readonly string[]).includes(stray);
    return fail(stray, forOther ? `is only for invoiceType "${other}"` : "is not a field of invoiceInfo");
  }
  const email = optionalText(info, "email");
  if (isFailure(email)) return email;
  if (email !== undefined && (email.length > EMAIL_MAX || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) {
    return fail("email", "must be an email address");
  }
  return invoiceType === "cloud" ? carrierInfo(info, email) : companyInfo(info, email);
}
