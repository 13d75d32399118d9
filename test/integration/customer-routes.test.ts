import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "../support/harness.ts";
import { startPlatformReceiver, type PlatformReceiver } from "../support/platform-receiver.ts";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;

describe("customers API", () => {
  let h: Harness;
  let platform: PlatformReceiver;
  beforeAll(async () => {
    platform = await startPlatformReceiver(SECRET);
    h = await startHarness({ env: { PLATFORM_WEBHOOK_URL: platform.url, PLATFORM_WEBHOOK_SECRET: SECRET } });
  });
  afterAll(async () => {
    await h?.close();
    await platform?.close();
  });

  const eventsOf = async (customerId: string) =>
    (await h.database.db.selectFrom("platform_events").select(["type", "data"]).orderBy("created_at").orderBy("id").execute())
      .filter((e) => e.data.customerId === customerId)
      .map((e) => ({ type: e.type, data: e.data }));

  it("answers 404 naming an unknown customer, and does not create one without name and email", async () => {
    const missing = await h.api("GET", "/v1/customers/cus_none");
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: "not_found", message: 'customer "cus_none" does not exist' });
    const put = await h.api("PUT", "/v1/customers/cus_none", { name: "王小明" });
    expect(put.statusCode).toBe(404);
    expect(put.json().message).toMatch(/customer "cus_none" does not exist; give name and email/);
    expect(await h.database.db.selectFrom("customers").select("id").execute()).toEqual([]);
    expect(await eventsOf("cus_none")).toEqual([]);
  });

  it("creates (201), changes (200) and clears the e-invoice details, one customer.updated event per change", async () => {
    const created = await h.api("PUT", "/v1/customers/cus_1", { name: "王小明", email: "ming@example.com" });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ id: "cus_1", name: "王小明", email: "ming@example.com", locale: "zh-TW", invoiceInfo: null });

    const changed = await h.api("PUT", "/v1/customers/cus_1", { locale: "en", invoiceInfo: { invoiceType: "company", buyerIdentifier: " 04595257 ", buyerName: "應援科技股份有限公司" } });
    expect(changed.statusCode).toBe(200);
    const company = { invoiceType: "company", buyerIdentifier: "04595257", buyerName: "應援科技股份有限公司" };
    expect(changed.json()).toEqual({ id: "cus_1", name: "王小明", email: "ming@example.com", locale: "en", invoiceInfo: company });
    expect((await h.api("GET", "/v1/customers/cus_1")).json()).toEqual(changed.json());

    // The same values again: nothing changes, no event.
    const same = await h.api("PUT", "/v1/customers/cus_1", { locale: "en", invoiceInfo: company });
    expect(same.statusCode).toBe(200);

    const cleared = await h.api("PUT", "/v1/customers/cus_1", { invoiceInfo: null });
    expect(cleared.json()).toMatchObject({ invoiceInfo: null, locale: "en" });
    const row = await h.database.db.selectFrom("customers").select("invoice_info").where("id", "=", "cus_1").executeTakeFirstOrThrow();
    expect(row.invoice_info).toBeNull();

    const events = await eventsOf("cus_1");
    expect(events.map((e) => e.type)).toEqual(["customer.updated", "customer.updated", "customer.updated"]);
    expect(events.map((e) => e.data.changed)).toEqual([["name", "email", "locale", "invoiceInfo"], ["locale", "invoiceInfo"], ["invoiceInfo"]]);
    expect(events[1]!.data.customer).toEqual(changed.json());
  });

  it("stores a cloud invoice carrier normalized, and delivers the customer.updated event to the platform", async () => {
    await h.api("PUT", "/v1/customers/cus_cloud", { name: "林小華", email: "hua@example.com" });
    const answer = await h.api("PUT", "/v1/customers/cus_cloud", { invoiceInfo: { invoiceType: "cloud", carrierType: "3J0002", carrierId: "/abc+123" } });
    expect(answer.statusCode).toBe(200);
    expect(answer.json().invoiceInfo).toEqual({ invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC+123" });
    const delivered = await eventually(async () => {
      const received = platform.events.filter((e) => e.body.type === "customer.updated" && e.body.data.customerId === "cus_cloud");
      return received.length === 2 && received;
    }, 10_000, "two customer.updated deliveries");
    expect(delivered[1]!.body.data).toEqual({ customerId: "cus_cloud", customer: answer.json(), changed: ["invoiceInfo"] });
  });

  it.each([
    ["a 統一編號 whose check digit is wrong", { invoiceType: "company", buyerIdentifier: "12345672" }, "invoiceInfo.buyerIdentifier"],
    ["a 統一編號 of 7 digits", { invoiceType: "company", buyerIdentifier: "1234567" }, "invoiceInfo.buyerIdentifier"],
    ["a mobile barcode without its slash", { invoiceType: "cloud", carrierType: "3J0002", carrierId: "ABC+1234" }, "invoiceInfo.carrierId"],
    ["a company field on a cloud invoice", { invoiceType: "cloud", carrierType: "", buyerIdentifier: "04595257" }, "invoiceInfo.buyerIdentifier"],
    ["an unknown invoiceType", { invoiceType: "paper" }, "invoiceInfo.invoiceType"],
  ])("refuses %s with a 422 naming the field, changing nothing", async (_what, invoiceInfo, field) => {
    await h.api("PUT", "/v1/customers/cus_bad", { name: "陳大文", email: "wen@example.com" });
    const before = await eventsOf("cus_bad");
    const answer = await h.api("PUT", "/v1/customers/cus_bad", { name: "改名", invoiceInfo });
    expect(answer.statusCode).toBe(422);
    expect(answer.json()).toMatchObject({ error: "invalid_invoice_info", field });
    expect(answer.json().message).toMatch(new RegExp(`^${field.replace(".", "\\.")} `));
    expect((await h.api("GET", "/v1/customers/cus_bad")).json()).toMatchObject({ name: "陳大文", invoiceInfo: null });
    expect(await eventsOf("cus_bad")).toEqual(before);
  });

  it.each([
    ["a bad email", { email: "not-an-email" }, /body email must match format "email"/],
    ["an unknown locale", { locale: "fr" }, /body locale must be equal to one of the allowed values/],
    ["an empty name", { name: "" }, /body name must NOT have fewer than 1 characters/],
    ["an unknown field", { phone: "0912345678" }, /must NOT have additional properties "phone"/],
    ["invoiceInfo as a string", { invoiceInfo: "company" }, /body invoiceInfo/],
  ])("refuses %s with a 400 naming the field", async (_what, body, message) => {
    const answer = await h.api("PUT", "/v1/customers/cus_1", body);
    expect(answer.statusCode).toBe(400);
    expect(answer.json().message).toMatch(message);
  });
});
