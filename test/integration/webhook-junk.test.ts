import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";
import { startPrivateRedis, type PrivateRedis } from "../support/private-redis.ts";
import { scrapeMetrics } from "../support/scrape-metrics.ts";
import { checkoutIdOf } from "../support/webhook-capture.ts";

// Anyone can POST to /webhooks/oen (Oen signs nothing). Junk must not fill Redis or
// Postgres, nor slow down or stop the real card bindings that arrive meanwhile.
const JUNK = Number(process.env.JUNK_WEBHOOKS ?? 20_000);
const BINDINGS = 20;
const CONCURRENCY = 32;
const MiB = 1024 * 1024;
// What the test allows the stores to grow by, whatever the junk: the real bindings' own jobs and rows.
const REDIS_GROWTH_LIMIT = 4 * MiB;
const ROWS_PER_BINDING = 3; // Oen's 3 tries at most

const PURPOSES = ["token", "token", "token", "charge", "refund", "schedule_subscription", "x".repeat(64), "subscription_retry"];
const pad = (bytes: number) => randomBytes(Math.ceil(bytes / 2)).toString("hex").slice(0, bytes);
const randomId = () => randomBytes(20).toString("base64url").replace(/[-_]/g, "z").slice(0, 27);

/** One junk body: a random id and purpose, sometimes a forged token and customId, sometimes large or over the limit. */
function junkBody(i: number): string {
  const size = i % 100 === 0 ? 70_000 : i % 20 === 0 ? 60_000 : i % 4 === 0 ? 8_000 : 200;
  const purpose = PURPOSES[i % PURPOSES.length]!;
  return JSON.stringify({ purpose, id: randomId(), merchantId: "testshop", success: true, token: randomId(), customId: `sub_${randomId()}.subscribe.${randomId()}`, paymentInfo: "4242", filler: pad(size) });
}

async function redisMemory(url: string): Promise<number> {
  const probe = new Redis(url);
  try {
    return Number(/used_memory:(\d+)/.exec(await probe.info("memory"))![1]);
  } finally {
    probe.disconnect();
  }
}

describe("a stream of junk webhooks interleaved with real card bindings", () => {
  let redis: PrivateRedis;
  let h: Harness;
  beforeAll(async () => {
    // Small and refusing writes when full, as the issue found it.
    redis = await startPrivateRedis({ maxmemory: "48mb" });
    h = await startHarness({ env: { REDIS_URL: redis.url, RENEWAL_SWEEP_INTERVAL: "1s" } });
    await h.api("PUT", "/v1/plans/junk", { ...samplePlan, amount: 300 });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.close();
  });

  const count = async (table: "webhook_inbox" | "oen_webhook_events") => Number((await h.database.db.selectFrom(table).select(sql<string>`count(*)`.as("n")).executeTakeFirstOrThrow()).n);

  it(`activates every real binding within 10 s while ${JUNK.toLocaleString()} junk webhooks arrive, and the stores grow by a bounded amount`, { timeout: 120_000 }, async () => {
    const before = { redis: await redisMemory(redis.url), inbox: await count("webhook_inbox"), events: await count("oen_webhook_events") };
    const statuses = new Map<number, number>();
    const activations: Array<Promise<number>> = [];

    const bind = async (n: number) => {
      const created = (await h.api("POST", "/v1/subscriptions", sampleSubscription("junk", `cus_real_${n}`))).json();
      const boundAt = Date.now();
      const result = h.simulator.bindCard(checkoutIdOf(created.checkoutUrl), { cardNumber: TEST_CARDS.success, expiry: "12/39", cvc: "123", email: `real${n}@example.com` });
      expect(result.kind).toBe("bound");
      activations.push(
        eventually(async () => (await h.api("GET", `/v1/subscriptions/${created.id}`)).json().status === "active" && Date.now() - boundAt, 15_000, `binding ${n} active`),
      );
    };

    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < JUNK) {
          const i = next++;
          if (i % Math.floor(JUNK / BINDINGS) === 0 && activations.length < BINDINGS) await bind(activations.length);
          // Most junk from many addresses (a botnet), some from one noisy address.
          const remoteAddress = i % 10 === 0 ? "10.255.255.1" : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
          const answer = await h.service.app!.inject({ method: "POST", url: "/webhooks/oen", remoteAddress, headers: { "content-type": "application/json" }, payload: junkBody(i) });
          statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
        }
      }),
    );
    while (activations.length < BINDINGS) await bind(activations.length);
    const floodSeconds = (Date.now() - started) / 1000;

    const waits = await Promise.all(activations);
    const after = { redis: await redisMemory(redis.url), inbox: await count("webhook_inbox"), events: await count("oen_webhook_events") };
    console.log(`${JUNK} junk webhooks in ${floodSeconds.toFixed(1)} s; answers ${JSON.stringify(Object.fromEntries(statuses))}; slowest activation ${Math.max(...waits)} ms; Redis +${((after.redis - before.redis) / MiB).toFixed(2)} MiB, inbox +${after.inbox - before.inbox}, events +${after.events - before.events}`);
    expect(after.redis - before.redis).toBeLessThan(REDIS_GROWTH_LIMIT);
    expect(after.inbox - before.inbox).toBeLessThanOrEqual(BINDINGS * ROWS_PER_BINDING);
    expect(after.events - before.events).toBeLessThanOrEqual(BINDINGS * ROWS_PER_BINDING);
    expect(Math.max(...waits)).toBeLessThan(10_000);
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(JUNK / 2);
    expect(statuses.get(429) ?? 0).toBeGreaterThan(0); // the noisy address was limited
    expect(statuses.get(413) ?? 0).toBeGreaterThan(0); // bodies over 64 KB
    // What ops can see of the junk: counts, and a bounded sample.
    const samples = Number((await h.database.db.selectFrom("oen_webhook_samples").select(sql<string>`count(*)`.as("n")).executeTakeFirstOrThrow()).n);
    expect(samples).toBeGreaterThan(0);
    expect(samples).toBeLessThanOrEqual(500);
    const counted = await eventually(async () => {
      const rows = await h.database.db.selectFrom("oen_webhook_tallies").select(["outcome", "reason", "count"]).execute();
      const total = rows.reduce((sum, row) => sum + Number(row.count), 0);
      return total >= (statuses.get(200) ?? 0) - BINDINGS * ROWS_PER_BINDING && rows;
    }, 15_000, "the junk counted");
    expect(counted).toEqual(expect.arrayContaining([expect.objectContaining({ outcome: "rejected", reason: "unknown_checkout" }), expect.objectContaining({ outcome: "ignored" })]));
    // And at once in /metrics, every junk answer and every refusal counted.
    const scrape = await scrapeMetrics(h.service.app!);
    const unstored = (labels: Record<string, string>) => scrape.value("billing_webhooks_unstored_total", labels) ?? 0;
    expect(unstored({ purpose: "unknown", outcome: "refused", reason: "rate_limited" })).toBe(statuses.get(429));
    expect(unstored({ purpose: "token", outcome: "rejected", reason: "unknown_checkout" })).toBeGreaterThan(JUNK / 4);
    expect(unstored({ purpose: "other", outcome: "ignored", reason: "purpose_not_acted_on" })).toBeGreaterThan(0);
    expect(unstored({ purpose: "token", outcome: "rejected", reason: "merchant_mismatch" })).toBe(0);
  });
});

describe("readiness when Redis refuses writes", () => {
  let redis: PrivateRedis;
  let h: Harness;
  beforeAll(async () => {
    redis = await startPrivateRedis({ maxmemory: "4mb" });
    h = await startHarness({ env: { REDIS_URL: redis.url, RENEWAL_SWEEP_INTERVAL: "1s" } });
    await h.api("PUT", "/v1/plans/full", { ...samplePlan, amount: 300 });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.close();
  });

  it("says degraded while Redis is full, keeps the binding in Postgres, and applies it once Redis has room", async () => {
    expect((await h.service.app!.inject("/readyz")).json().status).toBe("ready");
    const filler = new Redis(redis.url);
    let fillers = 0;
    try {
      // Fill the Redis up (noeviction), big values then small ones: every write is refused from then on, a PING still answers.
      for (const size of [256 * 1024, 4 * 1024, 64]) {
        for (; ; fillers++) {
          try {
            await filler.set(`filler:${fillers}`, pad(size));
          } catch {
            break;
          }
        }
      }
      const readiness = await h.service.app!.inject("/readyz");
      expect(readiness.statusCode).toBe(200);
      expect(readiness.json()).toMatchObject({ status: "degraded", postgres: "ok", redis: expect.stringMatching(/^unavailable/) });

      const created = (await h.api("POST", "/v1/subscriptions", sampleSubscription("full", "cus_full"))).json();
      h.simulator.bindCard(checkoutIdOf(created.checkoutUrl), { cardNumber: TEST_CARDS.success, expiry: "12/39", cvc: "123", email: "full@example.com" });
      await eventually(async () => h.simulator.webhookDeliveries.some((d) => d.ok && d.body.id === checkoutIdOf(created.checkoutUrl)), 10_000, "Oen's 2xx");
      expect((await h.api("GET", `/v1/subscriptions/${created.id}`)).json().status).toBe("incomplete");
    } finally {
      // Ops frees the memory.
      if (fillers > 0) await filler.del(...Array.from({ length: fillers }, (_, i) => `filler:${i}`));
      filler.disconnect();
    }
    const active = await eventually(async () => {
      const view = (await h.api("GET", `/v1/subscriptions/${(await h.database.db.selectFrom("subscriptions").select("id").where("customer_id", "=", "cus_full").executeTakeFirstOrThrow()).id}`)).json();
      return view.status === "active" && view;
    }, 20_000, "the binding applied once Redis had room");
    expect(active.card).toEqual({ last4: "4242" });
    await eventually(async () => (await h.service.app!.inject("/readyz")).json().status === "ready", 10_000, "ready again");
  });
});
