import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { startServiceProcess, type ServiceProcess } from "../support/service-process.ts";

// Refunds and terminate through the platform API, against the simulator over HTTP (invariant 7).
describe("refunds and terminate through the API", () => {
  let h: Harness;
  let n = 0;
  const processes: ServiceProcess[] = [];
  beforeAll(async () => {
    // Workers run in child processes, so that one can be killed in the middle of a refund.
    h = await startHarness({ env: { ROLES: "ingress,scheduler", BILLING_TEST_CLOCK: "1", RENEWAL_SWEEP_INTERVAL: "1s", OEN_REQUEST_TIMEOUT: "3s" } });
    processes.push(await startServiceProcess({ ...h.env, ROLES: "workers" }));
    await h.api("PUT", "/v1/plans/month30", { ...samplePlan, interval: "day", intervalCount: 30, amount: 300 });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await h?.close();
  });

  const post = (path: string, body: unknown, key: string | null = randomUUID()) =>
    h.service.app!.inject({ method: "POST", url: path, headers: { authorization: `Bearer ${API_KEY}`, ...(key === null ? {} : { "idempotency-key": key }) }, payload: body as object });

  async function paidInvoice() {
    const subscription = await subscribeWithCard(h, "month30", `cus_${n++}`);
    const invoice = await eventually(async () => {
      const [latest] = (await h.api("GET", `/v1/subscriptions/${subscription.id}/invoices`)).json().data;
      return latest?.status === "paid" && latest;
    }, 20_000, "the first invoice paid");
    return { subscriptionId: subscription.id, invoiceId: invoice.id as string, hid: invoice.attempts[0].oenTransactionId as string };
  }

  it("a partial refund, then a second one on the same invoice: 409, nothing sent to Oen", async () => {
    const { invoiceId, hid } = await paidInvoice();
    const first = await post(`/v1/invoices/${invoiceId}/refunds`, { amount: 100, reason: "goodwill" });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ amount: 100, status: "succeeded", cause: "requested", oenTransactionId: hid });
    const sent = h.simulator.refundRequests.length;
    const second = await post(`/v1/invoices/${invoiceId}/refunds`, { amount: 50 });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ error: "already_refunded", message: expect.stringMatching(/only once/) });
    expect(h.simulator.refundRequests.length).toBe(sent);
    expect(h.simulator.ledger.refunds(hid).map((r) => r.amount)).toEqual([100]);
    const invoice = (await h.api("GET", `/v1/invoices/${invoiceId}`)).json();
    expect(invoice).toMatchObject({ id: invoiceId, status: "paid", amountRefunded: 100, attempts: [{ outcome: "succeeded" }], refunds: [{ amount: 100, status: "succeeded" }] });
    const events = await h.database.db.selectFrom("platform_events").select("type").where("type", "=", "invoice.refunded").where("dedupe_key", "like", `%${first.json().id}%`).execute();
    expect(events).toHaveLength(1);
  });

  it("requires an Idempotency-Key; the same key twice is one refund; too much is 422 naming the field", async () => {
    const { invoiceId, hid } = await paidInvoice();
    expect((await post(`/v1/invoices/${invoiceId}/refunds`, {}, null)).statusCode).toBe(400);
    const tooMuch = await post(`/v1/invoices/${invoiceId}/refunds`, { amount: 301 });
    expect(tooMuch.statusCode).toBe(422);
    expect(tooMuch.json().message).toMatch(/^amount: at most 300 TWD/);
    const key = randomUUID();
    const once = await post(`/v1/invoices/${invoiceId}/refunds`, {}, key);
    const again = await post(`/v1/invoices/${invoiceId}/refunds`, {}, key);
    expect(once.statusCode).toBe(201);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual(once.json());
    expect(h.simulator.ledger.refunds(hid).map((r) => r.amount)).toEqual([300]);
    expect((await post(`/v1/invoices/in_missing/refunds`, {})).statusCode).toBe(404);
  });

  it("terminate with a prorated refund after a third of the period refunds two thirds, once, though the answer is lost and the worker killed", async () => {
    const { subscriptionId, hid } = await paidInvoice();
    await h.api("POST", "/v1/test-clock/advance", { by: "10d" });
    // Oen makes the refund at once, but its answer takes 10 s and is then lost: long enough to kill the worker.
    h.simulator.faults.set([
      { on: "refund", kind: "latency", latencyMs: 10_000, times: 1 },
      { on: "refund", kind: "drop_after_refund", times: 1 },
    ]);
    const requestsBefore = h.simulator.refundRequests.length;
    const terminated = await post(`/v1/subscriptions/${subscriptionId}/terminate`, { refund: "prorated" });
    expect(terminated.statusCode).toBe(200);
    expect(terminated.json()).toMatchObject({ subscription: { status: "canceled" }, refund: { amount: 200, cause: "terminate" } });
    await eventually(async () => h.simulator.refundRequests.length > requestsBefore, 20_000, "the refund to reach Oen");
    await processes.shift()!.kill("SIGKILL");
    h.simulator.faults.clear();
    processes.push(await startServiceProcess({ ...h.env, ROLES: "workers" }));

    const refundId = terminated.json().refund.id as string;
    await eventually(async () => (await h.database.db.selectFrom("refunds").select("status").where("id", "=", refundId).executeTakeFirstOrThrow()).status === "succeeded", 40_000, "the refund settled by lookup");
    expect(h.simulator.refundRequests.length).toBe(requestsBefore + 1);
    expect(h.simulator.ledger.refunds(hid).map((r) => r.amount)).toEqual([200]);
    const events = await h.database.db.selectFrom("platform_events").select("type").where("dedupe_key", "like", `%${subscriptionId}%`).execute();
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["subscription.canceled", "subscription.terminated"]));
  });
});
