import { Worker, type ConnectionOptions } from "bullmq";
import type { Deps } from "../src/deps.ts";
import { metrics } from "../src/metrics/metrics.ts";
import { createSideEffects } from "../src/outbox/side-effects.ts";
import type { WebhookJob } from "../src/queues/jobs.ts";
import { QUEUE_NAMES } from "../src/queues/queue-names.ts";
import { handleTokenWebhook } from "../src/webhooks/handle-token-webhook.ts";
import { cleanWebhookJob } from "../src/webhooks/clean-webhook-job.ts";
import { recordWebhookEvent } from "../src/webhooks/record-webhook-event.ts";
import { markWebhookProcessed } from "../src/webhooks/relay-webhook-inbox.ts";

/**
 * Applies Oen webhooks in the background, after the ingress answered 2xx.
 * The job is cleaned again: one queued by an older version may hold what
 * Postgres refuses (a NUL) or fields of odd types, and must not fail forever.
 */
export async function processWebhook(deps: Deps, jobId: string, queued: WebhookJob): Promise<string> {
  const data = cleanWebhookJob(queued);
  if (data.kind === "other") {
    await recordWebhookEvent(deps.db, data, "ignored", `purpose ${data.purpose} is not used by token billing`);
    await markWebhookProcessed(deps, jobId);
    metrics.webhookApplied("ignored");
    return "ignored";
  }
  const effects = createSideEffects(deps);
  const result = await handleTokenWebhook(deps, data, effects);
  await effects.flush();
  await markWebhookProcessed(deps, jobId);
  metrics.webhookApplied(result.outcome);
  deps.logger.info({ checkoutId: data.checkoutId, outcome: result.outcome, reason: result.reason, subscriptionId: result.subscriptionId }, "token webhook processed");
  return result.outcome;
}

export function startWebhookWorker(deps: Deps, connection: ConnectionOptions, options: { concurrency?: number } = {}): Worker<WebhookJob> {
  return new Worker<WebhookJob>(QUEUE_NAMES.webhooks, async (job) => processWebhook(deps, job.id!, job.data), {
    connection,
    prefix: deps.config.queuePrefix,
    concurrency: options.concurrency ?? deps.config.concurrency.webhooks,
  });
}
