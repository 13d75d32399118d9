import type { Redis } from "ioredis";
import { sql } from "kysely";
import type { Db } from "../db/connect.ts";
import type { TokenWebhookDelivery } from "../queues/jobs.ts";

/** The Redis key of a delivery, named by its job's id; under the queue prefix (its hash tag keeps it beside the queue in a cluster). */
export const webhookDeliveryKey = (prefix: string, jobId: string) => `${prefix}:oen-webhook-delivery:${jobId}`;

// Outlives the job's own retries through a Postgres outage (20 attempts from 1 s, doubling: about 12 days).
const KEEP_IN_REDIS_S = 14 * 86_400;

/** A delivery and the id of the job that names it. */
export interface KeptDelivery {
  jobId: string;
  delivery: TokenWebhookDelivery;
}

// One command for a batch: KEYS the deliveries' keys, ARGV[1] how long to keep them, then each key's delivery.
const KEEP_ALL_LUA = `for i, key in ipairs(KEYS) do redis.call("SET", key, ARGV[i + 1], "EX", ARGV[1]) end return #KEYS`;

/**
 * Keeps deliveries in Redis, for the worker, until they were applied; written
 * before their jobs. One command for all of them (their keys share the
 * prefix's hash tag, so one slot in a cluster).
 */
export async function keepDeliveriesInRedis(redis: Redis, prefix: string, kept: KeptDelivery[]): Promise<void> {
  await redis.eval(KEEP_ALL_LUA, kept.length, ...kept.map(({ jobId }) => webhookDeliveryKey(prefix, jobId)), KEEP_IN_REDIS_S, ...kept.map(({ delivery }) => JSON.stringify(delivery)));
}

/** Keeps deliveries in Postgres, in one statement, until a worker applied them (the copy no Redis failure can take away); a repeat of a job adds nothing. */
export async function keepDeliveriesInPostgres(db: Db, kept: KeptDelivery[]): Promise<void> {
  // Two array parameters whatever the batch's size: the statement is built and sent the same for 1 or 200.
  await sql`insert into webhook_inbox (job_id, payload)
            select * from unnest(${kept.map(({ jobId }) => jobId)}::text[], ${kept.map(({ delivery }) => JSON.stringify(delivery))}::jsonb[])
            on conflict (job_id) do nothing`.execute(db);
}

/**
 * The delivery a webhook job stands for, as stored (to be cleaned), and where
 * it was: Postgres' copy first, else the Redis key its id names; undefined
 * when neither has it.
 */
export async function loadDelivery(db: Db, redis: Redis, prefix: string, jobId: string): Promise<{ from: "postgres" | "redis"; stored: unknown } | undefined> {
  const kept = await db.selectFrom("webhook_inbox").select("payload").where("job_id", "=", jobId).executeTakeFirst();
  if (kept !== undefined) return { from: "postgres", stored: kept.payload };
  const text = await redis.get(webhookDeliveryKey(prefix, jobId));
  return text === null ? undefined : { from: "redis", stored: JSON.parse(text) };
}

/** Once applied, the Redis copy has done its job (Postgres' is marked processed). */
export async function dropDeliveryFromRedis(redis: Redis, prefix: string, jobId: string): Promise<void> {
  await redis.del(webhookDeliveryKey(prefix, jobId));
}
