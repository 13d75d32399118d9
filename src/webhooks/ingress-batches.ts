import type { Redis } from "ioredis";
import { createBatcher, type BatcherOptions } from "../batcher.ts";
import type { Db } from "../db/connect.ts";
import type { CheckoutSession } from "../db/database.ts";
import type { Queues } from "../queues/queues.ts";
import { keepDeliveriesInPostgres, keepDeliveriesInRedis, type KeptDelivery } from "./webhook-delivery-store.ts";

export type CheckoutPage = Pick<CheckoutSession, "status" | "custom_id" | "expires_at">;

/** What the ingress reads and writes per token webhook, each shared by the webhooks arriving together. */
export interface IngressBatches {
  /** The checkout page a webhook names; undefined when it is not ours. */
  findPage(checkoutId: string): Promise<CheckoutPage | undefined>;
  /** Resolves once Postgres keeps the delivery (webhook_inbox). */
  keepInPostgres(kept: KeptDelivery): Promise<true>;
  /** Resolves once Redis keeps the delivery and its job is queued. */
  queueInRedis(kept: KeptDelivery): Promise<true>;
}

export interface IngressBatchesDeps {
  db: Db;
  queues: Pick<Queues, "webhooks">;
  /** The producer connection the queues use (the delivery's Redis copy goes there too). */
  redis: Redis;
  queuePrefix: string;
  /** False while the queue's Redis connection is known to be down: fail at once (Postgres takes it). */
  queueConnected: () => boolean;
}

// The webhooks the event loop read in one turn share one statement per step (one page
// lookup, one INSERT, one pipelined SET and one addBulk) instead of one each: a round trip,
// a commit and the client's work per batch, not per webhook. No webhook waits for a timer.
const BATCH: BatcherOptions = { maxItems: 200, windowMs: 0 };

/**
 * The ingress' reads and writes, batched (createBatcher): each webhook still
 * awaits its own outcome, and a store that failed fails exactly the webhooks of
 * its batch (which may still be kept by the other store).
 */
export function createIngressBatches(deps: IngressBatchesDeps, options: BatcherOptions = BATCH): IngressBatches {
  const pages = createBatcher(async (checkoutIds: string[]) => {
    const found = await deps.db
      .selectFrom("checkout_sessions")
      .select(["id", "status", "custom_id", "expires_at"])
      .where((eb) => eb("id", "=", eb.fn.any(eb.val([...new Set(checkoutIds)]))))
      .execute();
    const byId = new Map(found.map(({ id, ...page }) => [id, page]));
    return checkoutIds.map((id) => byId.get(id));
  }, options);
  const postgres = createBatcher(async (kept: KeptDelivery[]) => {
    await keepDeliveriesInPostgres(deps.db, kept);
    return kept.map(() => true as const);
  }, options);
  const redis = createBatcher(async (kept: KeptDelivery[]) => {
    if (!deps.queueConnected()) throw new Error("Redis is not connected");
    // Each job only after its delivery: a job never names a delivery Redis does not have.
    const errors = await keepDeliveriesInRedis(deps.redis, deps.queuePrefix, kept);
    const queued = kept.filter((_, index) => errors[index] === null);
    if (queued.length > 0) await deps.queues.webhooks.addBulk(queued.map(({ jobId, delivery }) => ({ name: "token", data: { kind: "token", checkoutId: delivery.checkoutId }, opts: { jobId } })));
    return errors.map((error) => error ?? (true as const));
  }, options);
  return { findPage: pages.add, keepInPostgres: postgres.add, queueInRedis: redis.add };
}
