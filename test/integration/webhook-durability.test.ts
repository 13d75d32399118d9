import { UnrecoverableError, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { defaultDunningPolicy } from "../../src/billing/dunning-policy.ts";
import { loadConfig } from "../../src/config.ts";
import { createDb, type Db } from "../../src/db/connect.ts";
import type { Deps } from "../../src/deps.ts";
import { buildApp } from "../../src/ingress/build-app.ts";
import { silentLogger } from "../../src/log.ts";
import { createOenClient } from "../../src/oen/client.ts";
import { QUEUE_NAMES } from "../../src/queues/queue-names.ts";
import { createQueues, type Queues } from "../../src/queues/queues.ts";
import { createRedis } from "../../src/queues/redis.ts";
import { systemClock } from "../../src/clock.ts";
import { openWebhookToken, TokenDecryptionError } from "../../src/vault/token-cipher.ts";
import { relayWebhookInbox } from "../../src/webhooks/relay-webhook-inbox.ts";
import type { TokenWebhookDelivery } from "../../src/queues/jobs.ts";
import { webhookDeliveryKey } from "../../src/webhooks/webhook-delivery-store.ts";
import { freePort } from "../support/free-port.ts";
import { eventually, samplePlan, sampleSubscription, startHarness, TEST_KEYS, type Harness } from "../support/harness.ts";
import { captureTokenWebhook, checkoutIdOf } from "../support/webhook-capture.ts";
import { startServiceProcess } from "../support/service-process.ts";
import { createTestDatabase, deleteQueueKeys, testQueuePrefix, testRedisUrl, type TestDatabase } from "../support/test-services.ts";

// Invariant 2: a webhook that got a 2xx is in Redis or, when Redis is
// unreachable, in Postgres; 503 only when neither can take it.
const DEAD_REDIS = "redis://127.0.0.1:1";
const DEAD_POSTGRES = "postgres://postgres@127.0.0.1:1/none";
const body = { purpose: "token", id: "D".repeat(27), transactionId: "D".repeat(27), merchantId: "sandbox", success: true, token: "card-token-kept-safe", paymentInfo: "4242", customId: "sub_1.subscribe" };

describe("webhook durability when Redis or Postgres is down", () => {
  let database: TestDatabase;
  const closers: Array<() => Promise<unknown>> = [];
  const config = loadConfig({ TOKEN_ENCRYPTION_KEYS: TEST_KEYS, LOG_LEVEL: "silent" });

  async function ingress(redisUrl: string, db: Db): Promise<{ app: FastifyInstance; queues: Queues; prefix: string }> {
    const redis = createRedis(redisUrl, "producer");
    redis.on("error", () => {});
    const prefix = testQueuePrefix();
    const queues = createQueues(redis, prefix);
    const deps: Deps = { config, db, queues, oen: createOenClient({ apiUrl: "http://127.0.0.1:1", apiToken: "x", merchantId: "sandbox" }), clock: systemClock, logger: silentLogger, dunning: defaultDunningPolicy };
    const app = await buildApp(deps, { redis, testClock: null });
    closers.push(() => deleteQueueKeys(prefix), () => app.close(), () => queues.close(), async () => redis.disconnect());
    return { app, queues, prefix };
  }

  /** Starts `node src/main.ts` as an ingress alone, delivers one token webhook to it, returns the status. */
  async function postToIngressProcess(stores: Record<string, string>, checkoutId: string): Promise<number> {
    const port = await freePort();
    const ingress = await startServiceProcess({ ...stores, ROLES: "ingress", PORT: String(port), HOST: "127.0.0.1", OEN_API_TOKEN: "sim-unused", TOKEN_ENCRYPTION_KEYS: TEST_KEYS });
    closers.push(() => ingress.kill("SIGKILL"));
    const answer = await fetch(`http://127.0.0.1:${port}/webhooks/oen`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...body, id: checkoutId, transactionId: checkoutId }),
    });
    return answer.status;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    // The pages these webhooks are about: the ingress takes only token webhooks for a page we opened.
    await database.db.insertInto("plans").values({ id: "plan_1", name: "Plan", amount: 100, interval: "month", interval_count: 1, product_code: "P", description: "d", unit: "month" }).execute();
    await database.db.insertInto("customers").values({ id: "cus_1", name: "Ming", email: "ming@example.com" }).execute();
    await database.db.insertInto("subscriptions").values({ id: "sub_1", customer_id: "cus_1", plan_id: "plan_1", status: "incomplete", success_url: "https://a.example/ok", failure_url: "https://a.example/no", billing_anchor: null, current_period_start: null, current_period_end: null, canceled_at: null, ended_at: null, next_renewal_at: null }).execute();
    for (const letter of ["D", "E", "G"]) {
      await database.db
        .insertInto("checkout_sessions")
        .values({ id: letter.repeat(27), subscription_id: "sub_1", purpose: "subscribe", custom_id: body.customId, status: "open", failure_message: null, expires_at: new Date(Date.now() + 600_000), completed_at: null })
        .execute();
    }
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await database?.drop();
  });

  it("keeps the webhook in Postgres (token sealed) and answers 200 when Redis is unreachable", async () => {
    const { app } = await ingress(DEAD_REDIS, database.db);
    const started = Date.now();
    const answer = await app.inject({ method: "POST", url: "/webhooks/oen", payload: body });
    expect(answer.statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(8_000); // inside Oen's 10 s
    const rows = await database.db.selectFrom("webhook_inbox").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain("card-token-kept-safe");
    const delivery = rows[0]!.payload as unknown as TokenWebhookDelivery;
    expect(openWebhookToken(config.tokenKeys, delivery.sealedToken!, body.id)).toBe("card-token-kept-safe");
    expect(() => openWebhookToken(config.tokenKeys, delivery.sealedToken!, "X".repeat(27))).toThrow(TokenDecryptionError);
    // Still in rotation: Postgres keeps the webhooks safe.
    const readiness = await app.inject("/readyz");
    expect(readiness.statusCode).toBe(200);
    expect(readiness.json()).toMatchObject({ status: "degraded", postgres: "ok", redis: expect.stringMatching(/^unavailable/) });
  });

  it("answers 503 so that Oen retries when neither Redis nor Postgres can take it", async () => {
    const deadDb = createDb(DEAD_POSTGRES);
    closers.push(() => deadDb.destroy());
    const { app } = await ingress(DEAD_REDIS, deadDb);
    const answer = await app.inject({ method: "POST", url: "/webhooks/oen", payload: body });
    expect(answer.statusCode).toBe(503);
    expect((await app.inject("/readyz")).statusCode).toBe(503);
  });

  it("relays what Postgres kept onto the queue once Redis is back, as one job per webhook", async () => {
    const { queues } = await ingress(testRedisUrl(), database.db);
    await queues.webhooks.waitUntilReady();
    expect(await relayWebhookInbox({ db: database.db, queues, config })).toBe(1);
    expect(await relayWebhookInbox({ db: database.db, queues, config })).toBe(0);
    const jobs = await queues.webhooks.getJobs(["waiting"]);
    expect(jobs.map((j) => j.id)).toEqual([expect.stringMatching(new RegExp(`^oen-token-${"D".repeat(27)}-[0-9a-f]{32}$`))]);
    // Ids only: the sealed token waits in Postgres.
    expect(jobs[0]!.data).toEqual({ kind: "token", checkoutId: "D".repeat(27) });
  });

  it("a whole ingress process starts while Redis is down, and keeps webhooks in Postgres", async () => {
    expect(await postToIngressProcess({ DATABASE_URL: database.url, REDIS_URL: DEAD_REDIS }, "E".repeat(27))).toBe(200);
    const kept = await database.db.selectFrom("webhook_inbox").select("job_id").execute();
    expect(kept.some((row) => row.job_id.startsWith(`oen-token-${"E".repeat(27)}-`))).toBe(true);
  });

  it("an ingress process starts while Postgres is down, and queues webhooks in Redis", async () => {
    const prefix = testQueuePrefix();
    expect(await postToIngressProcess({ DATABASE_URL: DEAD_POSTGRES, REDIS_URL: testRedisUrl(), QUEUE_PREFIX: prefix }, "F".repeat(27))).toBe(200);
    const redis = createRedis(testRedisUrl(), "worker");
    const queues = createQueues(redis, prefix);
    const jobs = await queues.webhooks.getJobs(["waiting"]);
    expect(jobs.map((j) => j.id)).toEqual([expect.stringMatching(new RegExp(`^oen-token-${"F".repeat(27)}-`))]);
    // The job holds ids only; the sealed token travels in the Redis key the job names, bound to its page.
    expect(jobs[0]!.data).toEqual({ kind: "token", checkoutId: "F".repeat(27) });
    const delivery = JSON.parse((await redis.get(webhookDeliveryKey(prefix, jobs[0]!.id!)))!) as TokenWebhookDelivery;
    expect(JSON.stringify(delivery)).not.toContain("card-token-kept-safe");
    expect(openWebhookToken(config.tokenKeys, delivery.sealedToken!, "F".repeat(27))).toBe("card-token-kept-safe");
    expect(() => openWebhookToken(config.tokenKeys, delivery.sealedToken!, "E".repeat(27))).toThrow(TokenDecryptionError);
    await queues.close();
    redis.disconnect();
    await deleteQueueKeys(prefix);
  });

  it("revives a webhook job that gave up (kept as failed) when the inbox relays it again", async () => {
    const { app, queues, prefix } = await ingress(testRedisUrl(), database.db);
    await queues.webhooks.waitUntilReady();
    const id = "G".repeat(27);
    expect((await app.inject({ method: "POST", url: "/webhooks/oen", payload: { ...body, id, transactionId: id } })).statusCode).toBe(200);
    const row = await database.db.selectFrom("webhook_inbox").selectAll().where("job_id", "like", `oen-token-${id}-%`).executeTakeFirstOrThrow();
    // A worker gives the job up (Postgres refused it, say); BullMQ keeps it failed forever.
    const connection = createRedis(testRedisUrl(), "worker");
    const broken = new Worker(QUEUE_NAMES.webhooks, async () => Promise.reject(new UnrecoverableError("Postgres refused it")), { connection, prefix });
    await eventually(async () => (await queues.webhooks.getJobState(row.job_id)) === "failed");
    await broken.close();
    connection.disconnect();
    expect(await relayWebhookInbox({ db: database.db, queues, config })).toBeGreaterThanOrEqual(1);
    expect(await queues.webhooks.getJobState(row.job_id)).toBe("waiting");
  });
});

describe("a webhook kept in Redis only, because Postgres was down at the ingress", () => {
  let h: Harness;
  const closers: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    // No worker yet: the webhook waits in Redis.
    h = await startHarness({ env: { ROLES: "ingress,scheduler" } });
    await h.api("PUT", "/v1/plans/kept", samplePlan);
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await h?.close();
  });

  it("is kept in Postgres by the worker before it is applied, once Postgres is back", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("kept", "cus_redis_only"))).json();
    const checkoutId = checkoutIdOf(subscription.checkoutUrl);
    const genuine = await captureTokenWebhook(h, checkoutId);
    // Another ingress, on the same Redis and queue prefix, whose Postgres does not answer.
    const deadDb = createDb(DEAD_POSTGRES);
    const producer = createRedis(h.config.redisUrl, "producer");
    producer.on("error", () => {});
    await new Promise((resolve) => producer.once("ready", resolve));
    const app = await buildApp({ ...h.service.deps, db: deadDb }, { redis: producer, testClock: null });
    closers.push(() => deadDb.destroy(), async () => producer.disconnect(), () => app.close());
    expect((await app.inject({ method: "POST", url: "/webhooks/oen", payload: genuine })).statusCode).toBe(200);
    const [job] = await h.service.deps.queues.webhooks.getJobs(["waiting"]);
    expect(job!.data).toEqual({ kind: "token", checkoutId });
    expect(await h.database.db.selectFrom("webhook_inbox").select("id").where("job_id", "=", job!.id!).execute()).toEqual([]);
    expect(await producer.exists(webhookDeliveryKey(h.config.queuePrefix, job!.id!))).toBe(1);

    const worker = await startServiceProcess({ ...h.env, ROLES: "workers" });
    closers.push(() => worker.kill("SIGKILL"));
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().status === "active", 20_000, "the webhook applied");
    const kept = await h.database.db.selectFrom("webhook_inbox").selectAll().where("job_id", "=", job!.id!).executeTakeFirstOrThrow();
    expect(kept.processed_at).toBeInstanceOf(Date);
    expect(JSON.stringify(kept.payload)).not.toContain(genuine.token!);
    expect(await producer.exists(webhookDeliveryKey(h.config.queuePrefix, job!.id!))).toBe(0);
  });
});
