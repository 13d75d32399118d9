import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TEST_CARDS, type OenSimulator } from "../../src/oen/simulator/index.ts";
import { createCheckout, startTestSimulator } from "../oen/sim-fixtures.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../oen/webhook-receiver.ts";

let sim: OenSimulator;
let receiver: WebhookReceiver;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  sim = await startTestSimulator({ webhookUrl: receiver.url, webhookRetryDelaysMs: [40, 80], webhookTimeoutMs: 200 });
});
afterEach(async () => {
  await sim.close();
  await receiver.close();
});

async function bind(cardNumber: string = TEST_CARDS.success): Promise<string> {
  const checkoutId = await createCheckout(sim);
  sim.bindCard(checkoutId, { cardNumber });
  return checkoutId;
}

const tries = () => sim.webhookDeliveries.map((d) => ({ deliveryId: d.deliveryId, try: d.try, httpStatus: d.httpStatus, ok: d.ok }));

describe("token webhook delivery (developers/webhooks.md)", () => {
  it("POSTs JSON once when the receiver answers 2xx (any 2xx, body ignored)", async () => {
    receiver.script([204]);
    await bind();
    await sim.webhooksIdle();
    expect(tries()).toEqual([{ deliveryId: 1, try: 1, httpStatus: 204, ok: true }]);
    expect(receiver.received).toHaveLength(1);
  });

  it("retries after a 500, the delays apart, and stops at the first 2xx", async () => {
    receiver.script([500, 200]);
    await bind();
    await sim.webhooksIdle();
    expect(tries()).toEqual([
      { deliveryId: 1, try: 1, httpStatus: 500, ok: false },
      { deliveryId: 1, try: 2, httpStatus: 200, ok: true },
    ]);
    const [first, second] = receiver.received;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(35);
    expect(second?.body).toEqual(first?.body);
  });

  it("tries at most 3 times, then never again", async () => {
    receiver.script([500, 503, 500, 500, 500]);
    await bind();
    await sim.webhooksIdle();
    await sleep(200);
    expect(receiver.received).toHaveLength(3);
    expect(tries().map((t) => t.try)).toEqual([1, 2, 3]);
  });

  it("counts a 3xx as a failure and does not follow it", async () => {
    const elsewhere = `${receiver.url}/elsewhere`;
    receiver.script([{ status: 302, location: elsewhere }, { status: 301, location: elsewhere }, 200]);
    await bind();
    await sim.webhooksIdle();
    expect(tries().map((t) => [t.httpStatus, t.ok])).toEqual([
      [302, false],
      [301, false],
      [200, true],
    ]);
    expect(receiver.received.map((r) => r.path)).toEqual(["/webhooks/oen", "/webhooks/oen", "/webhooks/oen"]);
  });

  it("gives up on a try after the timeout and tries again", async () => {
    receiver.script([{ status: 200, delayMs: 400 }, 200]);
    await bind();
    await sim.webhooksIdle();
    expect(sim.webhookDeliveries.map((d) => [d.try, d.ok, d.error])).toEqual([
      [1, false, "no answer within 200 ms"],
      [2, true, undefined],
    ]);
  });

  it("records a refused connection as a failed try", async () => {
    await receiver.close();
    await bind();
    await sim.webhooksIdle();
    expect(sim.webhookDeliveries.map((d) => [d.try, d.ok, d.error?.startsWith("connection failed")])).toEqual([
      [1, false, true],
      [2, false, true],
      [3, false, true],
    ]);
    receiver = await startWebhookReceiver();
  });

  it("skips webhooks while no URL is set, and never sends them later", async () => {
    sim.setWebhookUrl(null);
    await bind();
    await sim.webhooksIdle();
    sim.setWebhookUrl(receiver.url);
    await sleep(150);
    expect(receiver.received).toEqual([]);
    expect(sim.webhookDeliveries).toMatchObject([{ try: 1, ok: false, error: "no webhook URL configured" }]);
  });
});

describe("webhook faults", () => {
  it("duplicate: the same body twice, concurrently, each copy with its own tries", async () => {
    sim.faults.set([{ on: "webhook", kind: "duplicate", times: 1 }]);
    receiver.script([500]);
    await bind();
    await sim.webhooksIdle();
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(new Set(sim.webhookDeliveries.map((d) => d.deliveryId))).toEqual(new Set([1, 2]));
  });

  it("reorder: a held webhook arrives after the next one", async () => {
    sim.faults.set([{ on: "webhook", kind: "reorder", times: 1, latencyMs: 2_000 }]);
    const first = await bind();
    const second = await bind(TEST_CARDS.bindingFails);
    await receiver.waitFor(2);
    expect(receiver.received.map((r) => r.body.id)).toEqual([second, first]);
  });

  it("reorder: released after latencyMs when no other webhook comes", async () => {
    sim.faults.set([{ on: "webhook", kind: "reorder", latencyMs: 50 }]);
    await bind();
    await receiver.waitFor(1, 1_000);
  });

  it("drop: never delivered", async () => {
    sim.faults.set([{ on: "webhook", kind: "drop", times: 1 }]);
    await bind();
    const kept = await bind();
    await sim.webhooksIdle();
    expect(receiver.received.map((r) => r.body.id)).toEqual([kept]);
  });

  it("latency: delivered later", async () => {
    sim.faults.set([{ on: "webhook", kind: "latency", latencyMs: 150 }]);
    const started = Date.now();
    await bind();
    await receiver.waitFor(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});
