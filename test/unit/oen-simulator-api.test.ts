import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_CARDS, flakyCardNumber, type OenSimulator } from "../../src/oen/simulator/index.ts";
import { API_TOKEN, MERCHANT_ID, boundToken, callApi, chargeBody, productLine, startTestSimulator } from "../oen/sim-fixtures.ts";

let sim: OenSimulator;
let token: string;

beforeAll(async () => {
  sim = await startTestSimulator();
  token = await boundToken(sim, TEST_CARDS.success);
});
afterAll(() => sim.close());

const checkoutBody = { merchantId: MERCHANT_ID, successUrl: "https://shop.example.com/ok", failureUrl: "https://shop.example.com/ng" };

describe("envelope, auth and routing", () => {
  it.each([
    ["no header", null],
    ["a wrong token", "Bearer nope"],
    ["lower-case bearer", `bearer ${API_TOKEN}`],
    ["two spaces", `Bearer  ${API_TOKEN}`],
  ])("answers 401 A0001 for %s", async (_label, authorization) => {
    const answer = await callApi(sim, "POST", "/checkout-token", checkoutBody, authorization);
    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ code: "A0001", data: {}, message: expect.any(String) });
  });

  it("answers 404 and 405 in plain text", async () => {
    const notFound = await callApi(sim, "GET", "/no/such/path");
    const wrongMethod = await callApi(sim, "GET", "/checkout-token");
    expect([notFound.status, notFound.text]).toEqual([404, "Not Found"]);
    expect([wrongMethod.status, wrongMethod.text]).toEqual([405, "Method Not Allowed"]);
  });

  it("answers 500 F0001 to a body that is not JSON", async () => {
    const answer = await callApi(sim, "POST", "/token/transactions", '{"merchantId": ');
    expect(answer.status).toBe(500);
    expect(answer.json).toMatchObject({ code: "F0001", data: {} });
  });

  it("answers 403 with only a message when the caller's IP is not allowlisted", async () => {
    const guarded = await startTestSimulator({ ipAllowlist: ["203.0.113.7"] });
    try {
      const answer = await callApi(guarded, "POST", "/checkout-token", checkoutBody);
      expect([answer.status, answer.json]).toEqual([403, { message: "Forbidden" }]);
    } finally {
      await guarded.close();
    }
  });
});

describe("POST /checkout-token", () => {
  it("returns a 27-char alphanumeric id and ignores unknown fields", async () => {
    const answer = await callApi(sim, "POST", "/checkout-token", { ...checkoutBody, webhookUrl: "https://ignored.example.com" });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ code: "S0000", data: { id: expect.stringMatching(/^[0-9A-Za-z]{27}$/) }, message: "" });
  });

  it("accepts null URLs but requires the keys", async () => {
    const nulls = await callApi(sim, "POST", "/checkout-token", { merchantId: MERCHANT_ID, successUrl: null, failureUrl: null });
    const missing = await callApi(sim, "POST", "/checkout-token", { merchantId: MERCHANT_ID, successUrl: null });
    expect(nulls.status).toBe(200);
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ code: "V0001", data: {}, message: "must have required property 'failureUrl'" });
  });

  it("requires full URIs and the merchant of the API token", async () => {
    const relative = await callApi(sim, "POST", "/checkout-token", { ...checkoutBody, successUrl: "/cards/added" });
    const otherMerchant = await callApi(sim, "POST", "/checkout-token", { ...checkoutBody, merchantId: "someone-else" });
    expect(relative.json).toMatchObject({ code: "V0001", message: 'must match format "uri"' });
    expect(otherMerchant.json).toMatchObject({ code: "V0001" });
  });

  it("answers V0002 while payments are not activated", async () => {
    const inactive = await startTestSimulator({ paymentsActivated: false });
    try {
      expect((await callApi(inactive, "POST", "/checkout-token", checkoutBody)).json).toMatchObject({ code: "V0002" });
    } finally {
      await inactive.close();
    }
  });
});

describe("POST /token/transactions", () => {
  it("charges and answers the P-number (17 chars) and an auth code", async () => {
    const answer = await callApi(sim, "POST", "/token/transactions", chargeBody(token, "A-1"));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ code: "S0000", data: { id: expect.stringMatching(/^P\d{8}[0-9A-Z]{8}$/), authCode: expect.any(String) }, message: "" });
    const entry = sim.ledger.get(answer.json.data.id);
    expect(entry).toEqual({
      id: answer.json.data.id,
      transactionId: expect.stringMatching(/^[0-9A-Za-z]{27}$/),
      merchantId: MERCHANT_ID,
      orderId: "A-1",
      amount: 1200,
      status: "charged",
      productDetails: [productLine(1200)],
      token,
      authCode: answer.json.data.authCode,
      createdAt: expect.any(String),
      paidAt: expect.any(String),
      refundAmount: 0,
    });
    // Tests get copies: changing one changes nothing in the simulator.
    if (entry) entry.status = "failed";
    expect(sim.ledger.all().find((e) => e.orderId === "A-1")?.status).toBe("charged");
  });

  it.each([
    ["0", 0, "must be >= 1"],
    ["a fraction", 12.5, "must be integer"],
    ["a numeric string (no coercion)", "1200", "must be integer"],
  ])("refuses an amount of %s", async (_label, amount, message) => {
    const answer = await callApi(sim, "POST", "/token/transactions", { ...chargeBody(token, "A-2"), amount });
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe("V0001");
    expect(answer.json.message).toContain(message);
  });

  it("lists every failing rule in one message", async () => {
    const answer = await callApi(sim, "POST", "/token/transactions", { merchantId: MERCHANT_ID, amount: 0, token });
    expect(answer.json.message).toBe("must have required property 'orderId'; must have required property 'productDetails'; must be >= 1");
  });

  it("requires amount = Σ quantity × unitPrice", async () => {
    const matching = { ...chargeBody(token, "A-3", 1500), productDetails: [productLine(500, 2), productLine(250, 2)] };
    const off = { ...matching, amount: 1499 };
    expect((await callApi(sim, "POST", "/token/transactions", matching)).status).toBe(200);
    const refused = await callApi(sim, "POST", "/token/transactions", off);
    expect(refused.json).toEqual({ code: "V0001", data: {}, message: "PRODUCT_AMOUNT_NOT_MATCH" });
    expect(sim.ledger.byOrder("A-3")).toHaveLength(1);
  });

  it("refuses 200,000 and more with V0003 unless high-value is enabled", async () => {
    expect((await callApi(sim, "POST", "/token/transactions", chargeBody(token, "A-4", 199_999))).status).toBe(200);
    expect((await callApi(sim, "POST", "/token/transactions", chargeBody(token, "A-4", 200_000))).json).toMatchObject({ code: "V0003" });
    const highValue = await startTestSimulator({ highValueEnabled: true });
    try {
      const highToken = await boundToken(highValue, TEST_CARDS.success);
      expect((await callApi(highValue, "POST", "/token/transactions", chargeBody(highToken, "A-4", 250_000))).status).toBe(200);
    } finally {
      await highValue.close();
    }
  });

  it("refuses an unknown token and another merchant with V0001", async () => {
    const unknown = await callApi(sim, "POST", "/token/transactions", chargeBody("Z".repeat(27), "A-5"));
    const otherMerchant = await callApi(sim, "POST", "/token/transactions", { ...chargeBody(token, "A-5"), merchantId: "other" });
    expect([unknown.status, unknown.json.code]).toEqual([400, "V0001"]);
    expect([otherMerchant.status, otherMerchant.json.code]).toEqual([400, "V0001"]);
    expect(sim.ledger.byOrder("A-5")).toEqual([]);
  });

  it("does not deduplicate orders: the same orderId twice is two charges", async () => {
    await callApi(sim, "POST", "/token/transactions", chargeBody(token, "DUP-1"));
    await callApi(sim, "POST", "/token/transactions", chargeBody(token, "DUP-1"));
    expect(sim.ledger.successfulCharges("DUP-")).toHaveLength(2);
    const lookup = await callApi(sim, "GET", "/order/DUP-1/transactions");
    expect(lookup.json.data.transactions).toHaveLength(2);
  });

  it("records a declined charge as failed, with K0001's detail", async () => {
    const risky = await boundToken(sim, TEST_CARDS.declineRisk);
    const answer = await callApi(sim, "POST", "/token/transactions", chargeBody(risky, "RISK-1"));
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: "K0001", data: {}, detail: { subCode: expect.any(String) } });
    expect(sim.ledger.byOrder("RISK-1")).toMatchObject([{ status: "failed", declineCode: "K0001" }]);
    expect(sim.ledger.successfulCharges("RISK-")).toEqual([]);
  });

  it("counts a flaky card's declines per token: a new binding starts over", async () => {
    const card = flakyCardNumber("T0005", 1);
    const first = await boundToken(sim, card);
    const codes = [];
    for (const t of [first, first, await boundToken(sim, card)]) {
      codes.push((await callApi(sim, "POST", "/token/transactions", chargeBody(t, "FLAKY-1"))).json.code);
    }
    expect(codes).toEqual(["T0005", "S0000", "T0005"]);
  });
});

describe("lookups", () => {
  it("lists an order as Transaction objects without productDetails", async () => {
    await callApi(sim, "POST", "/token/transactions", { ...chargeBody(token, "LOOK-1"), userName: "王小明", userEmail: "ming@example.com" });
    const answer = await callApi(sim, "GET", "/order/LOOK-1/transactions");
    expect(answer.json).toEqual({
      code: "S0000",
      message: "",
      data: {
        transactions: [
          {
            id: expect.stringMatching(/^P/),
            transactionId: expect.stringMatching(/^[0-9A-Za-z]{27}$/),
            action: "onetime",
            amount: 1200,
            paymentMethod: "card",
            paymentInfo: { method: "card" },
            status: "charged",
            orderId: "LOOK-1",
            userName: "王小明",
            userEmail: "ming@example.com",
            authCode: expect.any(String),
            use3d: false,
            createdAt: expect.any(String),
            paidAt: expect.any(String),
            refundAmount: 0,
          },
        ],
      },
    });
    expect((await callApi(sim, "GET", "/order/NONE/transactions")).json.data).toEqual({ transactions: [] });
  });

  it("gets a transaction: productDetails only by the 27-char id; unknown → 400 V0001", async () => {
    const hid = (await callApi(sim, "POST", "/token/transactions", chargeBody(token, "LOOK-2"))).json.data.id as string;
    const byHid = (await callApi(sim, "GET", `/transactions/${hid}`)).json.data;
    const byId = (await callApi(sim, "GET", `/transactions/${byHid.transactionId}`)).json.data;
    expect(byHid.productDetails).toBeUndefined();
    expect(byId.productDetails).toEqual([productLine(1200)]);
    const unknown = await callApi(sim, "GET", "/transactions/P20260101XXXXXXXX");
    expect([unknown.status, unknown.json.code]).toEqual([400, "V0001"]);
  });
});

describe("POST /refunds/:transactionHid", () => {
  async function paid(orderId: string): Promise<string> {
    return (await callApi(sim, "POST", "/token/transactions", chargeBody(token, orderId))).json.data.id;
  }
  const refund = (hid: string, body: Record<string, unknown> = {}) =>
    callApi(sim, "POST", `/refunds/${hid}`, { merchantId: MERCHANT_ID, ...body });

  it("refunds in full by default, once", async () => {
    const hid = await paid("REF-1");
    const answer = await refund(hid);
    expect(answer.json.data).toMatchObject({ id: hid, status: "refunded", refundAmount: 1200, success: true, refundedAt: expect.any(String) });
    expect((await refund(hid)).json).toMatchObject({ code: "V0002" });
    expect(sim.ledger.successfulCharges("REF-1")).toHaveLength(1);
  });

  it("refunds part once; the rest cannot be refunded", async () => {
    const hid = await paid("REF-2");
    expect((await refund(hid, { amount: 200, productDetails: [productLine(100, 2)] })).json.data).toMatchObject({ refundAmount: 200, status: "refunded" });
    expect((await refund(hid, { amount: 100 })).json.code).toBe("V0002");
  });

  it("refuses a bad amount, the 27-char id, and failed transactions", async () => {
    const hid = await paid("REF-3");
    const transactionId = sim.ledger.get(hid)?.transactionId ?? "";
    expect((await refund(hid, { amount: 1201 })).json).toMatchObject({ code: "V0001", message: "REFUND_AMOUNT_EXCEED_CHARGE_AMOUNT" });
    expect((await refund(hid, { amount: 100, productDetails: [productLine(99)] })).json).toMatchObject({ message: "PRODUCT_AMOUNT_NOT_MATCH" });
    expect((await refund(transactionId)).json.code).toBe("V0001");
    await callApi(sim, "POST", "/token/transactions", chargeBody(await boundToken(sim, TEST_CARDS.declineGeneral), "REF-3-FAIL"));
    const failed = sim.ledger.byOrder("REF-3-FAIL")[0];
    expect(failed?.status).toBe("failed");
    expect((await refund(failed?.id ?? "")).json.code).toBe("V0002");
  });
});
