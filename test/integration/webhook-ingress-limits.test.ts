import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { pruneWebhookRecords } from "../../src/webhooks/prune-webhook-records.ts";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";
import { checkoutIdOf } from "../support/webhook-capture.ts";

const junk = { purpose: "token", id: "Z".repeat(27), merchantId: "testshop", success: true, token: "junk" };
const post = (h: Harness, remoteAddress: string) => h.service.app!.inject({ method: "POST", url: "/webhooks/oen", remoteAddress, payload: junk });

describe("who may deliver Oen webhooks, and how often", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { OEN_WEBHOOK_RATE_LIMIT: "5", OEN_WEBHOOK_ALLOWED_IPS: "127.0.0.1, 10.1.0.0/16" } });
    await h.api("PUT", "/v1/plans/limits", { ...samplePlan, amount: 300 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers 403 to a source outside OEN_WEBHOOK_ALLOWED_IPS, before reading the body", async () => {
    const answer = await post(h, "203.0.113.9");
    expect(answer.statusCode).toBe(403);
    expect(answer.json().message).toMatch(/OEN_WEBHOOK_ALLOWED_IPS/);
  });

  it("never limits an allowed source, and Oen's bindings go through", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(h, "10.1.2.3")));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    const created = (await h.api("POST", "/v1/subscriptions", sampleSubscription("limits", "cus_allowed"))).json();
    h.simulator.bindCard(checkoutIdOf(created.checkoutUrl), { cardNumber: TEST_CARDS.success, expiry: "12/39", cvc: "123", email: "allowed@example.com" });
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${created.id}`)).json().status === "active", 15_000, "the binding applied");
  });

  it("counts what it refused", async () => {
    await eventually(async () => {
      const rows = await h.database.db.selectFrom("oen_webhook_tallies").select(["reason", "count"]).where("outcome", "=", "refused").execute();
      return rows.some((r) => r.reason === "source_not_allowed" && Number(r.count) >= 1);
    }, 15_000, "the refusal counted");
  });
});

describe("the per-address rate limit without an allowlist", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { OEN_WEBHOOK_RATE_LIMIT: "5" } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers 429 past the limit to that address only, saying when to retry", async () => {
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await post(h, "10.9.9.9"));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(answers[5]!.json()).toMatchObject({ error: "rate_limited", message: expect.stringMatching(/too many webhooks from this address; retry in/) });
    expect(answers[5]!.headers["retry-after"]).toBeDefined();
    expect((await post(h, "10.9.9.10")).statusCode).toBe(200);
  });
});

describe("retention of applied webhooks", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { WEBHOOK_INBOX_RETENTION: "1h", WEBHOOK_EVENTS_RETENTION: "1d" } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("deletes applied inbox rows and webhook records past their retention, and keeps everything else", async () => {
    const { db } = h.database;
    const hoursAgo = (n: number) => sql<Date>`now() - make_interval(secs => ${n * 3600})`;
    const inbox = (jobId: string, processed: ReturnType<typeof hoursAgo> | null) =>
      db.insertInto("webhook_inbox").values({ job_id: jobId, payload: JSON.stringify({ kind: "token", checkoutId: jobId }), relayed_at: sql<Date>`now()`, processed_at: processed }).execute();
    await inbox("old-applied", hoursAgo(2));
    await inbox("recent-applied", hoursAgo(0.5));
    await sql`update webhook_inbox set received_at = now() - interval '3 days' where job_id = 'recent-applied'`.execute(db);
    await db.insertInto("oen_webhook_events").values({ purpose: "token", oen_id: "old-event", outcome: "rejected", reason: "unknown_checkout", body: "{}" }).execute();
    await db.insertInto("oen_webhook_events").values({ purpose: "token", oen_id: "new-event", outcome: "rejected", reason: "unknown_checkout", body: "{}" }).execute();
    await sql`update oen_webhook_events set received_at = now() - interval '2 days' where oen_id = 'old-event'`.execute(db);
    await db.insertInto("oen_webhook_tallies").values({ day: sql<string>`current_date - 3`, purpose: "token", outcome: "rejected", reason: "unknown_checkout", count: 7 }).execute();

    await pruneWebhookRecords(h.service.deps);
    expect((await db.selectFrom("webhook_inbox").select("job_id").where("job_id", "in", ["old-applied", "recent-applied"]).execute()).map((r) => r.job_id)).toEqual(["recent-applied"]);
    expect((await db.selectFrom("oen_webhook_events").select("oen_id").where("oen_id", "in", ["old-event", "new-event"]).execute()).map((r) => r.oen_id)).toEqual(["new-event"]);
    expect(await db.selectFrom("oen_webhook_tallies").select("day").where("day", "<", sql<string>`current_date - 1`).execute()).toEqual([]);
  });
});
