import pRetry from "p-retry";
import { silentLogger, type Logger } from "../log.ts";
import { classifyOenExchange, type OenVerdict } from "./classify-oen-exchange.ts";
import { OenConfigError, OenError, OenUnavailableError } from "./errors.ts";
import { createKeepAliveFetch, type OenFetch } from "./keep-alive-fetch.ts";
import { sendOenRequest, type OenRequest, type OenTransport } from "./send-oen-request.ts";
import type { UnknownReason } from "../billing/charge-codes.ts";
import type {
  ChargeOutcome,
  CheckoutTokenRequest,
  OenTransaction,
  OenTransactionStatus,
  RefundOutcome,
  RefundRequest,
  TokenChargeRequest,
  TransactionListPage,
  TransactionListQuery,
} from "./types.ts";

export interface OenClientOptions {
  apiUrl: string;
  apiToken: string;
  merchantId: string;
  /** Per charge or refund request. Above Oen's own 29 s cut-off, so a 504 from Oen is seen rather than guessed. */
  timeoutMs?: number;
  /** Per try of a retried call (checkout page, lookups). */
  lookupTimeoutMs?: number;
  /** Extra tries of a retried call after a transport failure or 5xx. */
  retries?: number;
  /** First delay between tries; doubles and is jittered (×1–2). */
  retryMinDelayMs?: number;
  retryMaxDelayMs?: number;
  logger?: Logger;
  /** How requests are sent (default: undici with kept connections); tests wrap globalThis.fetch. */
  fetch?: OenFetch;
}

export interface OenClient {
  /** Creates a hosted card-binding page (valid 10 minutes). Throws OenConfigError / OenUnavailableError / OenError. */
  createCheckoutToken(request: CheckoutTokenRequest): Promise<{ id: string }>;
  /** One charge attempt, never retried here and never throwing for anything Oen or the network does. */
  chargeToken(request: TokenChargeRequest): Promise<ChargeOutcome>;
  /** Every transaction of an order (failed ones too); [] when none. */
  listOrderTransactions(orderId: string): Promise<OenTransaction[]>;
  /**
   * One page (50, newest first) of every payment of the merchant's domain created in the Taipei
   * days `start` to `end` (YYYY-MM-DD, both included; Oen wants both or neither). `page`: the
   * marker of the previous page. Not only our charges: other sources' `C…` payments too.
   */
  listTransactions(query: TransactionListQuery): Promise<TransactionListPage>;
  /** One transaction by its 27-char id or its P-number; `status` and `refundAmount` settle an unknown refund. */
  getTransaction(id: string): Promise<OenTransaction>;
  /**
   * One refund of a transaction by its P-number. Oen has no idempotency here either: never
   * retried inside the client, and never throwing for anything Oen or the network does.
   */
  refund(transactionHid: string, request: RefundRequest): Promise<RefundOutcome>;
}

const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;

// Reasons worth another try of a safe call; C026 and undocumented answers will not change by retrying.
const RETRYABLE: ReadonlySet<UnknownReason> = new Set(["timeout", "connection", "http_5xx", "gateway_timeout", "F0001"]);

export function createOenClient(options: OenClientOptions): OenClient {
  const logger = options.logger ?? silentLogger;
  const transport: OenTransport = {
    apiUrl: options.apiUrl,
    apiToken: options.apiToken,
    fetch: options.fetch ?? createKeepAliveFetch(),
    logger,
  };
  const chargeTimeoutMs = options.timeoutMs ?? 35_000;
  const lookupTimeoutMs = options.lookupTimeoutMs ?? 10_000;
  const retries = options.retries ?? 2;
  const retryMinDelayMs = options.retryMinDelayMs ?? 200;
  const retryMaxDelayMs = options.retryMaxDelayMs ?? 2_000;

  async function exchange(request: OenRequest, extraSecrets: readonly string[] = []): Promise<OenVerdict> {
    return classifyOenExchange(await sendOenRequest(transport, request), [options.apiToken, ...extraSecrets]);
  }

  /** A call that is safe to repeat: retried on transport failures and 5xx, then OenUnavailableError. */
  async function safeCall<T>(request: Omit<OenRequest, "timeoutMs">, read: (data: unknown) => T | undefined): Promise<T> {
    const label = `${request.method} ${request.path}`;
    const attempt = async (): Promise<T> => {
      const verdict = await exchange({ ...request, timeoutMs: lookupTimeoutMs });
      switch (verdict.kind) {
        case "ok": {
          const value = read(verdict.data);
          if (value === undefined) throw new OenError(`Oen ${label}: unexpected response shape`, 200);
          return value;
        }
        case "refused":
          throw new OenConfigError(verdict.code, verdict.httpStatus, `Oen ${label} refused: ${verdict.message}`);
        case "declined":
        case "refund_failed":
          throw new OenError(`Oen ${label}: ${verdict.message}`, 400);
        case "unknown":
          if (RETRYABLE.has(verdict.reason)) {
            throw new OenUnavailableError(verdict.reason, `Oen ${label}: ${verdict.message}`, verdict.httpStatus);
          }
          throw new OenError(`Oen ${label}: ${verdict.message}`, verdict.httpStatus);
      }
    };
    try {
      return await pRetry(attempt, {
        retries,
        minTimeout: retryMinDelayMs,
        maxTimeout: retryMaxDelayMs,
        randomize: true,
        shouldRetry: ({ error }) => error instanceof OenUnavailableError,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (error instanceof OenUnavailableError && retriesLeft > 0) {
            logger.warn({ call: label, attemptNumber, reason: error.reason }, "oen call failed, retrying");
          }
        },
      });
    } catch (error) {
      if (error instanceof OenUnavailableError) {
        throw new OenUnavailableError(error.reason, `${error.message} (after ${retries + 1} tries)`, error.httpStatus);
      }
      throw error;
    }
  }

  return {
    createCheckoutToken(request) {
      return safeCall({ method: "POST", path: "/checkout-token", endpoint: "POST /checkout-token", body: { ...request, merchantId: options.merchantId } }, (data) => {
        const id = field(data, "id");
        return typeof id === "string" ? { id } : undefined;
      });
    },

    async chargeToken(request) {
      const verdict = await exchange(
        { method: "POST", path: "/token/transactions", endpoint: "POST /token/transactions", body: { ...request, merchantId: options.merchantId }, timeoutMs: chargeTimeoutMs },
        [request.token],
      );
      const outcome = toChargeOutcome(verdict);
      // Debug: the charge worker logs the business event ("charge result") with its correlation ids.
      logger.debug(
        {
          orderId: request.orderId,
          amount: request.amount,
          outcome: outcome.kind,
          code: "code" in outcome ? outcome.code : undefined,
          reason: "reason" in outcome ? outcome.reason : undefined,
        },
        "oen charge",
      );
      return outcome;
    },

    listOrderTransactions(orderId) {
      return safeCall({ method: "GET", path: `/order/${encodeURIComponent(orderId)}/transactions`, endpoint: "GET /order/:orderId/transactions" }, (data) => {
        const transactions = field(data, "transactions");
        return Array.isArray(transactions) ? (transactions as OenTransaction[]) : undefined;
      });
    },

    async listTransactions(query) {
      for (const [name, value] of [["start", query.start], ["end", query.end]] as const) {
        if (!CALENDAR_DATE.test(value)) throw new RangeError(`${name} must be a date YYYY-MM-DD (got "${value}")`);
      }
      const search = new URLSearchParams({ start: query.start, end: query.end });
      if (query.page != null) search.set("page", query.page);
      return safeCall({ method: "GET", path: `/transactions?${search}` }, (data) => {
        const transactions = field(data, "transactions");
        const page = field(data, "page");
        if (!Array.isArray(transactions) || (page !== null && typeof page !== "string")) return undefined;
        return { transactions: transactions as OenTransaction[], page };
      });
    },

    getTransaction(id) {
      return safeCall({ method: "GET", path: `/transactions/${encodeURIComponent(id)}`, endpoint: "GET /transactions/:id" }, (data) =>
        typeof field(data, "id") === "string" ? (data as OenTransaction) : undefined,
      );
    },

    async refund(transactionHid, request) {
      const verdict = await exchange({
        method: "POST",
        path: `/refunds/${encodeURIComponent(transactionHid)}`,
        endpoint: "POST /refunds/:transactionHid",
        body: { ...request, merchantId: options.merchantId },
        timeoutMs: chargeTimeoutMs,
      });
      const outcome = toRefundOutcome(verdict);
      logger.debug(
        {
          transactionHid,
          amount: request.amount,
          outcome: outcome.kind,
          code: "code" in outcome ? outcome.code : undefined,
          reason: "reason" in outcome ? outcome.reason : undefined,
        },
        "oen refund",
      );
      return outcome;
    },
  };
}

function toChargeOutcome(verdict: OenVerdict): ChargeOutcome {
  // R0001 answers refunds only: on a charge it is an answer the docs do not describe.
  if (verdict.kind === "refund_failed") return { kind: "unknown", reason: "unexpected_response", httpStatus: verdict.httpStatus, message: verdict.message };
  if (verdict.kind !== "ok") return verdict;
  const transactionHid = field(verdict.data, "id");
  const authCode = field(verdict.data, "authCode");
  // A 200 S0000 without a transaction number may still be a charge: treat it as unknown, not as a failure.
  if (typeof transactionHid !== "string") {
    return { kind: "unknown", reason: "unexpected_response", httpStatus: 200, message: "HTTP 200 S0000 without a transaction id" };
  }
  return typeof authCode === "string" ? { kind: "succeeded", transactionHid, authCode } : { kind: "succeeded", transactionHid };
}

// F0001 is a system error (outcome unknown) except with this message, which refuses the refund.
const LOW_BALANCE = "Current charged amount too low";

function toRefundOutcome(verdict: OenVerdict): RefundOutcome {
  switch (verdict.kind) {
    case "ok": {
      const transactionHid = field(verdict.data, "id");
      const status = field(verdict.data, "status");
      const refundAmount = field(verdict.data, "refundAmount");
      const refundedAt = field(verdict.data, "refundedAt");
      // A 200 S0000 that does not show the refund may still be one: unknown, settled by lookup.
      if (typeof transactionHid !== "string" || typeof status !== "string" || typeof refundAmount !== "number") {
        return { kind: "unknown", reason: "unexpected_response", httpStatus: 200, message: "HTTP 200 S0000 without the refunded transaction" };
      }
      const succeeded = { kind: "succeeded" as const, transactionHid, status: status as OenTransactionStatus, refundAmount };
      return typeof refundedAt === "string" ? { ...succeeded, refundedAt } : succeeded;
    }
    case "refund_failed":
      return { kind: "refused", code: verdict.code, httpStatus: verdict.httpStatus, message: verdict.message };
    case "refused":
      if (verdict.code === "V0001" || verdict.code === "V0002") return { kind: "refused", code: verdict.code, httpStatus: verdict.httpStatus, message: verdict.message };
      // K0001 is not documented for refunds: nothing proves the refund was not made.
      if (verdict.code === "K0001") return { kind: "unknown", reason: "unexpected_response", httpStatus: verdict.httpStatus, message: verdict.message };
      return { kind: "config_error", code: verdict.code, httpStatus: verdict.httpStatus, message: verdict.message };
    case "declined":
      // Card decline codes are not documented for refunds: nothing proves the refund was not made.
      return { kind: "unknown", reason: "unexpected_response", httpStatus: 400, message: verdict.message };
    case "unknown":
      if (verdict.reason === "F0001" && verdict.message.includes(LOW_BALANCE)) {
        return { kind: "refused", code: "F0001", httpStatus: verdict.httpStatus ?? 500, message: verdict.message };
      }
      return verdict;
  }
}

function field(data: unknown, key: string): unknown {
  return typeof data === "object" && data !== null ? (data as Record<string, unknown>)[key] : undefined;
}
