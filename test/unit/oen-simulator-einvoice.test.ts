import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_CARDS, type OenSimulator } from "../../src/oen/simulator/index.ts";
import { MERCHANT_ID, boundToken, callApi, chargeBody, productLine, startTestSimulator } from "../oen/sim-fixtures.ts";

// A domain with e-invoice (電子發票) enabled: developers/one-time.md "電子發票", developers/refunds.md "有開電子發票的交易".
describe("the simulator's e-invoice mode", () => {
  let sim: OenSimulator;
  let token: string;
  let seq = 0;
  beforeAll(async () => {
    sim = await startTestSimulator({ einvoice: true });
    token = await boundToken(sim, TEST_CARDS.success);
  });
  afterAll(() => sim.close());

  const charge = (extra: Record<string, unknown>) => callApi(sim, "POST", "/token/transactions", { ...chargeBody(token, `EI-${++seq}`, 1200), ...extra });
  const buyer = { userName: "王小明", userEmail: "ming@example.com" };

  it.each([
    [{}, "USER_NAME_AND_EMAIL_REQUIRED"],
    [{ userName: "王小明" }, "USER_NAME_AND_EMAIL_REQUIRED"],
    [{ ...buyer, invoiceInfo: { invoiceType: "company", buyerIdentifier: "12345678" } }, "INVALID_TAX_ID_NUMBER"],
    [{ ...buyer, invoiceInfo: { invoiceType: "cloud", carrierType: "3J0002", carrierId: "ABC+1234" } }, "INVALID_CARRIER_ID"],
    [{ ...buyer, invoiceInfo: { invoiceType: "cloud", carrierType: "CQ0001", carrierId: "AB123" } }, "INVALID_CARRIER_ID"],
  ])("refuses %j with 400 V0001 %s, and charges nothing", async (extra, message) => {
    const answer = await charge(extra);
    expect([answer.status, answer.json.code, answer.json.message]).toEqual([400, "V0001", message]);
  });

  it.each([
    [{ invoiceType: "company", buyerIdentifier: "04595257", buyerName: "應援範例股份有限公司" }],
    [{ invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC+123" }],
    [{ invoiceType: "cloud", carrierType: "CQ0001", carrierId: "AB12345678901234" }],
    [undefined],
  ])("charges with %j, and a refund then needs its allowance summing to the refund", async (invoiceInfo) => {
    const answer = await charge({ ...buyer, ...(invoiceInfo === undefined ? {} : { invoiceInfo }) });
    expect(answer.json.code).toBe("S0000");
    const hid = answer.json.data.id as string;
    const without = await callApi(sim, "POST", `/refunds/${hid}`, { merchantId: MERCHANT_ID, amount: 300 });
    expect([without.status, without.json.message]).toEqual([400, "PRODUCT_DETAILS_REQUIRED"]);
    const wrongSum = await callApi(sim, "POST", `/refunds/${hid}`, { merchantId: MERCHANT_ID, amount: 300, productDetails: [productLine(200)] });
    expect(wrongSum.json.message).toBe("PRODUCT_AMOUNT_NOT_MATCH");
    const allowance = await callApi(sim, "POST", `/refunds/${hid}`, { merchantId: MERCHANT_ID, amount: 300, productDetails: [productLine(300)] });
    expect(allowance.json).toMatchObject({ code: "S0000", data: { refundAmount: 300 } });
  });
});
