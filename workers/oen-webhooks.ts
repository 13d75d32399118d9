import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Deps } from "../src/deps.ts";
import { metrics } from "../src/metrics/metrics.ts";
import { createSideEffects } from "../src/outbox/side-effects.ts";
import type { WebhookJob } from "../src/queues/jobs.ts";
import { QUEUE_NAMES } from "../src/queues/queue-names.ts";
import { cleanTokenDelivery } from "../src/webhooks/clean-token-delivery.ts";
import { handleTokenWebhook } from "../src/webhooks/handle-token-webhook.ts";
import { markWebhookProcessed } from "../src/webhooks/relay-webhook-inbox.ts";
import { dropDeliveryFromRedis, keepDeliveriesInPostgres, loadDelivery } from "../src/webhooks/webhook-delivery-store.ts";
import { purposeClass } from "../src/webhooks/webhook-count-labels.ts";
import { writeWebhookTallies } from "../src/webhooks/webhook-tally.ts";

/**
 * Applies Oen webhooks in the background, after the ingress answered 2xx. The
 * job names its delivery: Postgres' copy, else the Redis key its id names; a
 * job queued by an older version carries it whole. One Postgres did not have
 * is kept there first. The delivery is cleaned again: one stored by an older
 * version may hold what Postgres refuses (a NUL) or fields of odd types, and
 * must not fail forever.
 */
export async function processWebhook(deps: Deps, redis: Redis, jobId: string, job: WebhookJob): Promise<string> {
  const prefix = deps.config.queuePrefix;
  if (job.kind === "other") {
    await writeWebhookTallies(deps.db, [{ purpose: purposeClass(job.purpose), outcome: "ignored", reason: "purpose_not_acted_on", count: 1 }]);
    await markWebhookProcessed(deps, jobId);
    metrics.webhookApplied("ignored");
    return "ignored";
  }
  const found = (await loadDelivery(deps.db, redis, prefix, jobId)) ?? ("sealedToken" in job ? { from: "job" as const, stored: job } : undefined);
  if (found === undefined) {
    deps.logger.warn({ jobId, checkoutId: job.checkoutId }, "token webhook job without its delivery in Postgres or Redis; nothing to apply");
    return "missing";
  }
  const delivery = cleanTokenDelivery(found.stored as Record<string, unknown>);
  // Kept only in Redis (Postgres was down when it came): Postgres keeps it now, so the relay brings it back whatever becomes of the job.
  if (found.from !== "postgres") await keepDeliveriesInPostgres(deps.db, [{ jobId, delivery }]);
  const effects = createSideEffects(deps);
  const result = await handleTokenWebhook(deps, delivery, effects);
  await effects.flush();
  await markWebhookProcessed(deps, jobId);
  await dropDeliveryFromRedis(redis, prefix, jobId);
  metrics.webhookApplied(result.outcome);
  deps.logger.info({ checkoutId: delivery.checkoutId, outcome: result.outcome, reason: result.reason, subscriptionId: result.subscriptionId }, "token webhook processed");
  return result.outcome;
}

export function startWebhookWorker(deps: Deps, connection: Redis, options: { concurrency?: number } = {}): Worker<WebhookJob> {
  return new Worker<WebhookJob>(QUEUE_NAMES.webhooks, async (job) => processWebhook(deps, connection, job.id!, job.data), {
    connection,
    prefix: deps.config.queuePrefix,
    concurrency: options.concurrency ?? deps.config.concurrency.webhooks,
  });
}
