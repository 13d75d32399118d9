import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueEvent, enqueuePendingEvents } from "../../src/events/enqueue-event.ts";
import { recordEvent, type RecordEventInput } from "../../src/events/record-event.ts";
import { redeliverEvent } from "../../src/events/redeliver-event.ts";
import { invoiceSummary, loadSubscriptionView } from "../../src/subscriptions/subscription-view.ts";
import { jobIds } from "../../src/queues/jobs.ts";
import { eventually } from "../support/harness.ts";
import { seedSubscription, startNotificationRig, type NotificationRig } from "../support/notification-rig.ts";
import { startPlatformReceiver, type PlatformReceiver } from "../support/platform-receiver.ts";

const SECRET = `whsec_${Buffer.alloc(32, 11).toString("base64")}`;
const FAST_RETRY = { firstDelayMs: 200, maxDelayMs: 400, attempts: 4 };
const OCCURRED = new Date("2026-11-26T04:00:00.000Z");

let serial = 0;
const paid = (): RecordEventInput => {
  const invoiceId = `inv_${++serial}`;
  return { type: "invoice.paid", dedupeKey: `invoice.paid:${invoiceId}`, data: { invoiceId, subscriptionId: "sub_1", amount: 899 }, occurredAt: OCCURRED };
};

const eventRow = (rig: NotificationRig, id: string) => rig.deps.db.selectFrom("platform_events").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const settled = (rig: NotificationRig, id: string, status: "delivered" | "failed") =>
  eventually(async () => {
    const row = await eventRow(rig, id);
    return row.status === status && row;
  });

describe("platform events, signed per Standard Webhooks", () => {
  let receiver: PlatformReceiver;
  let rig: NotificationRig;
  beforeAll(async () => {
    receiver = await startPlatformReceiver(SECRET);
    rig = await startNotificationRig({ env: { PLATFORM_WEBHOOK_URL: receiver.url, PLATFORM_WEBHOOK_SECRET: SECRET }, worker: { eventRetry: FAST_RETRY } });
  });
  afterAll(async () => {
    await rig?.close();
    await receiver?.close();
  });

  const received = (id: string) => receiver.events.filter((e) => e.webhookId === id);
  const requests = (id: string) => receiver.requests.filter((r) => r.webhookId === id);

  it("delivers a recorded event that the platform verifies with the reference library", async () => {
    const input = paid();
    const id = (await recordEvent(rig.deps.db, input))!;
    expect(id).toMatch(/^evt_[a-z0-9]{20}$/);
    // Recorded as the fact only; the payload is built by the worker.
    expect(await eventRow(rig, id)).toMatchObject({ data: input.data, payload: null });
    await enqueueEvent(rig.deps, id);
    const row = await settled(rig, id, "delivered");
    expect(row).toMatchObject({ type: "invoice.paid", attempts: 1, last_status: 200, last_error: null, next_attempt_at: null });
    expect(row.delivered_at).toBeInstanceOf(Date);
    expect(received(id)).toEqual([{ webhookId: id, body: { id, type: "invoice.paid", timestamp: "2026-11-26T04:00:00.000Z", data: input.data } }]);
    expect(row.payload).toEqual(received(id)[0]!.body);
  });

  it("carries the subscription and the invoice as the API shows them, beside the event's own fields", async () => {
    const subscriptionId = await seedSubscription(rig.deps.db, { invoiceAmount: 899 });
    const invoice = await rig.deps.db.selectFrom("invoices").selectAll().where("subscription_id", "=", subscriptionId).executeTakeFirstOrThrow();
    const data = { invoiceId: invoice.id, subscriptionId, amount: 899 };
    const id = (await recordEvent(rig.deps.db, { type: "invoice.paid", dedupeKey: `invoice.paid:${invoice.id}`, data, occurredAt: OCCURRED }))!;
    await enqueueEvent(rig.deps, id);
    await settled(rig, id, "delivered");
    const view = JSON.parse(JSON.stringify(await loadSubscriptionView(rig.deps.db, subscriptionId)));
    expect(received(id)[0]!.body.data).toEqual({ ...data, subscription: view, invoice: invoiceSummary(invoice) });
    expect(view).toMatchObject({ id: subscriptionId, status: "active", latestInvoice: { id: invoice.id } });
  });

  it("builds the payload at the first attempt and sends the same bytes on every retry", async () => {
    const subscriptionId = await seedSubscription(rig.deps.db);
    receiver.respondWith(500);
    const id = (await recordEvent(rig.deps.db, { type: "subscription.activated", dedupeKey: `subscription.activated:${subscriptionId}`, data: { subscriptionId }, occurredAt: OCCURRED }))!;
    await enqueueEvent(rig.deps, id);
    await eventually(async () => requests(id).length >= 1);
    // The subscription moves on between the attempts; the event still tells what it was.
    await rig.deps.db.updateTable("subscriptions").set({ status: "past_due" }).where("id", "=", subscriptionId).execute();
    receiver.respondWith(200);
    await settled(rig, id, "delivered");
    const bodies = requests(id).map((r) => r.raw);
    expect(bodies.length).toBeGreaterThanOrEqual(2);
    expect(new Set(bodies).size).toBe(1);
    expect(received(id)[0]!.body.data).toMatchObject({ subscriptionId, subscription: { id: subscriptionId, status: "active" } });
  });

  it("records the same fact once, even from 5 concurrent transactions", async () => {
    const input = paid();
    const ids = await Promise.all(
      Array.from({ length: 5 }, () =>
        rig.deps.db.transaction().execute(async (tx) => {
          const id = await recordEvent(tx, input);
          await new Promise((resolve) => setTimeout(resolve, 100));
          return id;
        }),
      ),
    );
    const recorded = ids.filter((id) => id !== undefined);
    expect(recorded).toHaveLength(1);
    expect(await recordEvent(rig.deps.db, { ...input, data: { other: true } })).toBeUndefined();
    const rows = await rig.deps.db.selectFrom("platform_events").select("id").where("dedupe_key", "=", input.dedupeKey).execute();
    expect(rows.map((r) => r.id)).toEqual(recorded);
    // Enqueued twice, delivered once.
    await enqueueEvent(rig.deps, recorded[0]!);
    await enqueueEvent(rig.deps, recorded[0]!);
    await settled(rig, recorded[0]!, "delivered");
    expect(received(recorded[0]!)).toHaveLength(1);
  });

  it("holds no database transaction open while the platform takes its time to answer", async () => {
    receiver.stallNext(1_500);
    const id = (await recordEvent(rig.deps.db, paid()))!;
    await enqueueEvent(rig.deps, id);
    await eventually(async () => receiver.stalled > 0, 10_000, "the request at the platform");
    const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state like 'idle in transaction%'`.execute(rig.deps.db);
    expect(Number(rows[0]!.n)).toBe(0);
    await settled(rig, id, "delivered");
    expect(received(id)).toHaveLength(1);
  });

  it("retries after a 500 with the same webhook-id until the platform answers 2xx", async () => {
    receiver.respondWith(500);
    const id = (await recordEvent(rig.deps.db, paid()))!;
    await enqueueEvent(rig.deps, id);
    const failing = await eventually(async () => {
      const row = await eventRow(rig, id);
      return row.attempts >= 2 && row;
    });
    expect(failing).toMatchObject({ status: "pending", last_status: 500, last_error: "HTTP 500: not now" });
    expect(failing.next_attempt_at).toBeInstanceOf(Date);
    receiver.respondWith(200);
    const row = await settled(rig, id, "delivered");
    expect(row.last_status).toBe(200);
    const answered = requests(id).map((r) => r.status);
    expect(answered.slice(0, -1).every((status) => status === 500)).toBe(true);
    expect(answered.at(-1)).toBe(200);
    expect(requests(id).every((r) => r.verified)).toBe(true);
    expect(received(id)).toHaveLength(1);
  });

  it("gives an event up after its last attempt, keeps it as failed and fails the job", async () => {
    receiver.respondWith(503);
    try {
      const id = (await recordEvent(rig.deps.db, paid()))!;
      await enqueueEvent(rig.deps, id);
      const row = await settled(rig, id, "failed");
      expect(row).toMatchObject({ attempts: FAST_RETRY.attempts, last_status: 503, next_attempt_at: null, delivered_at: null });
      // Its retention counts from here: given up, it stays redeliverable that long.
      expect(row.failed_at).toBeInstanceOf(Date);
      expect(requests(id)).toHaveLength(FAST_RETRY.attempts);
      expect(await eventually(async () => (await rig.deps.queues.notifications.getJobState(jobIds.event(id))) === "failed")).toBe(true);
      expect(await enqueuePendingEvents(rig.deps)).toBe(0);
    } finally {
      receiver.respondWith(200);
    }
  });

  it("redelivers an event given up, with a fresh schedule, and one already delivered, with the same id and bytes", async () => {
    receiver.respondWith(503);
    const id = (await recordEvent(rig.deps.db, paid()))!;
    await enqueueEvent(rig.deps, id);
    await settled(rig, id, "failed");
    receiver.respondWith(200);
    expect(await redeliverEvent(rig.deps, id)).toEqual({ kind: "redelivered", previousStatus: "failed" });
    const delivered = await settled(rig, id, "delivered");
    expect(delivered.attempts).toBe(FAST_RETRY.attempts + 1);
    expect(delivered.failed_at).toBeNull();
    expect(await redeliverEvent(rig.deps, id)).toEqual({ kind: "redelivered", previousStatus: "delivered" });
    await eventually(async () => received(id).length === 2);
    expect(new Set(requests(id).map((r) => r.raw)).size).toBe(1);
    expect((await settled(rig, id, "delivered")).attempts).toBe(FAST_RETRY.attempts + 2);
    expect(await redeliverEvent(rig.deps, "evt_missing")).toEqual({ kind: "not_found" });
  });

  it("re-enqueues pending events from the sweep (a crash before enqueueing, a Redis flush)", async () => {
    const id = (await recordEvent(rig.deps.db, paid()))!;
    expect(await enqueuePendingEvents(rig.deps)).toBe(1);
    await settled(rig, id, "delivered");
    expect(received(id)).toHaveLength(1);
  });
});

describe("platform events without PLATFORM_WEBHOOK_URL", () => {
  let rig: NotificationRig;
  beforeAll(async () => {
    rig = await startNotificationRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("are recorded and wait, pending, with no job", async () => {
    const id = (await recordEvent(rig.deps.db, paid()))!;
    await enqueueEvent(rig.deps, id);
    expect(await enqueuePendingEvents(rig.deps)).toBe(0);
    expect(await rig.deps.queues.notifications.getJob(jobIds.event(id))).toBeUndefined();
    expect(await eventRow(rig, id)).toMatchObject({ status: "pending", attempts: 0 });
  });
});
