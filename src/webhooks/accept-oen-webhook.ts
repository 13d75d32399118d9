import { createHmac } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/connect.ts";
import type { Logger } from "../log.ts";
import { jobIds, type WebhookJob } from "../queues/jobs.ts";
import type { Queues } from "../queues/queues.ts";
import type { Keyring } from "../vault/keyring.ts";
import { sealToken } from "../vault/token-cipher.ts";
import { cleanOtherJob, cleanTokenJob } from "./clean-webhook-job.ts";

/**
 * A body the route let through: a purpose, and for a token webhook an id (a
 * bounded string). Every other field may be absent or of any type; the job
 * made of it is cleaned (cleanWebhookJob).
 */
export type OenWebhookBody = { purpose: string; id?: string } & Record<string, unknown>;

export interface AcceptDeps {
  queues: Pick<Queues, "webhooks">;
  db: Db;
  keyring: Keyring;
  clock: Clock;
  logger: Pick<Logger, "warn" | "error">;
  /** False while the queue's Redis connection is known to be down: go straight to Postgres. */
  queueConnected: () => boolean;
}

// Oen waits 10 s per try: each store gets a few seconds. A write that
// completes after its timeout is harmless: the relay reuses the same job id.
const STORE_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${what} within ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class WebhookNotStoredError extends Error {
  override name = "WebhookNotStoredError";
}

/**
 * Makes a delivered webhook durable before we answer 2xx (invariant 2). It
 * goes to the queue (for speed) and to Postgres (the copy no Redis failure or
 * flush can take away; the sweep re-queues it until a worker has applied
 * it), both at once. One of the two is enough to answer 2xx; with neither,
 * this throws and the caller answers 503 so that Oen tries again. The card
 * token is sealed here, so it never enters Redis or Postgres in cleartext,
 * and the rest is made storable (no NUL, bounded text) before either store.
 */
export async function acceptOenWebhook(deps: AcceptDeps, body: OenWebhookBody): Promise<{ jobId: string; stored: Array<"queue" | "postgres"> }> {
  const { jobId, job } = toJob(deps, body);
  const [queued, kept] = await Promise.allSettled([
    deps.queueConnected() ? withTimeout(deps.queues.webhooks.add(job.kind, job, { jobId }), "Redis") : Promise.reject(new Error("Redis is not connected")),
    withTimeout(deps.db.insertInto("webhook_inbox").values({ job_id: jobId, payload: JSON.stringify(job) }).execute(), "Postgres"),
  ]);
  const stored = [...(queued.status === "fulfilled" ? ["queue" as const] : []), ...(kept.status === "fulfilled" ? ["postgres" as const] : [])];
  const reason = (result: PromiseSettledResult<unknown>) => (result.status === "rejected" ? (result.reason as Error).message : null);
  if (stored.length === 0) {
    deps.logger.error({ jobId, redis: reason(queued), postgres: reason(kept) }, "webhook could not be stored anywhere; answering 503 so Oen retries");
    throw new WebhookNotStoredError("neither Redis nor Postgres accepted the webhook");
  }
  if (stored.length === 1) deps.logger.warn({ jobId, stored, redis: reason(queued), postgres: reason(kept) }, "webhook kept in one store only");
  return { jobId, stored };
}

function toJob(deps: AcceptDeps, body: OenWebhookBody): { jobId: string; job: WebhookJob } {
  const receivedAt = deps.clock.now().toISOString();
  if (body.purpose === "token") {
    const { id, merchantId, customId, success, token, paymentInfo, message } = body;
    const job = cleanTokenJob({
      kind: "token",
      checkoutId: id,
      merchantId,
      customId,
      success,
      last4: paymentInfo,
      message,
      sealedToken: typeof token === "string" && token !== "" ? sealToken(deps.keyring, token) : null,
      receivedAt,
    });
    // Readable in Bull Board, but only characters a job id may hold: the digest keeps it unique.
    const label = job.checkoutId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
    return { jobId: jobIds.tokenWebhook(label, contentDigest(deps.keyring, [id, merchantId, customId, success, token, paymentInfo, message])), job };
  }
  // Purposes we do not act on are still kept and recorded; the same body is one job.
  const { token: _dropped, ...rest } = body;
  return {
    jobId: jobIds.otherWebhook(contentDigest(deps.keyring, body)),
    job: cleanOtherJob({ kind: "other", purpose: body.purpose, oenId: body.id, body: rest, receivedAt }),
  };
}

/**
 * Identical deliveries (Oen's retries, duplicates) share a job id and are one
 * job; any other body gets its own, so a forged webhook that reuses a genuine
 * checkout id cannot take the job id of the genuine one. Keyed, so the id
 * says nothing about the token it covers.
 */
function contentDigest(keyring: Keyring, value: unknown): string {
  return createHmac("sha256", keyring.keys.get(keyring.primaryId)!).update(JSON.stringify(value)).digest("hex").slice(0, 32);
}
