import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

// Every route that moves money or state and is marked * in DESIGN.md: no Idempotency-Key → 400
// and nothing done; the same key twice → one effect and the first answer again.
describe("routes that require an Idempotency-Key", () => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await startHarness();
    await h.api("PUT", "/v1/plans/basic", { ...samplePlan, amount: 300 });
    await h.api("PUT", "/v1/plans/plus", { ...samplePlan, amount: 600 });
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (path: string, body: unknown, key?: string) =>
    h.service.app!.inject({ method: "POST", url: path, headers: { authorization: `Bearer ${API_KEY}`, ...(key === undefined ? {} : { "idempotency-key": key }) }, payload: body as object });

  async function paid() {
    const { id } = await subscribeWithCard(h, "basic", `cus_${n++}`);
    const invoiceId = await eventually(async () => {
      const [latest] = (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data;
      return latest?.status === "paid" && (latest.id as string);
    }, 10_000, "the first invoice paid");
    return { id, invoiceId };
  }

  const routes = [
    {
      name: "plan-change",
      prepare: async () => (await paid()).id,
      path: (id: string) => `/v1/subscriptions/${id}/plan-change`,
      body: { planId: "plus" },
      otherBody: { planId: "plus", prorate: false },
      effects: async (id: string) => (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data.length,
    },
    {
      name: "resume",
      prepare: async () => {
        const { id } = await paid();
        await h.api("POST", `/v1/subscriptions/${id}/cancel`, { atPeriodEnd: true });
        return id;
      },
      path: (id: string) => `/v1/subscriptions/${id}/resume`,
      body: {},
      otherBody: undefined,
      effects: async (id: string) => (await h.database.db.selectFrom("platform_events").select("id").where("type", "=", "subscription.resumed").where("dedupe_key", "like", `%${id}%`).execute()).length,
    },
    {
      name: "terminate",
      prepare: async () => (await paid()).id,
      path: (id: string) => `/v1/subscriptions/${id}/terminate`,
      body: { refund: "full" },
      otherBody: { refund: "none" },
      effects: async (id: string) => (await h.database.db.selectFrom("refunds as r").innerJoin("invoices as i", "i.id", "r.invoice_id").select("r.id").where("i.subscription_id", "=", id).execute()).length,
    },
    {
      name: "refunds",
      prepare: async () => (await paid()).invoiceId,
      path: (id: string) => `/v1/invoices/${id}/refunds`,
      body: { amount: 100 },
      otherBody: { amount: 50 },
      effects: async (id: string) => (await h.database.db.selectFrom("refunds").select("id").where("invoice_id", "=", id).execute()).length,
    },
  ];

  it.each(routes)("$name: no key → 400 and nothing done; the same key twice → one effect, the first answer", async (route) => {
    const target = await route.prepare();
    const before = await route.effects(target);
    const missing = await post(route.path(target), route.body);
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: "idempotency_key_required" });
    expect(await route.effects(target)).toBe(before);

    const key = randomUUID();
    const first = await post(route.path(target), route.body, key);
    expect(first.statusCode).toBeLessThan(300);
    const again = await post(route.path(target), route.body, key);
    expect([again.statusCode, again.headers["idempotent-replayed"]]).toEqual([first.statusCode, "true"]);
    expect(again.json()).toEqual(first.json());
    expect(await route.effects(target)).toBe(before + 1);
    if (route.otherBody !== undefined) expect((await post(route.path(target), route.otherBody, key)).statusCode).toBe(422);
  });
});
