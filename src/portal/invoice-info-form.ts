import { validateInvoiceInfo, type InvoiceInfo } from "../billing/einvoice.ts";
import type { PortalText } from "./portal-text.ts";

export type InvoiceInfoKind = keyof PortalText["invoiceInfo"]["kinds"];
export const INVOICE_INFO_KINDS: readonly InvoiceInfoKind[] = ["none", "member", "mobile", "citizen", "company"];

/** The e-invoice form's fields, as typed (strings) or as stored details shown for editing. */
export interface InvoiceInfoFormValues {
  kind: string;
  carrierId: string;
  buyerIdentifier: string;
  buyerName: string;
  email: string;
}

export type InvoiceInfoFormField = keyof PortalText["invoiceInfo"]["errors"];

export type InvoiceInfoFormCheck = { ok: true; value: InvoiceInfo | null } | { ok: false; field: InvoiceInfoFormField };

const CARRIER_TYPES = { member: "", mobile: "3J0002", citizen: "CQ0001" } as const;

function kindOf(info: InvoiceInfo | null): InvoiceInfoKind {
  if (info === null) return "none";
  if (info.invoiceType === "company") return "company";
  return info.carrierType === "3J0002" ? "mobile" : info.carrierType === "CQ0001" ? "citizen" : "member";
}

/** Stored details as the form shows them. */
export function invoiceInfoFormValues(info: InvoiceInfo | null): InvoiceInfoFormValues {
  return {
    kind: kindOf(info),
    carrierId: info !== null && info.invoiceType === "cloud" && info.carrierType !== "" ? info.carrierId : "",
    buyerIdentifier: info?.invoiceType === "company" ? info.buyerIdentifier : "",
    buyerName: info?.invoiceType === "company" ? (info.buyerName ?? "") : "",
    email: info?.email ?? "",
  };
}

/**
 * The form's fields as the details the API would store, checked by the same
 * validateInvoiceInfo (fields the chosen kind does not use are ignored, since
 * one form holds them all). "none" clears the details. Pure.
 */
export function invoiceInfoFromForm(values: InvoiceInfoFormValues): InvoiceInfoFormCheck {
  const kind = values.kind as InvoiceInfoKind;
  if (!INVOICE_INFO_KINDS.includes(kind)) return { ok: false, field: "kind" };
  if (kind === "none") return { ok: true, value: null };
  const email = values.email.trim() === "" ? {} : { email: values.email };
  const input =
    kind === "company"
      ? { invoiceType: "company", buyerIdentifier: values.buyerIdentifier, buyerName: values.buyerName, ...email }
      : { invoiceType: "cloud", carrierType: CARRIER_TYPES[kind], ...(kind === "member" ? {} : { carrierId: values.carrierId }), ...email };
  const check = validateInvoiceInfo(input);
  if (check.ok) return check;
  const field = check.field.replace(/^invoiceInfo\.?/, "");
  return { ok: false, field: field === "buyerIdentifier" || field === "buyerName" || field === "email" ? field : field === "carrierId" ? "carrierId" : "kind" };
}

/** The stored details in one line: "手機條碼 /ABC1234". */
export function describeInvoiceInfo(text: PortalText, info: InvoiceInfo | null): string {
  const values = invoiceInfoFormValues(info);
  const id = values.carrierId || values.buyerIdentifier;
  return text.invoiceInfo.describe({ kind: kindOf(info), ...(id === "" ? {} : { id }) }) + (values.buyerName === "" ? "" : ` ${values.buyerName}`);
}
