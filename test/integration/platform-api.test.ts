import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";

describe("platform API", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.api("PUT", "/v1/plans/basic", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  const rowCounts = async () => ({
    plans: (await h.database.db.selectFrom("plans").select("id").execute()).length,
    subscriptions: (await h.database.db.selectFrom("subscriptions").select("id").execute()).length,
    customers: (await h.database.db.selectFrom("customers").select("id").execute()).length,
  });

  it.each([
    ["no header", undefined],
    ["a wrong key", "Bearer nope"],
    ["the key without Bearer", API_KEY],
    ["basic auth", `Basic ${Buffer.from(`x:${API_KEY}`).toString("base64")}`],
  ])("refuses /v1 with %s", async (_what, authorization) => {
    const answer = await h.service.app!.inject({ method: "GET", url: "/v1/subscriptions/sub_x", headers: authorization === undefined ? {} : { authorization } });
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toEqual({ error: "unauthorized", message: expect.stringContaining("API key") });
  });

  it("creates and replaces plans", async () => {
    const first = await h.api("PUT", "/v1/plans/gold", { ...samplePlan, amount: 1200 });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ id: "gold", amount: 1200, currency: "TWD", interval: "month", intervalCount: 1 });
    const second = await h.api("PUT", "/v1/plans/gold", { ...samplePlan, amount: 1500, interval: "year" });
    expect(second.json()).toMatchObject({ id: "gold", amount: 1500, interval: "year" });
  });

  it.each([
    ["amount 0", { ...samplePlan, amount: 0 }, /amount must be >= 1/],
    ["a fractional amount", { ...samplePlan, amount: 9.5 }, /amount must be integer/],
    ["an amount as a string", { ...samplePlan, amount: "899" }, /amount must be integer/],
    ["200,000 TWD (needs Oen's high-value activation)", { ...samplePlan, amount: 200_000 }, /amount must be <= 199999/],
    ["an unknown interval", { ...samplePlan, interval: "fortnight" }, /interval must be equal to one of the allowed values/],
    ["intervalCount 0", { ...samplePlan, intervalCount: 0 }, /intervalCount must be >= 1/],
    ["a missing name", { ...samplePlan, name: undefined }, /must have required property 'name'/],
    ["an unknown field", { ...samplePlan, price: 1 }, /must NOT have additional properties "price"/],
  ])("refuses a plan with %s, with a message, writing nothing", async (_what, body, message) => {
    const before = await rowCounts();
    const answer = await h.api("PUT", "/v1/plans/bad", body);
    expect(answer.statusCode).toBe(400);
    expect(answer.json().message).toMatch(message);
    expect(await rowCounts()).toEqual(before);
  });

  it("refuses a plan id that is not an identifier", async () => {
    const answer = await h.api("PUT", "/v1/plans/a%3Ab", samplePlan);
    expect(answer.statusCode).toBe(400);
    expect(answer.json().message).toMatch(/params/);
  });

  it.each([
    ["an unknown plan", { ...sampleSubscription("nope") }, 422, /plan "nope" does not exist/],
    ["a bad email", { ...sampleSubscription("basic"), customer: { id: "c", name: "n", email: "not-an-email" } }, 400, /email/],
    ["no successUrl", { ...sampleSubscription("basic"), successUrl: undefined }, 400, /successUrl/],
    ["a relative failureUrl", { ...sampleSubscription("basic"), failureUrl: "/billing/failed" }, 400, /failureUrl/],
    ["a javascript: URL", { ...sampleSubscription("basic"), successUrl: "javascript:alert(1)" }, 400, /successUrl/],
    ["an empty body", undefined, 400, /body/],
  ])("refuses a subscription with %s", async (_what, body, status, message) => {
    const before = await rowCounts();
    const answer = await h.api("POST", "/v1/subscriptions", body);
    expect(answer.statusCode).toBe(status);
    expect(answer.json().message).toMatch(message);
    expect(await rowCounts()).toEqual(before);
  });

  it("answers a retried create with the same Idempotency-Key with the first answer, once, even concurrently", async () => {
    const post = (key: string, body: unknown) =>
      h.service.app!.inject({ method: "POST", url: "/v1/subscriptions", headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": key }, payload: body as object });
    const body = sampleSubscription("basic", "cus_idem");
    const answers = await Promise.all([post("idem-1", body), post("idem-1", body), post("idem-1", body)]);
    const created = answers.filter((a) => a.statusCode === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(answers.every((a) => a.statusCode === 201 || a.statusCode === 409)).toBe(true);
    const again = await post("idem-1", body);
    expect(again.statusCode).toBe(201);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual(created[0]!.json());
    const rows = await h.database.db.selectFrom("subscriptions").select("id").where("customer_id", "=", "cus_idem").execute();
    expect(rows).toHaveLength(1);

    const reused = await post("idem-1", { ...body, planId: "gold" });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().message).toMatch(/different request body/);
    expect((await post("bad key with spaces", body)).statusCode).toBe(400);
  });

  it("answers 404 for a subscription that does not exist", async () => {
    const answer = await h.api("GET", "/v1/subscriptions/sub_missing");
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toEqual({ error: "not_found", message: 'subscription "sub_missing" does not exist' });
    expect((await h.api("GET", "/v1/subscriptions/sub_missing/invoices")).statusCode).toBe(404);
  });

  it("answers 502 with a message when Oen refuses to open a page, and writes nothing", async () => {
    h.simulator.faults.set([{ on: "checkout", kind: "error_5xx" }]);
    try {
      const before = await rowCounts();
      const answer = await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_502"));
      expect(answer.statusCode).toBe(502);
      expect(answer.json().message).toMatch(/Oen could not open/);
      expect(await rowCounts()).toEqual(before);
    } finally {
      h.simulator.faults.clear();
    }
  });

  it("cancels an incomplete subscription at once, and refuses to cancel it twice", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_cancel"))).json();
    const canceled = await h.api("POST", `/v1/subscriptions/${subscription.id}/cancel`, { atPeriodEnd: true });
    expect(canceled.statusCode).toBe(200);
    expect(canceled.json()).toMatchObject({ status: "canceled", cancelAtPeriodEnd: false });
    const again = await h.api("POST", `/v1/subscriptions/${subscription.id}/cancel`, { atPeriodEnd: false });
    expect(again.statusCode).toBe(409);
    expect((await h.api("POST", `/v1/subscriptions/${subscription.id}/cancel`, {})).statusCode).toBe(400);
  });

  it("serves health, readiness, OpenAPI and a password-protected Bull Board", async () => {
    const app = h.service.app!;
    expect((await app.inject("/healthz")).json()).toEqual({ status: "ok" });
    expect((await app.inject("/readyz")).json()).toEqual({ status: "ready", postgres: "ok", redis: "ok", webhooks: "ok" });
    const openapi = (await app.inject("/openapi.json")).json();
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(["/v1/plans/{id}", "/v1/subscriptions", "/v1/subscriptions/{id}", "/webhooks/oen"]));
    const metrics = await app.inject("/metrics");
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/billing_subscriptions\{status="canceled"\} 1/);
    expect(metrics.body).toMatch(/billing_queue_jobs\{queue="charges",state="waiting"\} \d+/);
    expect(metrics.body).toContain("billing_charge_attempts_unresolved 0");
    expect((await app.inject("/admin/queues")).statusCode).toBe(401);
    const wrong = Buffer.from("ops:wrong").toString("base64");
    expect((await app.inject({ url: "/admin/queues", headers: { authorization: `Basic ${wrong}` } })).statusCode).toBe(401);
    const right = Buffer.from("ops:ops-password").toString("base64");
    const board = await app.inject({ url: "/admin/queues", headers: { authorization: `Basic ${right}` } });
    expect(board.statusCode).toBe(200);
    const queues = await app.inject({ url: "/admin/queues/api/queues", headers: { authorization: `Basic ${right}` } });
    expect(queues.json().queues.map((q: { name: string }) => q.name).sort()).toEqual(expect.arrayContaining(["charges", "oen-webhooks", "renewals"]));
  });
});
