import type { OtherWebhookJob, TokenWebhookJob, WebhookJob } from "../queues/jobs.ts";
import type { SealedToken } from "../vault/token-cipher.ts";
import { postgresSafe, postgresSafeText } from "./postgres-safe.ts";

/** The longest message we keep (Oen's are short codes such as 3DS_ABANDONED); longer ones are cut. */
export const MAX_MESSAGE_CHARS = 1_000;
// Our customId is "{subscriptionId}.{purpose}"; anything longer cannot match it and is cut for storage.
const MAX_ID_CHARS = 256;
const MAX_LAST4_CHARS = 32;

/** A job as it may arrive: built from Oen's body, or read from Redis or Postgres written by an older version. */
export type Loose<Job> = { [K in keyof Job]?: unknown };

/**
 * A webhook job that is safe to apply and to store whatever Oen (or a forger,
 * or an older version of this service) put in it: every string Postgres can
 * hold, every field of the type the worker expects, free text bounded. It
 * never refuses: an odd value becomes one that fails verification
 * (a mismatch, recorded), not a job that fails forever.
 */
export function cleanWebhookJob(job: Loose<TokenWebhookJob> | Loose<OtherWebhookJob>): WebhookJob {
  return job.kind === "other" ? cleanOtherJob(job) : cleanTokenJob(job);
}

export function cleanTokenJob(job: Loose<TokenWebhookJob>): TokenWebhookJob {
  const sealedToken = isSealedToken(job.sealedToken) ? job.sealedToken : null;
  return {
    kind: "token",
    checkoutId: bounded(text(job.checkoutId) ?? "", MAX_ID_CHARS),
    merchantId: bounded(text(job.merchantId) ?? "", MAX_ID_CHARS),
    customId: nullableBounded(text(job.customId), MAX_ID_CHARS),
    // Oen sends a boolean; a body without one but with a token is a binding, not a failure.
    success: job.success === true || job.success === "true" || (job.success == null && sealedToken !== null),
    last4: nullableBounded(text(job.last4), MAX_LAST4_CHARS),
    message: nullableBounded(text(job.message) ?? (job.message == null ? null : JSON.stringify(postgresSafe(job.message))), MAX_MESSAGE_CHARS),
    sealedToken,
    receivedAt: text(job.receivedAt) ?? "",
  };
}

export function cleanOtherJob(job: Loose<OtherWebhookJob>): OtherWebhookJob {
  const body = job.body !== null && typeof job.body === "object" && !Array.isArray(job.body) ? (job.body as Record<string, unknown>) : {};
  return {
    kind: "other",
    purpose: bounded(text(job.purpose) ?? "", MAX_ID_CHARS),
    oenId: nullableBounded(text(job.oenId), MAX_ID_CHARS),
    body: postgresSafe(body),
    receivedAt: text(job.receivedAt) ?? "",
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
