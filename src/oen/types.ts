import type { AttentionCode, ConfigErrorCode, DeclineCode, UnknownReason } from "../billing/charge-codes.ts";

// Wire types of Oen's Payment API and the typed outcomes our client maps them to.
// Source: ../shared/oen-docs/api/*.md (the docs are the authority).

export type { ProductDetail } from "../billing/product-details.ts";
import type { ProductDetail } from "../billing/product-details.ts";
import type { InvoiceInfo } from "../billing/einvoice.ts";

export interface CheckoutTokenRequest {
  successUrl: string | null;
  failureUrl: string | null;
  customId?: string;
  payerEmail?: string;
  note?: string;
}

export interface TokenChargeRequest {
  amount: number;
  token: string;
  orderId: string;
  productDetails: ProductDetail[];
  userId?: string;
  userName?: string;
  userEmail?: string;
  /** The e-invoice to issue (with e-invoice enabled on the merchant's domain); none: Oen's member-carrier cloud invoice. */
  invoiceInfo?: InvoiceInfo;
  note?: string;
}

export type OenTransactionStatus =
  | "initiated"
  | "charging"
  | "authorized"
  | "charged"
  | "claimed"
  | "failed"
  | "cancelled"
  | "refunding"
  | "refunded"
  | "refundedPostPayout";

/** Oen's Transaction object (only the fields we read). */
export interface OenTransaction {
  id: string; // "P" + date + 8 chars, 17 chars; in GET /transactions, "C…" for payments not made through the API
  transactionId: string; // 27-char internal id
  action?: string;
  amount: number;
  status: OenTransactionStatus;
  orderId?: string;
  reason?: string;
  authCode?: string;
  createdAt: string;
  paidAt?: string;
  /** What was refunded (0 until then); with `status` the proof a refund happened (api/objects/transaction.md). */
  refundAmount?: number;
  refundedAt?: string;
  productDetails?: ProductDetail[];
}

/** GET /transactions: whole Taipei days, `YYYY-MM-DD`, both included; `page` from the previous answer. */
export interface TransactionListQuery {
  start: string;
  end: string;
  page?: string | null;
}

export interface TransactionListPage {
  /** Without productDetails; amounts of `C…` adjustments are negative. */
  transactions: OenTransaction[];
  /** The next page's marker; null on the last page (a full page may be followed by an empty one). */
  page: string | null;
}

/** Body of a `purpose: "token"` webhook. */
export interface TokenWebhook {
  purpose: "token";
  id: string;
  transactionId?: string;
  merchantId: string;
  success: boolean;
  token?: string;
  paymentInfo?: string; // last 4 digits
  customId?: string;
  message?: string | null;
}

export type { AttentionCode, ConfigErrorCode, DeclineCode, UnknownReason } from "../billing/charge-codes.ts";
export { DECLINE_CODES } from "../billing/charge-codes.ts";

/** What one POST /token/transactions call tells us. Never throws for Oen's answers. */
export type ChargeOutcome =
  | { kind: "succeeded"; transactionHid: string; authCode?: string }
  | { kind: "declined"; code: DeclineCode; message: string }
  /** Oen refused us, not the card (configuration, K0001): held for ops, never dunned. */
  | { kind: "refused"; code: AttentionCode; httpStatus: number; message: string }
  | { kind: "unknown"; reason: UnknownReason; httpStatus?: number; message: string };

/** A POST /refunds/{P…} body (api/refund.md) without merchantId, which the client adds. */
export interface RefundRequest {
  /** Always sent: Oen's default (the full amount) is never assumed. */
  amount: number;
  reason?: string;
  /** Required when the transaction carries an e-invoice (the allowance, 折讓); must sum to `amount`. */
  productDetails?: ProductDetail[];
}

/**
 * Oen's answers that prove a refund was NOT made (api/refund.md "可能的錯誤"): V0001 bad
 * transaction, amount or allowance; V0002 the transaction cannot be refunded (not paid,
 * already refunded, another refund in progress); R0001 the acquirer refused; F0001 only with
 * "Current charged amount too low" (too little collected and not yet paid out).
 */
export type RefundRefusalCode = "V0001" | "V0002" | "R0001" | "F0001";

/** What one POST /refunds call tells us. Never throws for Oen's answers. */
export type RefundOutcome =
  | { kind: "succeeded"; transactionHid: string; status: OenTransactionStatus; refundAmount: number; refundedAt?: string }
  | { kind: "refused"; code: RefundRefusalCode; httpStatus: number; message: string }
  | { kind: "config_error"; code: Exclude<ConfigErrorCode, "V0001" | "V0002">; httpStatus: number; message: string }
  | { kind: "unknown"; reason: UnknownReason; httpStatus?: number; message: string };
