import type { Worker } from "bullmq";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { startChargeWorker } from "../workers/charges.ts";
import { startLookupWorker } from "../workers/lookups.ts";
import { startNotificationWorker } from "../workers/notifications.ts";
import { startWebhookWorker } from "../workers/oen-webhooks.ts";
import { scheduleSweep, startRenewalWorker } from "../workers/renewals.ts";
import { dunningPolicyFrom } from "./dunning/dunning-policy-from.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { createDb } from "./db/connect.ts";
import { migrateToLatest } from "./db/migrate.ts";
import type { Deps } from "./deps.ts";
import { buildApp } from "./ingress/build-app.ts";
import { createLogger, type Logger } from "./log.ts";
import { metrics } from "./metrics/metrics.ts";
import { createOenClient, type OenClient } from "./oen/client.ts";
import { createQueues } from "./queues/queues.ts";
import { createRedis } from "./queues/redis.ts";
import { startTestClock, type TestClock } from "./test-clock.ts";
import { throttledWarning } from "./throttled-warning.ts";
import { refuseMissingTokenKeys } from "./vault/refuse-missing-token-keys.ts";

export interface ServiceOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  /** Replaces the client built from config (tests point it at a simulator). */
  oen?: OenClient;
}

export interface Service {
  deps: Deps;
  /** The sandbox test clock, when BILLING_TEST_CLOCK=1. */
  testClock: TestClock | null;
  app: FastifyInstance | null;
  /** Base URL of the HTTP ingress when this process runs it. */
  url: string | null;
  workers: Worker[];
  close(): Promise<void>;
}

// Long enough for a healthy Redis to answer; short enough that an ingress
// starts (and keeps webhooks safe in Postgres) while Redis is down.
const REDIS_WAIT_MS = 5_000;
// A Redis client that cannot close cleanly (Redis down: BullMQ waits for it) must not hold up a shutdown.
const CLOSE_TIMEOUT_MS = 5_000;

/** `closing`, given up after `ms` (what it held is left to the process's exit). */
function bounded(closing: Promise<unknown>, ms = CLOSE_TIMEOUT_MS): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not close within ${ms} ms; left behind`)), ms);
  });
  return Promise.race([closing, timeout]).finally(() => clearTimeout(timer));
}

async function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === "ready") return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts the roles of `config.roles` in this process: migrations first, then
 * the HTTP ingress, the queue workers and the scheduler. `close` releases
 * every connection, so tests and graceful shutdown leave nothing behind.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  metrics.startProcessMetrics();
  const db = createDb(config.databaseUrl, { max: config.databasePoolSize });
  const closers: Array<() => Promise<unknown>> = [() => db.destroy()];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch((error) => logger.warn({ err: (error as Error).message }, "error while closing"));
  };
  try {
    try {
      const applied = await migrateToLatest(db);
      if (applied.length === 0) logger.info("database schema up to date: no migration to apply");
      else logger.info({ migrations: applied }, `applied ${applied.length} migration${applied.length === 1 ? "" : "s"}: ${applied.join(", ")}`);
      // The workers open stored tokens; an ingress alone never does, and must start (Oen's webhooks).
      if (config.roles.includes("workers")) await refuseMissingTokenKeys(db, config.tokenKeys);
    } catch (error) {
      // An ingress must almost never be down (Oen's 3 tries and the token is gone): without
      // Postgres it still queues webhooks in Redis. Other roles migrate the schema.
      if (!config.roles.every((role) => role === "ingress")) throw error;
      logger.error({ err: (error as Error).message }, "Postgres is not answering; the ingress starts anyway (webhooks go to Redis)");
    }
    const producer = createRedis(config.redisUrl, "producer");
    const producerError = throttledWarning(logger, "redis (producer) error");
    producer.on("error", (error) => producerError({ err: error.message }));
    closers.push(() => bounded(producer.quit()).catch(() => producer.disconnect()));
    if (!(await redisReady(producer, REDIS_WAIT_MS))) logger.error({ redis: config.redisUrl.replace(/\/\/[^@]*@/, "//***@") }, "Redis is not answering; starting anyway (webhooks fall back to Postgres)");
    const queueError = throttledWarning(logger, "queue error");
    const queues = createQueues(producer, config.queuePrefix, (error) => queueError({ err: error.message }));
    closers.push(() => bounded(queues.close()));
    const oen =
      options.oen ??
      createOenClient({ apiUrl: config.oen.apiUrl, apiToken: config.oen.apiToken ?? "", merchantId: config.oen.merchantId, timeoutMs: config.oen.requestTimeoutMs, logger });
    const testClock = config.testClock && options.clock === undefined ? await startTestClock(db) : null;
    if (testClock !== null) closers.push(async () => testClock.stop());
    const dunning = dunningPolicyFrom(config);
    const deps: Deps = { config, db, queues, oen, clock: options.clock ?? testClock ?? systemClock, logger, dunning };

    const workers: Worker[] = [];
    const runsWorkers = config.roles.includes("workers");
    const runsScheduler = config.roles.includes("scheduler");
    if (runsWorkers || runsScheduler) {
      const connection = createRedis(config.redisUrl, "worker");
      const connectionError = throttledWarning(logger, "redis (workers) error");
      connection.on("error", (error) => connectionError({ err: error.message }));
      closers.push(() => bounded(connection.quit()).catch(() => connection.disconnect()));
      if (runsWorkers) workers.push(startWebhookWorker(deps, connection), startChargeWorker(deps, connection), startLookupWorker(deps, connection), startNotificationWorker(deps, connection));
      if (runsScheduler) {
        // Registered now and again every interval: a flushed Redis loses the scheduler with everything else.
        // Not awaited: while Redis is down it waits for the connection, and the ingress must listen meanwhile.
        const register = () => void scheduleSweep(deps).catch((error) => logger.warn({ err: (error as Error).message }, "could not register the sweep scheduler"));
        register();
        const keepScheduled = setInterval(register, config.renewalSweepIntervalMs);
        closers.push(async () => clearInterval(keepScheduled));
        workers.push(startRenewalWorker(deps, connection));
      }
      for (const worker of workers) {
        worker.on("failed", (job, error) => logger.warn({ queue: worker.name, jobId: job?.id, err: error.message }, "job failed"));
        const workerError = throttledWarning(logger, "worker error");
        worker.on("error", (error) => workerError({ queue: worker.name, err: error.message }));
      }
      // Running jobs finish first (a charge waits for Oen's answer, up to the request timeout).
      closers.push(() => bounded(Promise.all(workers.map((worker) => worker.close())), config.oen.requestTimeoutMs + CLOSE_TIMEOUT_MS));
    }

    let app: FastifyInstance | null = null;
    let url: string | null = null;
    if (config.roles.includes("ingress")) {
      app = await buildApp(deps, { redis: producer, testClock });
      closers.push(() => app!.close());
      url = await app.listen({ port: config.port, host: config.host });
      logger.info({ url }, "ingress listening");
    }
    return { deps, testClock, app, url, workers, close };
  } catch (error) {
    await close();
    throw error;
  }
}
