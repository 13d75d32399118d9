import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueEvent, enqueuePendingEvents } from "../../src/events/enqueue-event.ts";
import { recordEvent, type RecordEventInput } from "../../src/events/record-event.ts";
import { jobIds } from "../../src/queues/jobs.ts";
import { eventually } from "../support/harness.ts";
import { startNotificationRig, type NotificationRig } from "../support/notification-rig.ts";
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
    await enqueueEvent(rig.deps, id);
    const row = await settled(rig, id, "delivered");
    expect(row).toMatchObject({ type: "invoice.paid", attempts: 1, last_status: 200, last_error: null, next_attempt_at: null });
    expect(row.delivered_at).toBeInstanceOf(Date);
    expect(received(id)).toEqual([{ webhookId: id, body: { id, type: "invoice.paid", timestamp: "2026-11-26T04:00:00.000Z", data: input.data } }]);
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
      expect(requests(id)).toHaveLength(FAST_RETRY.attempts);
      expect(await eventually(async () => (await rig.deps.queues.notifications.getJobState(jobIds.event(id))) === "failed")).toBe(true);
      expect(await enqueuePendingEvents(rig.deps)).toBe(0);
    } finally {
      receiver.respondWith(200);
    }
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
