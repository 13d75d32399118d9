import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { startPrivateRedis, type PrivateRedis } from "../support/private-redis.ts";
import { startServiceProcess, type ServiceProcess } from "../support/service-process.ts";

// Invariant 3: Postgres is the truth; Redis losing everything mid-run loses nothing.
describe("Redis flushed in the middle of a renewal run", () => {
  let redis: PrivateRedis;
  let h: Harness;
  const SUBSCRIPTIONS = 30;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    // Two charges at a time, each answered in 300 ms: the 30 renewals take long enough to flush Redis amid them.
    h = await startHarness({ env: { REDIS_URL: redis.url, BILLING_TEST_CLOCK: "1", RENEWAL_SWEEP_INTERVAL: "1s", CHARGE_CONCURRENCY: "2" } });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.close();
  });

  const paidCount = async (cycle: number) =>
    (await h.database.db.selectFrom("invoices").select("id").where("cycle", "=", cycle).where("status", "=", "paid").execute()).length;

  it("pays every due period exactly once", async () => {
    await h.api("PUT", "/v1/plans/flush", samplePlan);
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      await subscribeWithCard(h, "flush", `cus_${i}`, { email: `c${i}@example.com` });
    }
    await eventually(async () => (await paidCount(1)) === SUBSCRIPTIONS, 60_000, "first periods paid");

    // Slow answers keep the renewal run going long enough to flush Redis in its middle.
    h.simulator.faults.set([{ on: "charge", kind: "latency", latencyMs: 300 }]);
    expect((await h.api("POST", "/v1/test-clock/advance", { by: "32d" })).json().sweep.renewed).toBe(SUBSCRIPTIONS);
    await eventually(async () => (await paidCount(2)) >= 3, 30_000, "the renewal run to be under way");
    const probe = new Redis(redis.url);
    const keysBeforeFlush = await probe.dbsize();
    await redis.flush();
    const keysAfterFlush = await probe.dbsize();
    probe.disconnect();
    // Only what the live workers wrote back since: the charge jobs running (a few jobs for each of CHARGE_CONCURRENCY places) and a few queue keys.
    expect(keysAfterFlush).toBeLessThan(20);
    expect(keysAfterFlush).toBeLessThan(keysBeforeFlush / 2);
    expect(await paidCount(2)).toBeLessThan(SUBSCRIPTIONS);

    await eventually(async () => (await paidCount(2)) === SUBSCRIPTIONS, 90_000, "every second period paid after the flush");
    h.simulator.faults.clear();
    const invoices = await h.database.db.selectFrom("invoices").select("id").execute();
    expect(invoices).toHaveLength(SUBSCRIPTIONS * 2);
    for (const invoice of invoices) expect(h.simulator.ledger.successfulCharges(`${invoice.id}-`)).toHaveLength(1);
    expect(h.simulator.ledger.successfulCharges()).toHaveLength(SUBSCRIPTIONS * 2);
  });
});

// Invariant 2 under a flush: Oen got its 2xx, so it will never send the card token again.
describe("Redis flushed after a token webhook was accepted, before any worker applied it", () => {
  let redis: PrivateRedis;
  let h: Harness;
  let worker: ServiceProcess | undefined;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    h = await startHarness({ env: { REDIS_URL: redis.url, ROLES: "ingress,scheduler", RENEWAL_SWEEP_INTERVAL: "1s" } });
  });
  afterAll(async () => {
    await worker?.kill("SIGKILL");
    await h?.close();
    await redis?.close();
  });

  it("the Postgres copy brings the webhook back: the card is stored and charged", async () => {
    await h.api("PUT", "/v1/plans/kept", samplePlan);
    const subscription = await subscribeWithCard(h, "kept", "cus_kept");
    await eventually(async () => h.simulator.webhookDeliveries.some((d) => d.ok), 10_000, "Oen's 2xx");
    expect(await h.service.deps.queues.webhooks.getWaitingCount()).toBe(1); // no worker runs yet
    await redis.flush();
    worker = await startServiceProcess({ ...h.env, ROLES: "workers" });
    const view = await eventually(async () => {
      const current = (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json();
      return current.latestInvoice?.status === "paid" && current;
    }, 30_000, "the webhook applied after the flush");
    expect(view).toMatchObject({ status: "active", card: { last4: "4242" } });
    expect(h.simulator.ledger.successfulCharges()).toHaveLength(1);
    expect(h.simulator.webhookDeliveries.filter((d) => d.ok)).toHaveLength(1); // Oen did not send it again
  });
});
