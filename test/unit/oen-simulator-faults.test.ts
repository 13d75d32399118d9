import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FaultPlanError, TEST_CARDS, parseFaultPlan, type OenSimulator } from "../../src/oen/simulator/index.ts";
import { MERCHANT_ID, boundToken, callApi, chargeBody, startTestSimulator } from "../oen/sim-fixtures.ts";

let sim: OenSimulator;
let token: string;
let orderSeq = 0;

beforeAll(async () => {
  sim = await startTestSimulator();
  token = await boundToken(sim, TEST_CARDS.success);
});
afterAll(() => sim.close());
afterEach(() => sim.faults.clear());

const nextOrder = () => `F-${++orderSeq}`;
const charge = (orderId: string, t = token) => callApi(sim, "POST", "/token/transactions", chargeBody(t, orderId)).catch((error: Error) => error);
const checkout = () =>
  callApi(sim, "POST", "/checkout-token", { merchantId: MERCHANT_ID, successUrl: null, failureUrl: null }).catch((error: Error) => error);

describe("charge faults", () => {
  it("error_5xx: 500 F0001 and nothing recorded", async () => {
    sim.faults.set([{ on: "charge", kind: "error_5xx" }]);
    const orderId = nextOrder();
    expect(await charge(orderId)).toMatchObject({ status: 500, json: { code: "F0001", data: {} } });
    expect(sim.ledger.byOrder(orderId)).toEqual([]);
  });

  it("bad_gateway: 502 with an HTML body", async () => {
    sim.faults.set([{ on: "charge", kind: "bad_gateway" }]);
    const answer = await charge(nextOrder());
    expect(answer).toMatchObject({ status: 502, json: undefined });
  });

  it("gateway_timeout: 504 and nothing recorded; gateway_timeout_after_charge: 504 and charged", async () => {
    const [before, after] = [nextOrder(), nextOrder()];
    sim.faults.set([{ on: "charge", kind: "gateway_timeout", times: 1 }]);
    expect(await charge(before)).toMatchObject({ status: 504 });
    sim.faults.set([{ on: "charge", kind: "gateway_timeout_after_charge", times: 1 }]);
    expect(await charge(after)).toMatchObject({ status: 504 });
    expect(sim.ledger.byOrder(before)).toEqual([]);
    expect(sim.ledger.byOrder(after)).toMatchObject([{ status: "charged" }]);
  });

  it("drop: no answer and nothing recorded; drop_after_charge: no answer and charged", async () => {
    const [before, after] = [nextOrder(), nextOrder()];
    sim.faults.set([{ on: "charge", kind: "drop", times: 1 }]);
    expect(await charge(before)).toBeInstanceOf(TypeError);
    sim.faults.set([{ on: "charge", kind: "drop_after_charge", times: 1 }]);
    expect(await charge(after)).toBeInstanceOf(TypeError);
    expect(sim.ledger.byOrder(before)).toEqual([]);
    expect(sim.ledger.byOrder(after)).toMatchObject([{ status: "charged" }]);
  });

  it("c026_after_charge: 409 C026, `charging` in lookups, then the card's real outcome", async () => {
    const [paid, declined] = [nextOrder(), nextOrder()];
    sim.faults.set([{ on: "charge", kind: "c026_after_charge", settleAfterMs: 150 }]);
    const answer = await charge(paid);
    expect(answer).toMatchObject({ status: 409, json: { code: "C026", data: {}, message: "PAYMENT_STATUS_UNKNOWN", retryable: false } });
    await charge(declined, await boundToken(sim, TEST_CARDS.declineInsufficientCredit));
    const lookup = await callApi(sim, "GET", `/order/${paid}/transactions`);
    expect(lookup.json.data.transactions).toMatchObject([{ status: "charging" }]);
    expect(lookup.json.data.transactions[0].paidAt).toBeUndefined();
    expect(sim.ledger.successfulCharges(paid)).toEqual([]);
    await sleep(250);
    expect(sim.ledger.byOrder(paid)).toMatchObject([{ status: "charged", paidAt: expect.any(String), authCode: expect.any(String) }]);
    expect(sim.ledger.byOrder(declined)).toMatchObject([{ status: "failed", declineCode: "T0004" }]);
  });

  it("after-charge faults leave refused requests alone (nothing to hide)", async () => {
    sim.faults.set([{ on: "charge", kind: "gateway_timeout_after_charge" }]);
    const answer = await callApi(sim, "POST", "/token/transactions", { ...chargeBody(token, nextOrder()), amount: 1 });
    expect(answer).toMatchObject({ status: 400, json: { message: "PRODUCT_AMOUNT_NOT_MATCH" } });
  });

  it("latency: the charge is recorded on arrival and the answer comes late", async () => {
    sim.faults.set([{ on: "charge", kind: "latency", latencyMs: 300 }]);
    const orderId = nextOrder();
    const started = Date.now();
    const pending = charge(orderId);
    await sleep(100);
    expect(sim.ledger.byOrder(orderId)).toMatchObject([{ status: "charged" }]);
    expect(await pending).toMatchObject({ status: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("lookup and checkout faults", () => {
  it("lookup_5xx and slow_lookup act on order lookups and GET /transactions/:id", async () => {
    sim.faults.set([{ on: "lookup", kind: "lookup_5xx", times: 2 }]);
    expect((await callApi(sim, "GET", "/order/X/transactions")).status).toBe(500);
    expect((await callApi(sim, "GET", "/transactions/X")).status).toBe(500);
    expect((await callApi(sim, "GET", "/order/X/transactions")).status).toBe(200);
    sim.faults.set([{ on: "lookup", kind: "slow_lookup", latencyMs: 150 }]);
    const started = Date.now();
    await callApi(sim, "GET", "/order/X/transactions");
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it.each([
    ["error_5xx", 500],
    ["bad_gateway", 502],
    ["gateway_timeout", 504],
  ] as const)("checkout %s answers %i", async (kind, status) => {
    sim.faults.set([{ on: "checkout", kind, times: 1 }]);
    expect(await checkout()).toMatchObject({ status });
    expect(await checkout()).toMatchObject({ status: 200 });
  });

  it("checkout drop closes the connection", async () => {
    sim.faults.set([{ on: "checkout", kind: "drop", times: 1 }]);
    expect(await checkout()).toBeInstanceOf(TypeError);
  });

  it("faults only act on their target", async () => {
    sim.faults.set([{ on: "lookup", kind: "error_5xx" }]);
    expect(await charge(nextOrder())).toMatchObject({ status: 200 });
    expect(await checkout()).toMatchObject({ status: 200 });
  });
});

describe("fault plans", () => {
  it("`times` counts firings and is shown as what is left", async () => {
    sim.faults.set([{ on: "lookup", kind: "error_5xx", times: 2 }]);
    await callApi(sim, "GET", "/order/X/transactions");
    expect(sim.faults.list()).toEqual([{ on: "lookup", kind: "error_5xx", times: 1 }]);
  });

  it("`probability` is rolled with the seeded random source: same seed, same faults", async () => {
    const pattern = async (seed: number) => {
      const seeded = await startTestSimulator({ seed, faults: [{ on: "lookup", kind: "error_5xx", probability: 0.5 }] });
      try {
        const statuses = [];
        for (let i = 0; i < 20; i++) statuses.push((await callApi(seeded, "GET", "/order/X/transactions")).status);
        return statuses;
      } finally {
        await seeded.close();
      }
    };
    const first = await pattern(7);
    expect(await pattern(7)).toEqual(first);
    expect(first.filter((s) => s === 500).length).toBeGreaterThan(3);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(3);
  });

  it("latency rules add up with the rule that answers", async () => {
    sim.faults.set([
      { on: "lookup", kind: "latency", latencyMs: 60 },
      { on: "lookup", kind: "slow_lookup", latencyMs: 60 },
      { on: "lookup", kind: "error_5xx", latencyMs: 60 },
      { on: "lookup", kind: "gateway_timeout" },
    ]);
    const started = Date.now();
    expect((await callApi(sim, "GET", "/order/X/transactions")).status).toBe(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(170);
  });

  it("refuses malformed plans with a message naming the rule", () => {
    expect(() => parseFaultPlan({ on: "charge" })).toThrow(FaultPlanError);
    expect(() => parseFaultPlan([{ on: "charge", kind: "slow_lookup" }])).toThrow(/rule 0: "kind" for "charge"/);
    expect(() => parseFaultPlan([{ on: "webhook", kind: "duplicate" }, { on: "payout", kind: "drop" }])).toThrow(/rule 1/);
    expect(() => parseFaultPlan([{ on: "lookup", kind: "drop", probability: 2 }])).toThrow(/probability/);
    expect(() => sim.faults.set([{ on: "lookup", kind: "drop", times: -1 }])).toThrow(/times/);
    expect(parseFaultPlan([{ on: "charge", kind: "c026_after_charge", times: 1, settleAfterMs: 10, extra: true }])).toEqual([
      { on: "charge", kind: "c026_after_charge", times: 1, settleAfterMs: 10 },
    ]);
  });

  it("closes promptly even while a request waits on a long latency", async () => {
    const slow = await startTestSimulator({ faults: [{ on: "lookup", kind: "latency", latencyMs: 60_000 }] });
    const pending = callApi(slow, "GET", "/order/X/transactions").catch((error: Error) => error);
    await sleep(50);
    const started = Date.now();
    await slow.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await pending; // settles (an error answer or a closed connection) instead of hanging
  });
});
