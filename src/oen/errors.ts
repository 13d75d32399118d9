import type { AttentionCode, UnknownReason } from "../billing/charge-codes.ts";

// Thrown by the client's reads and createCheckoutToken (chargeToken returns a ChargeOutcome instead).
// Messages are built from HTTP statuses and Oen's codes only, never from request headers or
// bodies, and the low-level fetch error is not attached as `cause`, so no secret can ride along.

/** Any failure talking to Oen; on its own: an answer Oen's docs do not describe. */
export class OenError extends Error {
  override name = "OenError";
  readonly httpStatus: number | undefined;

  constructor(message: string, httpStatus?: number) {
    super(message);
    this.httpStatus = httpStatus;
  }
}

/** Oen refuses our configuration (API token, merchant, activation, IP allowlist): retrying cannot help. */
export class OenConfigError extends OenError {
  override name = "OenConfigError";
  readonly code: AttentionCode;

  constructor(code: AttentionCode, httpStatus: number, message: string) {
    super(message, httpStatus);
    this.code = code;
  }
}

/** Oen could not be reached or failed (timeouts, dropped connections, 5xx), even after retries. */
export class OenUnavailableError extends OenError {
  override name = "OenUnavailableError";
  readonly reason: UnknownReason;

  constructor(reason: UnknownReason, message: string, httpStatus?: number) {
    super(message, httpStatus);
    this.reason = reason;
  }
}
