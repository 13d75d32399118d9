import type { AttentionCode, DeclineCode, UnknownReason } from "../billing/charge-codes.ts";

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
  id: string; // "P" + date + 8 chars, 17 chars
  transactionId: string; // 27-char internal id
  action?: string;
  amount: number;
  status: OenTransactionStatus;
  orderId?: string;
  reason?: string;
  authCode?: string;
  createdAt: string;
  paidAt?: string;
  refundAmount?: number;
  productDetails?: ProductDetail[];
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
