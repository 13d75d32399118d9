import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";

describe("creating and listing subscriptions", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.api("PUT", "/v1/plans/basic", samplePlan);
    await h.api("PUT", "/v1/plans/trial14", { ...samplePlan, trialDays: 14 });
  });
  afterAll(async () => {
    await h?.close();
  });

  const rowCounts = async () => ({
    subscriptions: (await h.database.db.selectFrom("subscriptions").select("id").execute()).length,
    customers: (await h.database.db.selectFrom("customers").select("id").execute()).length,
  });
  const create = async (body: object) => {
    const answer = await h.api("POST", "/v1/subscriptions", body);
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json() as { id: string; checkoutUrl: string };
  };
  const bind = (checkoutUrl: string) => h.simulator.bindCard(checkoutUrl.split("/").pop()!, { cardNumber: "4242424242424242", expiry: "12/39", cvc: "123", email: "ming@example.com" });

  it("returns metadata as given and shows the new fields of the view", async () => {
    const metadata = { orderRef: "A-1001", "中文鍵": "值", empty: "" };
    const { id } = await create({ ...sampleSubscription("basic", "cus_meta"), metadata });
    const view = await h.api("GET", `/v1/subscriptions/${id}`);
    expect(view.statusCode).toBe(200);
    expect(view.json()).toMatchObject({ id, status: "incomplete", metadata, trialStart: null, trialEnd: null, pendingPlanId: null });
    const row = await h.database.db.selectFrom("subscriptions").select(["metadata", "trial_days"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toEqual({ metadata, trial_days: null });
    const { id: bare } = await create(sampleSubscription("basic", "cus_meta"));
    expect((await h.api("GET", `/v1/subscriptions/${bare}`)).json().metadata).toEqual({});
  });

  it("stores a trialDays override; the bound card starts that trial, charging nothing", async () => {
    const { id, checkoutUrl } = await create({ ...sampleSubscription("basic", "cus_trial"), trialDays: 7 });
    expect((await h.database.db.selectFrom("subscriptions").select("trial_days").where("id", "=", id).executeTakeFirstOrThrow()).trial_days).toBe(7);
    bind(checkoutUrl);
    const view = await eventually(async () => {
      const answer = (await h.api("GET", `/v1/subscriptions/${id}`)).json();
      return answer.status === "trialing" && answer;
    }, 10_000, "the trial to start");
    const days = (Date.parse(view.trialEnd) - Date.parse(view.trialStart)) / 86_400_000;
    expect(days).toBeGreaterThan(6);
    expect(days).toBeLessThanOrEqual(7);
    expect(view).toMatchObject({ card: { last4: "4242" }, latestInvoice: null });

    // trialDays 0 overrides the plan's 14 days: charged at once.
    const { id: none, checkoutUrl: noneUrl } = await create({ ...sampleSubscription("trial14", "cus_notrial"), trialDays: 0 });
    bind(noneUrl);
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${none}`)).json().latestInvoice?.status === "paid", 10_000, "the first charge");
  });

  it("stores invoiceInfo on the customer, normalized", async () => {
    await create({ ...sampleSubscription("basic", "cus_inv"), invoiceInfo: { invoiceType: "cloud", carrierType: "CQ0001", carrierId: "ab12345678901234" } });
    const customer = (await h.api("GET", "/v1/customers/cus_inv")).json();
    expect(customer).toMatchObject({ id: "cus_inv", name: "王小明", invoiceInfo: { invoiceType: "cloud", carrierType: "CQ0001", carrierId: "AB12345678901234" } });
    // A later subscription without invoiceInfo keeps the customer's.
    await create(sampleSubscription("basic", "cus_inv"));
    expect((await h.api("GET", "/v1/customers/cus_inv")).json().invoiceInfo).toEqual(customer.invoiceInfo);
  });

  const manyKeys = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
  it.each([
    ["51 metadata keys", { metadata: manyKeys }, /body metadata must NOT have more than 50 properties/],
    ["a metadata key of 41 characters", { metadata: { ["k".repeat(41)]: "v" } }, /body metadata property name "k{41}" must NOT have more than 40 characters/],
    ["an empty metadata key", { metadata: { "": "v" } }, /body metadata property name "" must NOT have fewer than 1 characters/],
    ["a metadata value of 501 characters", { metadata: { note: "x".repeat(501) } }, /body metadata\.note must NOT have more than 500 characters/],
    ["a metadata value that is a number", { metadata: { count: 3 } }, /body metadata\.count must be string/],
    ["metadata as an array", { metadata: ["a"] }, /body metadata must be object/],
    ["trialDays 366", { trialDays: 366 }, /body trialDays must be <= 365/],
    ["trialDays as a string", { trialDays: "7" }, /body trialDays must be integer/],
  ])("refuses %s with a 400 naming the field, writing nothing", async (_what, change, message) => {
    const before = await rowCounts();
    const answer = await h.api("POST", "/v1/subscriptions", { ...sampleSubscription("basic", "cus_refused"), ...change });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().message).toMatch(message);
    expect(await rowCounts()).toEqual(before);
  });

  it.each([
    ["a wrong 統一編號", { invoiceType: "company", buyerIdentifier: "12345672" }, "invoiceInfo.buyerIdentifier"],
    ["a carrier without its number", { invoiceType: "cloud", carrierType: "3J0002" }, "invoiceInfo.carrierId"],
    ["an unknown field", { invoiceType: "company", buyerIdentifier: "04595257", vat: "5%" }, "invoiceInfo.vat"],
  ])("refuses invoiceInfo with %s: 422 naming the field, no Oen page, nothing written", async (_what, invoiceInfo, field) => {
    const before = await rowCounts();
    // Were Oen asked for a page, this would make the answer a 502.
    h.simulator.faults.set([{ on: "checkout", kind: "error_5xx" }]);
    try {
      const answer = await h.api("POST", "/v1/subscriptions", { ...sampleSubscription("basic", "cus_refused"), invoiceInfo });
      expect(answer.statusCode).toBe(422);
      expect(answer.json()).toMatchObject({ error: "invalid_invoice_info", field, message: expect.stringMatching(new RegExp(`^${field.replace(".", "\\.")} `)) });
    } finally {
      h.simulator.faults.clear();
    }
    expect(await rowCounts()).toEqual(before);
  });

  describe("GET /v1/subscriptions", () => {
    const ids = (page: { data: { id: string }[] }) => page.data.map((s) => s.id);
    const list = async (query: string) => {
      const answer = await h.api("GET", `/v1/subscriptions?${query}`);
      expect(answer.statusCode, answer.body).toBe(200);
      return answer.json() as { data: { id: string; status: string; customer: { id: string }; metadata: Record<string, string> }[]; nextCursor: string | null };
    };
    /** A subscription row written directly, at a chosen created_at (microseconds and all). */
    const insertAt = async (id: string, customerId: string, createdAt: string, status = "incomplete") => {
      await sql`insert into subscriptions (id, customer_id, plan_id, status, success_url, failure_url, created_at)
                values (${id}, ${customerId}, 'basic', ${status}, 'https://example.com/ok', 'https://example.com/failed', ${createdAt}::timestamptz)`.execute(h.database.db);
    };

    it("pages newest first, and rows inserted between pages are neither skipped nor repeated", async () => {
      const customer = "cus_page";
      await h.api("PUT", `/v1/customers/${customer}`, { name: "翻頁", email: "page@example.com" });
      const original: string[] = [];
      for (let i = 0; i < 4; i++) original.push((await create({ ...sampleSubscription("basic", customer), metadata: { i: String(i) } })).id);
      // Ties on created_at, down to the microsecond, are ordered by id.
      for (const suffix of ["a", "b", "c", "d", "e"]) {
        await insertAt(`sub_tie_${suffix}`, customer, "2026-11-30T00:00:00.123456Z");
        original.push(`sub_tie_${suffix}`);
      }
      await insertAt("sub_tie_micro", customer, "2026-11-30T00:00:00.123457Z");
      original.push("sub_tie_micro");
      const expected = await h.database.db.selectFrom("subscriptions").select("id").where("customer_id", "=", customer).orderBy("created_at", "desc").orderBy("id", "desc").execute();
      expect(expected.map((r) => r.id).sort()).toEqual([...original].sort());

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await list(`customerId=${customer}&limit=3${cursor === null ? "" : `&cursor=${cursor}`}`);
        expect(page.data.length).toBeLessThanOrEqual(3);
        expect(page.data.every((s) => s.customer.id === customer)).toBe(true);
        seen.push(...ids(page));
        cursor = page.nextCursor;
        pages++;
        // Between pages: a newer subscription through the API, one at the tie's very instant, and an older one.
        await create(sampleSubscription("basic", customer));
        await insertAt(`sub_late_${pages}`, customer, "2026-11-30T00:00:00.123456Z");
        await insertAt(`sub_old_${pages}`, customer, "2020-01-01T00:00:00.000000Z");
      } while (cursor !== null);

      expect(new Set(seen).size).toBe(seen.length);
      const originalSeen = seen.filter((id) => original.includes(id));
      expect(originalSeen).toEqual(expected.map((r) => r.id));
      expect(pages).toBeGreaterThanOrEqual(4);
    });

    it("filters by status, defaults to 20 a page, and ends with nextCursor null", async () => {
      await h.api("PUT", "/v1/customers/cus_many", { name: "多", email: "many@example.com" });
      for (let i = 0; i < 22; i++) await insertAt(`sub_many_${String(i).padStart(2, "0")}`, "cus_many", `2026-11-0${1 + (i % 9)}T00:00:00.000000Z`, i < 2 ? "canceled" : "incomplete");
      const first = await list("customerId=cus_many");
      expect(first.data).toHaveLength(20);
      expect(first.nextCursor).not.toBeNull();
      const second = await list(`customerId=cus_many&cursor=${first.nextCursor}`);
      expect(second.data).toHaveLength(2);
      expect(second.nextCursor).toBeNull();
      const canceled = await list("customerId=cus_many&status=canceled&limit=100");
      expect(ids(canceled).sort()).toEqual(["sub_many_00", "sub_many_01"]);
      expect(canceled.nextCursor).toBeNull();
      expect((await list("customerId=nobody")).data).toEqual([]);
      // Without a filter: every subscription, each a full view.
      const all = await list("limit=100");
      expect(all.data.length).toBe((await rowCounts()).subscriptions);
      expect(all.data.find((s) => s.id === "sub_many_00")).toMatchObject({ status: "canceled", metadata: {}, card: null, latestInvoice: null });
    });

    it("shows the same views as GET /v1/subscriptions/:id", async () => {
      const page = await list("customerId=cus_trial");
      for (const view of page.data) expect(view).toEqual((await h.api("GET", `/v1/subscriptions/${view.id}`)).json());
      expect(page.data[0]).toMatchObject({ status: "trialing", card: { last4: "4242" } });
    });

    const stale = Buffer.from(JSON.stringify(["2026-02-30T00:00:00.000000Z", "sub_x"])).toString("base64url");
    it.each([
      ["limit 0", "limit=0", /querystring limit must be >= 1/],
      ["limit 101", "limit=101", /querystring limit must be <= 100/],
      ["a limit that is not a number", "limit=ten", /querystring limit must be integer/],
      ["a fractional limit", "limit=1.5", /querystring limit must be integer/],
      ["two limits", "limit=1&limit=2", /querystring limit must be integer/],
      ["an unknown status", "status=paused", /querystring status must be equal to one of the allowed values/],
      ["a customerId that is not an identifier", "customerId=a%3Ab", /querystring customerId must match pattern/],
      ["an unknown parameter", "sort=asc", /must NOT have additional properties "sort"/],
      ["a cursor that is not one", "cursor=garbage", /querystring cursor is not a nextCursor this API gave out/],
      ["a cursor on a day that does not exist", `cursor=${stale}`, /querystring cursor is not a nextCursor/],
    ])("answers 400 naming the parameter for %s", async (_what, query, message) => {
      const answer = await h.api("GET", `/v1/subscriptions?${query}`);
      expect(answer.statusCode).toBe(400);
      expect(answer.json().message).toMatch(message);
    });
  });
});
