import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenChargeRequest } from "../../src/oen/types.ts";
import { API_KEY, eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";

describe("e-invoice details on charges (OEN_EINVOICE=1)", () => {
  let h: Harness;
  // Every charge request the service sends, recorded on its way to the simulator.
  const sent: TokenChargeRequest[] = [];
  beforeAll(async () => {
    h = await startHarness({ env: { OEN_EINVOICE: "1" } });
    const client = h.service.deps.oen;
    const charge = client.chargeToken.bind(client);
    client.chargeToken = async (request) => {
      sent.push(request);
      return charge(request);
    };
    await h.api("PUT", "/v1/plans/basic", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function subscribeAndPay(body: object): Promise<TokenChargeRequest> {
    const created = await h.api("POST", "/v1/subscriptions", body);
    expect(created.statusCode, created.body).toBe(201);
    const { id, checkoutUrl } = created.json();
    h.simulator.bindCard(checkoutUrl.split("/").pop()!, { cardNumber: "4242424242424242", expiry: "12/39", cvc: "123", email: "ming@example.com" });
    const invoice = await eventually(async () => {
      const view = (await h.api("GET", `/v1/subscriptions/${id}`)).json();
      return view.latestInvoice?.status === "paid" && view.latestInvoice;
    }, 10_000, "the first charge");
    const request = sent.find((r) => r.orderId.startsWith(invoice.id));
    expect(request).toBeDefined();
    return request!;
  }

  it("reads the flag", () => {
    expect(h.config.oen.einvoice).toBe(true);
  });

  it("sends the customer's invoiceInfo with userName and userEmail, and Oen takes the charge", async () => {
    const company = { invoiceType: "company", buyerIdentifier: "04595257", buyerName: "應援科技股份有限公司", email: "ap@example.com" };
    const request = await subscribeAndPay({ ...sampleSubscription("basic", "cus_company"), invoiceInfo: company });
    expect(request).toMatchObject({ userId: "cus_company", userName: "王小明", userEmail: "ming@example.com", invoiceInfo: company });
    expect(h.simulator.ledger.byOrder(request.orderId)).toEqual([expect.objectContaining({ status: "charged", userName: "王小明", userEmail: "ming@example.com" })]);
  });

  it("sends details changed through PUT /v1/customers, and none once they are cleared", async () => {
    const carrier = { invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC+123" };
    await h.api("PUT", "/v1/customers/cus_cloud", { name: "林小華", email: "hua@example.com", invoiceInfo: carrier });
    const first = await subscribeAndPay(sampleSubscription("basic", "cus_cloud"));
    expect(first.invoiceInfo).toEqual(carrier);
    // sampleSubscription sends 王小明 / ming@example.com, which the create stored on the customer.
    expect(first).toMatchObject({ userName: "王小明", userEmail: "ming@example.com" });

    await h.api("PUT", "/v1/customers/cus_cloud", { invoiceInfo: null });
    const second = await subscribeAndPay(sampleSubscription("basic", "cus_cloud"));
    expect(second).not.toHaveProperty("invoiceInfo");
    expect(second).toMatchObject({ userName: "王小明", userEmail: "ming@example.com" });
  });

  it("a refund of an invoiced charge carries productDetails summing to its amount (the allowance); Oen in e-invoice mode takes it", async () => {
    const request = await subscribeAndPay({ ...sampleSubscription("basic", "cus_refund"), invoiceInfo: { invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC+123" } });
    const invoiceId = request.orderId.replace(/-\d+$/, "");
    const refund = await h.service.app!.inject({ method: "POST", url: `/v1/invoices/${invoiceId}/refunds`, headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": "einvoice-refund-1" }, payload: { amount: 300, reason: "partial" } });
    expect(refund.statusCode, refund.body).toBe(201);
    expect(refund.json()).toMatchObject({ status: "succeeded", amount: 300 });
    const [made] = h.simulator.ledger.refunds(refund.json().oenTransactionId);
    expect(made!.productDetails!.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0)).toBe(300);
  });
});
