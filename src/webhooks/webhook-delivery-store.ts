import type { Redis } from "ioredis";
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

/**
 * Keeps deliveries in Redis, for the worker, until they were applied; written
 * before their jobs. One round trip for all of them; each answer says whether
 * its own was kept (null) or the error Redis gave for it.
 */
export async function keepDeliveriesInRedis(redis: Redis, prefix: string, kept: KeptDelivery[]): Promise<Array<Error | null>> {
  const pipeline = redis.pipeline();
  for (const { jobId, delivery } of kept) pipeline.set(webhookDeliveryKey(prefix, jobId), JSON.stringify(delivery), "EX", KEEP_IN_REDIS_S);
  const answers = (await pipeline.exec()) ?? [];
  return kept.map((_, index) => {
    const answer = answers[index];
    return answer === undefined ? new Error("no answer from Redis for the delivery") : answer[0];
  });
}

/** Keeps deliveries in Postgres (one statement) until a worker applied them (the copy no Redis failure can take away); a repeat of a job adds nothing. */
export async function keepDeliveriesInPostgres(db: Db, kept: KeptDelivery[]): Promise<void> {
  await db
    .insertInto("webhook_inbox")
    .values(kept.map(({ jobId, delivery }) => ({ job_id: jobId, payload: JSON.stringify(delivery) })))
    .onConflict((oc) => oc.column("job_id").doNothing())
    .execute();
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
