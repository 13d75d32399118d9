import type { TokenWebhookDelivery } from "../queues/jobs.ts";
import type { SealedToken } from "../vault/token-cipher.ts";
import { postgresSafe, postgresSafeText } from "./postgres-safe.ts";

/** The longest message we keep (Oen's are short codes such as 3DS_ABANDONED); longer ones are cut. */
export const MAX_MESSAGE_CHARS = 1_000;
// Our customId is "{subscriptionId}.{purpose}.{random}"; anything longer cannot match it and is cut for storage.
const MAX_ID_CHARS = 256;
const MAX_LAST4_CHARS = 32;

/** A value as it may arrive: built from Oen's body, or read from Redis or Postgres written by an older version. */
export type Loose<T> = { [K in keyof T]?: unknown };

/**
 * A token webhook delivery that is safe to apply and to store whatever Oen
 * (or a forger, or an older version of this service) put in it: every string
 * Postgres can hold, every field of the type the worker expects, free text
 * bounded. It never refuses: an odd value becomes one that fails verification
 * (a mismatch, recorded), not a job that fails forever.
 */
export function cleanTokenDelivery(delivery: Loose<TokenWebhookDelivery>): TokenWebhookDelivery {
  const sealedToken = isSealedToken(delivery.sealedToken) ? delivery.sealedToken : null;
  return {
    kind: "token",
    checkoutId: bounded(text(delivery.checkoutId) ?? "", MAX_ID_CHARS),
    merchantId: bounded(text(delivery.merchantId) ?? "", MAX_ID_CHARS),
    customId: nullableBounded(text(delivery.customId), MAX_ID_CHARS),
    // Oen sends a boolean; a body without one but with a token is a binding, not a failure.
    success: delivery.success === true || delivery.success === "true" || (delivery.success == null && sealedToken !== null),
    last4: nullableBounded(text(delivery.last4), MAX_LAST4_CHARS),
    message: nullableBounded(text(delivery.message) ?? (delivery.message == null ? null : JSON.stringify(postgresSafe(delivery.message))), MAX_MESSAGE_CHARS),
    sealedToken,
    receivedAt: text(delivery.receivedAt) ?? "",
  };
}

/** Strings as Postgres can hold them, numbers as their digits (a last4 sent as 4242); anything else is absent. */
function text(value: unknown): string | null {
  if (typeof value === "string") return postgresSafeText(value);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

// Cut by UTF-16 units; a surrogate pair cut in half is repaired, or jsonb would refuse it.
function bounded(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max).toWellFormed();
}

function nullableBounded(value: string | null, max: number): string | null {
  return value === null ? null : bounded(value, max);
}

function isSealedToken(value: unknown): value is SealedToken {
  const sealed = value as SealedToken | null;
  return sealed !== null && typeof sealed === "object" && typeof sealed.keyId === "string" && typeof sealed.ciphertext === "string";
}
