import type { Redis } from "ioredis";
import { sql } from "kysely";
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
  keepInPostgres(kept: KeptDelivery): Promise<void>;
  /** Resolves once Redis keeps the delivery and its job is queued. */
  queueInRedis(kept: KeptDelivery): Promise<void>;
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

// The webhooks the event loop read in one turn share each step (one page lookup, one INSERT,
// one script keeping the Redis copies, one addBulk) instead of one each: a round trip, a
// commit and the client's work per batch, not per webhook. No webhook waits for a timer.
const BATCH: BatcherOptions = { maxItems: 200, windowMs: 0 };

// Oen waits 10 s per try: the page lookup and each store get a few seconds, counted per batch
// (one timer for all its webhooks). A write that completes after its timeout is harmless:
// the relay reuses the same job id.
const LOOKUP_TIMEOUT_MS = 1_500;
const STORE_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The ingress' reads and writes, batched (createBatcher): each webhook still
 * awaits its own outcome, and a store that failed fails exactly the webhooks of
 * its batch (which may still be kept by the other store).
 */
export function createIngressBatches(deps: IngressBatchesDeps): IngressBatches {
  const pages = createBatcher(async (checkoutIds: string[]) => {
    const lookup = sql<CheckoutPage & { id: string }>`select id, status, custom_id, expires_at from checkout_sessions where id = any(${checkoutIds}::text[])`.execute(deps.db);
    const found = await withTimeout(lookup, "Postgres", LOOKUP_TIMEOUT_MS);
    const byId = new Map(found.rows.map(({ id, ...page }) => [id, page]));
    return checkoutIds.map((id) => byId.get(id));
  }, BATCH);
  const postgres = createBatcher(async (kept: KeptDelivery[]) => {
    await withTimeout(keepDeliveriesInPostgres(deps.db, kept), "Postgres", STORE_TIMEOUT_MS);
    return kept.map(() => undefined);
  }, BATCH);
  const redis = createBatcher(async (kept: KeptDelivery[]) => {
    if (!deps.queueConnected()) throw new Error("Redis is not connected");
    const queue = async () => {
      // The jobs only after their deliveries: a job never names a delivery Redis does not have.
      await keepDeliveriesInRedis(deps.redis, deps.queuePrefix, kept);
      await deps.queues.webhooks.addBulk(kept.map(({ jobId, delivery }) => ({ name: "token", data: { kind: "token", checkoutId: delivery.checkoutId }, opts: { jobId } })));
    };
    await withTimeout(queue(), "Redis", STORE_TIMEOUT_MS);
    return kept.map(() => undefined);
  }, BATCH);
  return { findPage: pages.add, keepInPostgres: postgres.add, queueInRedis: redis.add };
}
