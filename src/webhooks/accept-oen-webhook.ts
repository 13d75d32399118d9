import { createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/connect.ts";
import type { Logger } from "../log.ts";
import { jobIds, type WebhookJob } from "../queues/jobs.ts";
import type { Queues } from "../queues/queues.ts";
import type { Keyring } from "../vault/keyring.ts";
import { sealToken } from "../vault/token-cipher.ts";
import type { TokenWebhook } from "../oen/types.ts";

export type OenWebhookBody = TokenWebhook | ({ purpose: string; id?: string } & Record<string, unknown>);

export interface AcceptDeps {
  queues: Pick<Queues, "webhooks">;
  db: Db;
  keyring: Keyring;
  clock: Clock;
  logger: Pick<Logger, "warn" | "error">;
}

export class WebhookNotStoredError extends Error {
  override name = "WebhookNotStoredError";
}

/**
 * Makes a delivered webhook durable before we answer 2xx (invariant 2): on the
 * queue, or in Postgres when Redis cannot take it; otherwise throws, and the
 * caller answers 503 so that Oen tries again. The card token is sealed here,
 * so it never enters Redis or Postgres in cleartext.
 */
export async function acceptOenWebhook(deps: AcceptDeps, body: OenWebhookBody): Promise<{ jobId: string; stored: "queue" | "postgres" }> {
  const { jobId, job } = toJob(deps, body);
  try {
    await deps.queues.webhooks.add(job.kind, job, { jobId });
    return { jobId, stored: "queue" };
  } catch (queueError) {
    deps.logger.warn({ err: (queueError as Error).message, jobId }, "webhook queue unavailable; keeping the webhook in Postgres");
    try {
      await deps.db.insertInto("webhook_inbox").values({ job_id: jobId, payload: JSON.stringify(job) }).execute();
      return { jobId, stored: "postgres" };
    } catch (dbError) {
      deps.logger.error({ err: (dbError as Error).message, jobId }, "webhook could not be stored anywhere; answering 503 so Oen retries");
      throw new WebhookNotStoredError("neither Redis nor Postgres accepted the webhook");
    }
  }
}

function toJob(deps: AcceptDeps, body: OenWebhookBody): { jobId: string; job: WebhookJob } {
  const receivedAt = deps.clock.now().toISOString();
  if (isTokenWebhook(body)) {
    return {
      jobId: jobIds.tokenWebhook(body.id, body.success),
      job: {
        kind: "token",
        checkoutId: body.id,
        merchantId: body.merchantId,
        customId: body.customId ?? null,
        success: body.success,
        last4: body.paymentInfo ?? null,
        message: body.message ?? null,
        sealedToken: body.token === undefined ? null : sealToken(deps.keyring, body.token),
        receivedAt,
      },
    };
  }
  // Purposes we do not act on are still kept and recorded; the same body is one job.
  const digest = createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 32);
  const { token: _dropped, ...rest } = body as Record<string, unknown>;
  return {
    jobId: jobIds.otherWebhook(digest),
    job: { kind: "other", purpose: body.purpose, oenId: typeof body.id === "string" ? body.id : null, body: rest, receivedAt },
  };
}

function isTokenWebhook(body: OenWebhookBody): body is TokenWebhook {
  return body.purpose === "token";
}
