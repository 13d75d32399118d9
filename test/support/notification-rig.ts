import type { Worker } from "bullmq";
import type { Kysely } from "kysely";
import { createDunningPolicy } from "../../src/billing/dunning-policy.ts";
import { systemClock } from "../../src/clock.ts";
import { loadConfig } from "../../src/config.ts";
import type { Database } from "../../src/db/database.ts";
import type { Deps } from "../../src/deps.ts";
import { newId } from "../../src/ids.ts";
import { silentLogger } from "../../src/log.ts";
import { createOenClient } from "../../src/oen/client.ts";
import { createQueues } from "../../src/queues/queues.ts";
import { createRedis } from "../../src/queues/redis.ts";
import { startNotificationWorker, type NotificationWorkerOptions } from "../../workers/notifications.ts";
import { createTestDatabase, deleteQueueKeys, testQueuePrefix, testRedisUrl, type TestDatabase } from "./test-services.ts";

export interface NotificationRig {
  deps: Deps;
  database: TestDatabase;
  /** The notifications worker alone, with the retry schedules the test chose. */
  worker: Worker;
  close(): Promise<void>;
}

/**
 * Just the notifications worker on a private database and queue prefix (real
 * Postgres and Redis), for tests that need its retry timing in milliseconds.
 */
export async function startNotificationRig(options: { env?: Record<string, string>; worker?: NotificationWorkerOptions } = {}): Promise<NotificationRig> {
  const database = await createTestDatabase();
  const config = loadConfig({ NODE_ENV: "test", DATABASE_URL: database.url, REDIS_URL: testRedisUrl(), QUEUE_PREFIX: testQueuePrefix(), LOG_LEVEL: "silent", ...options.env });
  const producer = createRedis(config.redisUrl, "worker");
  const connection = createRedis(config.redisUrl, "worker");
  const queues = createQueues(producer, config.queuePrefix);
  const deps: Deps = {
    config,
    db: database.db,
    queues,
    // Never called: nothing here talks to Oen.
    oen: createOenClient({ apiUrl: "http://127.0.0.1:9", apiToken: "unused", merchantId: config.oen.merchantId }),
    clock: systemClock,
    logger: silentLogger,
    dunning: createDunningPolicy(),
  };
  const worker = startNotificationWorker(deps, connection, options.worker);
  return {
    deps,
    database,
    worker,
    async close() {
      await worker.close();
      await queues.close();
      await deleteQueueKeys(config.queuePrefix);
      producer.disconnect();
      connection.disconnect();
      await database.drop();
    },
  };
}

/** A plan, a customer and an active subscription (optionally with its cycle-1 invoice); returns the subscription id. */
export async function seedSubscription(
  db: Kysely<Database>,
  options: { locale?: "zh-TW" | "en"; customerName?: string; email?: string; planName?: string; amount?: number; invoiceAmount?: number } = {},
): Promise<string> {
  const planId = newId("plan");
  const customerId = newId("cus");
  const subscriptionId = newId("sub");
  await db
    .insertInto("plans")
    .values({ id: planId, name: options.planName ?? "Premium", amount: options.amount ?? 899, interval: "month", interval_count: 1, product_code: "P", description: "d", unit: "month" })
    .execute();
  await db
    .insertInto("customers")
    .values({ id: customerId, name: options.customerName ?? "王小明", email: options.email ?? "ming@example.com", ...(options.locale ? { locale: options.locale } : {}) })
    .execute();
  const periodStart = new Date("2026-11-01T00:00:00Z");
  const periodEnd = new Date("2026-12-01T00:00:00Z");
  await db
    .insertInto("subscriptions")
    .values({
      id: subscriptionId,
      customer_id: customerId,
      plan_id: planId,
      status: "active",
      success_url: "https://platform.example.com/ok",
      failure_url: "https://platform.example.com/failed",
      billing_anchor: periodStart,
      current_period_start: periodStart,
      current_period_end: periodEnd,
      canceled_at: null,
      ended_at: null,
      next_renewal_at: periodEnd,
    })
    .execute();
  if (options.invoiceAmount !== undefined) {
    await db
      .insertInto("invoices")
      .values({
        id: newId("inv"),
        subscription_id: subscriptionId,
        cycle: 1,
        status: "open",
        amount: options.invoiceAmount,
        product_details: JSON.stringify([]),
        period_start: periodStart,
        period_end: periodEnd,
        next_attempt_at: null,
        first_failed_at: null,
        paid_at: null,
      })
      .execute();
  }
  return subscriptionId;
}
