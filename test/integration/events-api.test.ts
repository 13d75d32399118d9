import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventSender } from "../../src/events/create-event-sender.ts";
import { deliverEvent } from "../../src/events/deliver-event.ts";
import { recordEvent } from "../../src/events/record-event.ts";
import { API_KEY, eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { startPlatformReceiver, type PlatformReceiver } from "../support/platform-receiver.ts";

const SECRET = `whsec_${Buffer.alloc(32, 21).toString("base64")}`;

// GET /v1/events and POST /v1/events/:id/redeliver, against a real receiver that verifies signatures.
describe("platform events through the API", () => {
  let h: Harness;
  let receiver: PlatformReceiver;
  beforeAll(async () => {
    receiver = await startPlatformReceiver(SECRET);
    h = await startHarness({ env: { PLATFORM_WEBHOOK_URL: receiver.url, PLATFORM_WEBHOOK_SECRET: SECRET } });
    await h.api("PUT", "/v1/plans/monthly", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  const get = async (query: string) => {
    const response = await h.api("GET", `/v1/events${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { data: Array<Record<string, any>>; nextCursor: string | null };
  };
  const redeliver = (id: string, key: string | null = randomUUID()) =>
    h.service.app!.inject({ method: "POST", url: `/v1/events/${id}/redeliver`, headers: { authorization: `Bearer ${API_KEY}`, ...(key === null ? {} : { "idempotency-key": key }) } });

  it("lists a subscription's events with each delivery attempt (time, status, latency), filtered and paged", async () => {
    const { id: subscriptionId } = await subscribeWithCard(h, "monthly", "cus_list");
    const delivered = await eventually(async () => {
      const page = await get(`?subscriptionId=${subscriptionId}&status=delivered`);
      return page.data.length >= 2 && page;
    }, 20_000, "activated and paid, delivered");
    expect(delivered.data.map((e) => e.type)).toEqual(expect.arrayContaining(["subscription.activated", "invoice.paid"]));
    for (const event of delivered.data) {
      expect(event).toMatchObject({ status: "delivered", subscriptionId, attemptCount: 1, attempts: [{ statusCode: 200, error: null, latencyMs: expect.any(Number) }] });
      expect(Date.parse(event.attempts[0].at)).not.toBeNaN();
    }
    const paid = await get(`?subscriptionId=${subscriptionId}&type=invoice.paid`);
    expect(paid.data).toHaveLength(1);
    expect(paid.data[0]).toMatchObject({ type: "invoice.paid", invoiceId: expect.stringMatching(/^in/) });

    // One at a time, newest first, each exactly once.
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page = await get(`?subscriptionId=${subscriptionId}&limit=1${cursor === "" ? "" : `&cursor=${cursor}`}`);
      seen.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor;
    }
    const all = await get(`?subscriptionId=${subscriptionId}`);
    expect(seen).toEqual(all.data.map((e) => e.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("names the field of a bad filter", async () => {
    for (const [query, field] of [["?status=lost", "status"], ["?type=invoice.lost", "type"], ["?limit=0", "limit"], ["?cursor=nope", "cursor"]] as const) {
      const response = await h.api("GET", `/v1/events${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain(field);
    }
  });

  it("redelivers a failed event to the receiver, signed, with the same webhook-id and body", async () => {
    const id = (await recordEvent(h.service.deps.db, { type: "customer.updated", dedupeKey: `customer.updated:${randomUUID()}`, data: { customerId: "cus_x" }, occurredAt: new Date() }))!;
    // Given up at its one and only attempt (the real schedule gives up after 30 days).
    receiver.respondWith(500);
    const sender = createEventSender(h.config.platformWebhook!);
    expect(await deliverEvent(h.service.deps, sender, id, { firstDelayMs: 1, maxDelayMs: 1, attempts: 1 })).toMatchObject({ kind: "failed" });
    const failed = (await get(`?status=failed&type=customer.updated`)).data.find((e) => e.id === id)!;
    expect(failed).toMatchObject({ status: "failed", attempts: [{ statusCode: 500, error: "HTTP 500: not now" }] });

    receiver.respondWith(200);
    expect((await redeliver(id, null)).statusCode).toBe(400);
    const key = randomUUID();
    const answer = await redeliver(id, key);
    expect(answer.statusCode, answer.body).toBe(202);
    expect(answer.json()).toMatchObject({ previousStatus: "failed", event: { id, status: "pending" } });
    const replay = await redeliver(id, key);
    expect(replay.headers["idempotent-replayed"]).toBe("true");

    const arrived = await eventually(async () => receiver.events.find((e) => e.webhookId === id), 20_000, "the redelivery");
    expect(arrived.body).toMatchObject({ id, type: "customer.updated", data: { customerId: "cus_x" } });
    const requests = receiver.requests.filter((r) => r.webhookId === id);
    expect(requests.map((r) => [r.verified, r.status])).toEqual([
      [true, 500],
      [true, 200],
    ]);
    expect(new Set(requests.map((r) => r.raw)).size).toBe(1);
    const event = await eventually(async () => {
      const view = (await h.api("GET", `/v1/events/${id}`)).json();
      return view.status === "delivered" && view;
    });
    expect(event.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 200]);
  });

  it("404 for an event that does not exist", async () => {
    expect((await redeliver("evt_doesnotexist")).statusCode).toBe(404);
    expect((await h.api("GET", "/v1/events/evt_doesnotexist")).statusCode).toBe(404);
  });
});
