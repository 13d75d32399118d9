import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultDunningPolicy } from "../../src/billing/dunning-policy.ts";
import { systemClock } from "../../src/clock.ts";
import { loadConfig } from "../../src/config.ts";
import { createDb, type Db } from "../../src/db/connect.ts";
import type { Database } from "../../src/db/database.ts";
import type { Deps } from "../../src/deps.ts";
import { buildApp } from "../../src/ingress/build-app.ts";
import { silentLogger } from "../../src/log.ts";
import { createOenClient } from "../../src/oen/client.ts";
import type { TokenWebhookDelivery } from "../../src/queues/jobs.ts";
import { createQueues, type Queues } from "../../src/queues/queues.ts";
import { createRedis } from "../../src/queues/redis.ts";
import { createIngressBatches } from "../../src/webhooks/ingress-batches.ts";
import { webhookDeliveryKey } from "../../src/webhooks/webhook-delivery-store.ts";
import { eventually, TEST_KEYS } from "../support/harness.ts";
import { createTestDatabase, deleteQueueKeys, testQueuePrefix, testRedisUrl, type TestDatabase } from "../support/test-services.ts";

// The ingress shares one page lookup, one INSERT and one Redis round trip per step among
// the webhooks that arrive together; each still gets its own answer (invariant 2: 2xx only
// once a store kept it, 503 when neither did).
const DEAD_REDIS = "redis://127.0.0.1:1";
const DEAD_POSTGRES = "postgres://postgres@127.0.0.1:1/none";
const PAGES = 30;
const pageId = (n: number) => `B${String(n).padStart(26, "0")}`;
const CUSTOM_ID = "sub_b.subscribe.r";
const webhook = (n: number) => ({ purpose: "token", id: pageId(n), transactionId: pageId(n), merchantId: "sandbox", success: true, token: `card-token-${n}`, paymentInfo: "4242", customId: CUSTOM_ID });
const delivery = (n: number): TokenWebhookDelivery => ({ kind: "token", checkoutId: pageId(n), merchantId: "sandbox", customId: CUSTOM_ID, success: true, last4: "4242", message: null, sealedToken: null, receivedAt: new Date().toISOString() });

/** A client of the database that records the first word of every statement it sends. */
function counting(url: string): { db: Db; statements: string[] } {
  const statements: string[] = [];
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }), log: (event) => void statements.push(event.query.sql.trim().split(/\s/)[0]!.toLowerCase()) });
  return { db, statements };
}

describe("the ingress' batched reads and writes", () => {
  let database: TestDatabase;
  const closers: Array<() => Promise<unknown>> = [];

  function queuesOn(url: string): { redis: Redis; queues: Queues; prefix: string } {
    const redis = createRedis(url, "producer");
    redis.on("error", () => {});
    const prefix = testQueuePrefix();
    const queues = createQueues(redis, prefix);
    closers.push(() => deleteQueueKeys(prefix), () => queues.close(), async () => redis.disconnect());
    return { redis, queues, prefix };
  }

  async function ingress(redisUrl: string, db: Db): Promise<{ app: FastifyInstance; queues: Queues; redis: Redis; prefix: string }> {
    const { redis, queues, prefix } = queuesOn(redisUrl);
    const config = loadConfig({ TOKEN_ENCRYPTION_KEYS: TEST_KEYS, LOG_LEVEL: "silent", QUEUE_PREFIX: prefix });
    const deps: Deps = { config, db, queues, oen: createOenClient({ apiUrl: "http://127.0.0.1:1", apiToken: "x", merchantId: "sandbox" }), clock: systemClock, logger: silentLogger, dunning: defaultDunningPolicy };
    const app = await buildApp(deps, { redis, testClock: null });
    closers.push(() => app.close());
    if (redisUrl !== DEAD_REDIS) await queues.webhooks.waitUntilReady();
    return { app, queues, redis, prefix };
  }

  function deadPostgres(): Db {
    const db = createDb(DEAD_POSTGRES);
    closers.push(() => db.destroy());
    return db;
  }

  const postAll = (app: FastifyInstance, pages: number[]) => Promise.all(pages.map((n) => app.inject({ method: "POST", url: "/webhooks/oen", payload: webhook(n) }).then((answer) => answer.statusCode)));
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  const inboxRows = async (pages: number[]) => (await database.db.selectFrom("webhook_inbox").select("job_id").execute()).filter((row) => pages.some((n) => row.job_id.startsWith(`oen-token-${pageId(n)}-`)));

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.db.insertInto("plans").values({ id: "plan_b", name: "Plan", amount: 100, interval: "month", interval_count: 1, product_code: "P", description: "d", unit: "month" }).execute();
    await database.db.insertInto("customers").values({ id: "cus_b", name: "Ming", email: "ming@example.com" }).execute();
    await database.db.insertInto("subscriptions").values({ id: "sub_b", customer_id: "cus_b", plan_id: "plan_b", status: "incomplete", success_url: "https://a.example/ok", failure_url: "https://a.example/no", billing_anchor: null, current_period_start: null, current_period_end: null, canceled_at: null, ended_at: null, next_renewal_at: null }).execute();
    await database.db
      .insertInto("checkout_sessions")
      .values(range(0, PAGES).map((n) => ({ id: pageId(n), subscription_id: "sub_b", purpose: "subscribe", custom_id: CUSTOM_ID, status: "open", failure_message: null, expires_at: new Date(Date.now() + 600_000), completed_at: null })))
      .execute();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await database?.drop();
  });

  it("looks up the pages of concurrent webhooks in one statement, each answered its own page", async () => {
    const { redis, queues, prefix } = queuesOn(testRedisUrl());
    const { db, statements } = counting(database.url);
    closers.push(() => db.destroy());
    const batches = createIngressBatches({ db, queues, redis, queuePrefix: prefix, queueConnected: () => true });
    const pages = await Promise.all([0, 1, 2, 1, 99].map((n) => batches.findPage(pageId(n))));
    expect(pages.map((page) => page?.custom_id)).toEqual([CUSTOM_ID, CUSTOM_ID, CUSTOM_ID, CUSTOM_ID, undefined]);
    expect(pages[0]).toEqual({ status: "open", custom_id: CUSTOM_ID, expires_at: expect.any(Date) });
    expect(statements).toEqual(["select"]);
  });

  it("keeps concurrent deliveries, a repeat among them, each once: one INSERT, one job and one Redis copy each", async () => {
    const { redis, queues, prefix } = queuesOn(testRedisUrl());
    await queues.webhooks.waitUntilReady();
    const { db, statements } = counting(database.url);
    closers.push(() => db.destroy());
    const batches = createIngressBatches({ db, queues, redis, queuePrefix: prefix, queueConnected: () => redis.status === "ready" });
    const kept = [...range(0, 10), 3].map((n) => ({ jobId: `oen-token-${pageId(n)}-batch`, delivery: delivery(n) }));
    await Promise.all(kept.flatMap((entry) => [batches.keepInPostgres(entry), batches.queueInRedis(entry)]));
    expect(statements).toEqual(["insert"]);
    expect(await inboxRows(range(0, 10))).toHaveLength(10);
    const jobs = await queues.webhooks.getJobs(["waiting"]);
    expect(jobs.map((job) => job.id).sort()).toEqual(range(0, 10).map((n) => `oen-token-${pageId(n)}-batch`));
    for (const n of range(0, 10)) expect(await redis.exists(webhookDeliveryKey(prefix, `oen-token-${pageId(n)}-batch`))).toBe(1);
    await database.db.deleteFrom("webhook_inbox").execute();
  });

  it("answers 200 to every webhook of a batch when Postgres refuses the inbox and Redis takes them", async () => {
    await sql`create function refuse_inbox() returns trigger language plpgsql as $$ begin raise exception 'the inbox refuses rows (test)'; end $$`.execute(database.db);
    await sql`create trigger refuse_inbox before insert on webhook_inbox for each row execute function refuse_inbox()`.execute(database.db);
    try {
      const { db, statements } = counting(database.url);
      closers.push(() => db.destroy());
      const { app, queues, redis, prefix } = await ingress(testRedisUrl(), db);
      const pages = range(0, 20);
      expect(await postAll(app, pages)).toEqual(pages.map(() => 200));
      // One lookup and one INSERT for all twenty: the refused INSERT failed the whole batch in Postgres, and Redis kept each.
      // The answers go once Redis kept them, so the INSERT may still be on its way.
      await eventually(async () => statements.length >= 2, 5_000, "the inbox INSERT");
      expect(statements).toEqual(["select", "insert"]);
      expect(await inboxRows(pages)).toEqual([]);
      const jobs = await queues.webhooks.getJobs(["waiting"]);
      expect(jobs).toHaveLength(pages.length);
      for (const job of jobs) expect(await redis.exists(webhookDeliveryKey(prefix, job.id!))).toBe(1);
    } finally {
      await sql`drop trigger refuse_inbox on webhook_inbox`.execute(database.db);
      await sql`drop function refuse_inbox()`.execute(database.db);
    }
  });

  it("answers once the first store kept a webhook: a slow Postgres does not hold back what Redis took, and keeps it too", async () => {
    await sql`create function slow_inbox() returns trigger language plpgsql as $$ begin perform pg_sleep(2); return new; end $$`.execute(database.db);
    await sql`create trigger slow_inbox before insert on webhook_inbox for each row execute function slow_inbox()`.execute(database.db);
    try {
      const { app, queues } = await ingress(testRedisUrl(), database.db);
      const started = Date.now();
      expect(await postAll(app, [20, 21])).toEqual([200, 200]);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(await queues.webhooks.getJobs(["waiting"])).toHaveLength(2);
      await eventually(async () => (await inboxRows([20, 21])).length === 2, 10_000, "the Postgres copies");
    } finally {
      await sql`drop trigger slow_inbox on webhook_inbox`.execute(database.db);
      await sql`drop function slow_inbox()`.execute(database.db);
    }
  });

  it("answers 200 to every webhook of a batch when Postgres is unreachable and Redis takes them", async () => {
    const { app, queues } = await ingress(testRedisUrl(), deadPostgres());
    const pages = range(0, 20);
    expect(await postAll(app, pages)).toEqual(pages.map(() => 200));
    expect(await queues.webhooks.getJobs(["waiting"])).toHaveLength(pages.length);
  });

  it("answers 200 to every webhook of a batch when Redis is unreachable and Postgres takes them", async () => {
    await database.db.deleteFrom("webhook_inbox").execute();
    const { app } = await ingress(DEAD_REDIS, database.db);
    const pages = range(0, 20);
    expect(await postAll(app, pages)).toEqual(pages.map(() => 200));
    expect(await inboxRows(pages)).toHaveLength(pages.length);
  });

  it("answers 503 to every webhook of a batch when neither store takes them", async () => {
    const { app } = await ingress(DEAD_REDIS, deadPostgres());
    const pages = range(0, 20);
    expect(await postAll(app, pages)).toEqual(pages.map(() => 503));
  });
});
