import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TEST_CARDS, type OenSimulator } from "../../src/oen/simulator/index.ts";
import { MERCHANT_ID, boundToken, callApi, chargeBody, productLine, startTestSimulator } from "../oen/sim-fixtures.ts";

// Refunds as developers/refunds.md and api/refund.md describe them.
let sim: OenSimulator;
let token: string;
let seq = 0;

beforeAll(async () => {
  sim = await startTestSimulator();
  token = await boundToken(sim, TEST_CARDS.success);
});
afterAll(() => sim.close());
afterEach(() => sim.faults.clear());

async function paid(amount = 1200): Promise<string> {
  const answer = await callApi(sim, "POST", "/token/transactions", chargeBody(token, `RF-${++seq}`, amount));
  return answer.json.data.id as string;
}
const refund = (hid: string, body: Record<string, unknown> = {}) => callApi(sim, "POST", `/refunds/${hid}`, { merchantId: MERCHANT_ID, ...body });
const transaction = async (id: string) => (await callApi(sim, "GET", `/transactions/${id}`)).json.data;
const requestsFor = (hid: string) => sim.refundRequests.filter((r) => r.transactionHid === hid);

describe("the once rule", () => {
  it("a full refund, then nothing more", async () => {
    const hid = await paid();
    expect((await refund(hid, { amount: 1200 })).json).toMatchObject({ code: "S0000", data: { id: hid, status: "refunded", refundAmount: 1200, success: true } });
    expect((await refund(hid, { amount: 1 })).json).toMatchObject({ code: "V0002", message: "TRANSACTION_STATUS_NOT_ALLOWED" });
    expect(sim.ledger.refunds(hid)).toEqual([{ transactionHid: hid, orderId: expect.any(String), amount: 1200, channel: "api", refundedAt: expect.any(String) }]);
    expect(requestsFor(hid)).toHaveLength(2);
  });

  it("a partial refund ends what can be refunded", async () => {
    const hid = await paid();
    expect((await refund(hid, { amount: 300, reason: "one month unused" })).status).toBe(200);
    const second = await refund(hid, { amount: 300 });
    expect([second.status, second.json.code]).toEqual([400, "V0002"]);
    expect(sim.ledger.refunds(hid).map((r) => [r.amount, r.reason])).toEqual([[300, "one month unused"]]);
  });

  it("a CRM refund counts too: the API cannot refund after it", async () => {
    const hid = await paid();
    expect(sim.refundInCrm(hid, { amount: 100 })).toMatchObject({ kind: "refunded", transaction: { status: "refunded", refundAmount: 100 } });
    expect((await refund(hid, { amount: 100 })).json.code).toBe("V0002");
    expect(sim.refundInCrm(hid)).toEqual({ kind: "refused", code: "V0002", message: "TRANSACTION_STATUS_NOT_ALLOWED" });
    expect(sim.ledger.refunds(hid).map((r) => r.channel)).toEqual(["crm"]);
  });

  it("the CRM refund over the admin API (full by default)", async () => {
    const hid = await paid(700);
    const crm = await fetch(`${sim.url}/__sim/transactions/${hid}/crm-refund`, { method: "POST" });
    expect(crm.status).toBe(200);
    expect((await transaction(hid)).refundAmount).toBe(700);
    const again = await fetch(`${sim.url}/__sim/transactions/${hid}/crm-refund`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect([again.status, ((await again.json()) as { code: string }).code]).toEqual([400, "V0002"]);
    const { refunds: listed } = (await (await fetch(`${sim.url}/__sim/refunds`)).json()) as { refunds: Array<{ transactionHid: string }> };
    expect(listed.filter((r) => r.transactionHid === hid)).toHaveLength(1);
  });
});

describe("which transactions", () => {
  it("only by the 17-char P-number, of this merchant", async () => {
    const hid = await paid();
    const { transactionId } = await transaction(hid);
    expect((await refund(transactionId)).json).toMatchObject({ code: "V0001" });
    expect((await refund(hid.toLowerCase())).json.code).toBe("V0001");
    expect((await refund("P20260101ZZZZZZZZ")).json.code).toBe("V0001");
    expect((await refund(hid, { merchantId: "someone-else" })).json.code).toBe("V0001");
    expect(sim.ledger.refunds(hid)).toEqual([]);
  });

  it("only charged or claimed ones; a paid-out one becomes refundedPostPayout", async () => {
    const failedToken = await boundToken(sim, TEST_CARDS.declineGeneral);
    await callApi(sim, "POST", "/token/transactions", chargeBody(failedToken, "RF-FAILED"));
    const failed = sim.ledger.byOrder("RF-FAILED")[0]!;
    expect((await refund(failed.id)).json.code).toBe("V0002");

    const hid = await paid();
    expect(sim.payOut(hid)).toMatchObject({ status: "claimed", payoutAt: expect.any(String) });
    expect(sim.payOut(hid)).toBeUndefined();
    expect((await refund(hid, { amount: 1200 })).json.data).toMatchObject({ status: "refundedPostPayout", refundAmount: 1200, payoutAt: expect.any(String) });
  });
});

describe("amounts", () => {
  it("from 1 up to the transaction amount; the allowance must sum to it", async () => {
    const hid = await paid(1200);
    expect((await refund(hid, { amount: 1201 })).json).toMatchObject({ code: "V0001", message: "REFUND_AMOUNT_EXCEED_CHARGE_AMOUNT" });
    expect((await refund(hid, { amount: 0 })).json).toMatchObject({ code: "V0001", message: "must be >= 1" });
    expect((await refund(hid, { amount: 10.5 })).json.code).toBe("V0001");
    expect((await refund(hid, { amount: 600, productDetails: [productLine(500)] })).json).toMatchObject({ code: "V0001", message: "PRODUCT_AMOUNT_NOT_MATCH" });
    expect(sim.ledger.refunds(hid)).toEqual([]);
    expect((await refund(hid, { amount: 600, productDetails: [productLine(300, 2)] })).json.data).toMatchObject({ refundAmount: 600 });
    expect(sim.ledger.refunds(hid)[0]?.productDetails).toEqual([productLine(300, 2)]);
  });

  it("without an amount, in full", async () => {
    const hid = await paid(450);
    expect((await refund(hid)).json.data.refundAmount).toBe(450);
  });
});

describe("GET /transactions/:id after a refund", () => {
  it("shows status, refundAmount and refundedAt (a partial refund is `refunded` with less than the amount)", async () => {
    const hid = await paid(1200);
    expect(await transaction(hid)).toMatchObject({ status: "charged", refundAmount: 0 });
    expect(await transaction(hid)).not.toHaveProperty("refundedAt");
    await refund(hid, { amount: 200 });
    const byHid = await transaction(hid);
    expect(byHid).toMatchObject({ status: "refunded", amount: 1200, refundAmount: 200, refundedAt: expect.any(String) });
    expect(await transaction(byHid.transactionId)).toMatchObject({ status: "refunded", refundAmount: 200 });
  });
});

describe("failures and faults", () => {
  it("R0001: the acquirer refused, nothing refunded, a later try may succeed", async () => {
    const hid = await paid();
    sim.faults.set([{ on: "refund", kind: "refund_failed", times: 1 }]);
    const answer = await refund(hid, { amount: 1200 });
    expect([answer.status, answer.json]).toEqual([400, { code: "R0001", data: {}, message: "REFUND_FAILED" }]);
    expect(await transaction(hid)).toMatchObject({ status: "charged", refundAmount: 0 });
    expect((await refund(hid, { amount: 1200 })).status).toBe(200);
  });

  it("F0001 Current charged amount too low: nothing refunded", async () => {
    const hid = await paid();
    sim.faults.set([{ on: "refund", kind: "charged_amount_too_low", times: 1 }]);
    const answer = await refund(hid, { amount: 100 });
    expect([answer.status, answer.json.code, answer.json.message]).toEqual([500, "F0001", "Current charged amount too low"]);
    expect(sim.ledger.refunds(hid)).toEqual([]);
  });

  it.each([
    ["gateway_timeout_after_refund", 504, 1],
    ["gateway_timeout", 504, 0],
    ["error_5xx", 500, 0],
  ] as const)("%s answers %i; refunds made: %i", async (kind, status, made) => {
    const hid = await paid();
    sim.faults.set([{ on: "refund", kind, times: 1 }]);
    expect((await refund(hid, { amount: 1200 })).status).toBe(status);
    expect(sim.ledger.refunds(hid)).toHaveLength(made);
    expect((await transaction(hid)).refundAmount).toBe(made === 1 ? 1200 : 0);
    expect(requestsFor(hid)).toEqual([{ transactionHid: hid, amount: 1200, receivedAt: expect.any(String) }]);
  });

  it("drop_after_refund: the connection dies, the refund was made", async () => {
    const hid = await paid();
    sim.faults.set([{ on: "refund", kind: "drop_after_refund", times: 1 }]);
    await expect(refund(hid, { amount: 1200 })).rejects.toThrow();
    expect(sim.ledger.refunds(hid)).toHaveLength(1);
  });

  it("an after-refund fault does not hide a refusal", async () => {
    const hid = await paid();
    await refund(hid, { amount: 1 });
    sim.faults.set([{ on: "refund", kind: "gateway_timeout_after_refund", times: 1 }]);
    expect((await refund(hid, { amount: 1 })).json.code).toBe("V0002");
  });

  it("the refund request log is readable over HTTP", async () => {
    const hid = await paid();
    await refund(hid, { amount: 5 });
    const { requests } = (await (await fetch(`${sim.url}/__sim/refund-requests`)).json()) as { requests: Array<{ transactionHid: string }> };
    expect(requests.filter((r) => r.transactionHid === hid)).toEqual([{ transactionHid: hid, amount: 5, receivedAt: expect.any(String) }]);
  });
});
