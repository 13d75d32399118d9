// Wire types of Oen's Payment API and the typed outcomes our client maps them to.
// Source: ../shared/oen-docs/api/*.md (the docs are the authority).

export interface ProductDetail {
  productionCode: string;
  description: string;
  quantity: number;
  unit: string;
  unitPrice: number;
}

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

/** Every code Oen answers a declined card charge with (api/error-codes.md). */
export const DECLINE_CODES = ["T0001", "T0002", "T0003", "T0004", "T0005", "K0001"] as const;
export type DeclineCode = (typeof DECLINE_CODES)[number];
export type ConfigErrorCode = "A0001" | "V0001" | "V0002" | "V0003" | "FORBIDDEN";
/**
 * Why a charge's result is unknown. `unexpected_response`: an answer Oen's docs do not describe
 * (a 200 without a transaction id, a body that is not JSON, a 404/405 page, an unlisted code).
 */
export type UnknownReason =
  | "timeout"
  | "connection"
  | "http_5xx"
  | "gateway_timeout"
  | "C026"
  | "F0001"
  | "unexpected_response";

/** What one POST /token/transactions call tells us. Never throws for Oen's answers. */
export type ChargeOutcome =
  | { kind: "succeeded"; transactionHid: string; authCode?: string }
  | { kind: "declined"; code: DeclineCode; message: string }
  | { kind: "config_error"; code: ConfigErrorCode; httpStatus: number; message: string }
  | { kind: "unknown"; reason: UnknownReason; httpStatus?: number; message: string };
