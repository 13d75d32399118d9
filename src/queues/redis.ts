import { Redis } from "ioredis";

/**
 * Workers block on Redis and must wait out outages (maxRetriesPerRequest null);
 * producers on the ingress path must fail fast instead, so a webhook can fall
 * back to Postgres within Oen's 10 s timeout.
 */
export function createRedis(url: string, use: "worker" | "producer"): Redis {
  return use === "worker"
    ? new Redis(url, { maxRetriesPerRequest: null })
    : new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 2_000 });
}
