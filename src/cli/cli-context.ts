import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { systemClock, type Clock } from "../clock.ts";
import { loadConfig, type Config } from "../config.ts";
import { createDb, type Db } from "../db/connect.ts";
import type { Deps } from "../deps.ts";
import { dunningPolicyFrom } from "../dunning/dunning-policy-from.ts";
import { createLogger, type Logger } from "../log.ts";
import { createOenClient, type OenClient } from "../oen/client.ts";
import { createQueues, type Queues } from "../queues/queues.ts";
import { startTestClock } from "../test-clock.ts";
import { CliError } from "./cli-error.ts";

const CLOSE_WAIT_MS = 2_000;

/** What a command runs on: the service's own configuration, database, queues and Oen client. */
export interface CliContext {
  config: Config;
  db: Db;
  logger: Logger;
  /** The database, the queues (Redis), Oen and the billing clock, as the service has them. */
  deps(): Promise<Deps>;
  /** Refuses, before anything is written, a command that must talk to Oen when OEN_API_TOKEN is not set. */
  needsOen(): void;
  close(): Promise<void>;
}

/**
 * Reads the environment as `npm start` does (a ConfigError lists every problem) and connects
 * lazily: a command that needs only Postgres never waits for Redis. Logs go to stderr, at
 * LOG_LEVEL or `warn`, so that stdout stays the command's answer.
 */
export function openCliContext(env: Record<string, string | undefined> = process.env): CliContext {
  const config = loadConfig(env);
  const logger = createLogger({ level: env.LOG_LEVEL ?? "warn", name: "billing-cli", destination: process.stderr });
  const db = createDb(config.databaseUrl, { max: 4 });
  const closers: Array<() => Promise<unknown>> = [() => db.destroy()];
  let deps: Promise<Deps> | undefined;

  const connect = async (): Promise<Deps> => {
    // Unlike the ingress' producer, the CLI may wait a little for Redis, and then says so.
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 5_000 });
    redis.on("error", () => {});
    closers.push(() => redis.quit().catch(() => redis.disconnect()));
    const queues: Queues = createQueues(redis, config.queuePrefix);
    closers.push(() => queues.close());
    let clock: Clock = systemClock;
    if (config.testClock) {
      const testClock = await startTestClock(db);
      closers.push(async () => testClock.stop());
      clock = testClock;
    }
    return { config, db, queues, oen: oenClient(config, logger), clock, logger, dunning: dunningPolicyFrom(config) };
  };

  return {
    config,
    db,
    logger,
    deps: () => (deps ??= connect()),
    needsOen() {
      if (config.oen.apiToken === null) throw noOenToken();
    },
    async close() {
      // A connection that cannot close cleanly (Redis down) is left to the process' exit.
      for (const closer of closers.reverse()) await Promise.race([closer().catch(() => {}), sleep(CLOSE_WAIT_MS, undefined, { ref: false })]);
    },
  };
}

/** Without OEN_API_TOKEN the service talks to its built-in simulator, which no other process can reach. */
function oenClient(config: Config, logger: Logger): OenClient {
  if (config.oen.apiToken !== null) {
    return createOenClient({ apiUrl: config.oen.apiUrl, apiToken: config.oen.apiToken, merchantId: config.oen.merchantId, timeoutMs: config.oen.requestTimeoutMs, logger });
  }
  const refuse = async (): Promise<never> => {
    throw noOenToken();
  };
  return { createCheckoutToken: refuse, chargeToken: refuse, listOrderTransactions: refuse, listTransactions: refuse, getTransaction: refuse, refund: refuse };
}

function noOenToken(): CliError {
  return new CliError("no_oen_token", "OEN_API_TOKEN is not set: this command talks to Oen (the service's built-in simulator cannot be reached from here)", 2);
}
