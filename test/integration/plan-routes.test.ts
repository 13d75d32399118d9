import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { samplePlan, startHarness, type Harness } from "../support/harness.ts";

describe("plans API", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("stores trialDays and selfService, 0 and false when left out, and a replacement resets what it leaves out", async () => {
    const trial = await h.api("PUT", "/v1/plans/trial", { ...samplePlan, trialDays: 14, selfService: true });
    expect(trial.statusCode).toBe(200);
    expect(trial.json()).toEqual({
      id: "trial",
      name: samplePlan.name,
      amount: 899,
      currency: "TWD",
      interval: "month",
      intervalCount: 1,
      productCode: "PREMIUM-M",
      description: "Premium subscription",
      unit: "month",
      trialDays: 14,
      selfService: true,
    });
    const row = await h.database.db.selectFrom("plans").select(["trial_days", "self_service"]).where("id", "=", "trial").executeTakeFirstOrThrow();
    expect(row).toEqual({ trial_days: 14, self_service: true });
    const replaced = await h.api("PUT", "/v1/plans/trial", samplePlan);
    expect(replaced.json()).toMatchObject({ trialDays: 0, selfService: false });
  });

  it.each([
    ["trialDays 366", { trialDays: 366 }, /body trialDays must be <= 365/],
    ["trialDays -1", { trialDays: -1 }, /body trialDays must be >= 0/],
    ["a fractional trialDays", { trialDays: 1.5 }, /body trialDays must be integer/],
    ["selfService as a string", { selfService: "yes" }, /body selfService must be boolean/],
  ])("refuses a plan with %s, naming the field", async (_what, change, message) => {
    const answer = await h.api("PUT", "/v1/plans/bad", { ...samplePlan, ...change });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().message).toMatch(message);
    expect(await h.database.db.selectFrom("plans").select("id").where("id", "=", "bad").executeTakeFirst()).toBeUndefined();
  });

  it("lists every plan in a stable order (creation), unchanged by a replacement", async () => {
    for (const id of ["zeta", "alpha", "mid"]) await h.api("PUT", `/v1/plans/${id}`, samplePlan);
    const first = await h.api("GET", "/v1/plans");
    expect(first.statusCode).toBe(200);
    const ids = first.json().data.map((p: { id: string }) => p.id);
    expect(ids).toEqual(["trial", "zeta", "alpha", "mid"]);
    await h.api("PUT", "/v1/plans/zeta", { ...samplePlan, amount: 100 });
    const again = (await h.api("GET", "/v1/plans")).json().data;
    expect(again.map((p: { id: string }) => p.id)).toEqual(ids);
    expect(again[1]).toMatchObject({ id: "zeta", amount: 100, trialDays: 0, selfService: false });
  });

  it("shows one plan, and 404 naming an unknown id", async () => {
    const plan = await h.api("GET", "/v1/plans/alpha");
    expect(plan.statusCode).toBe(200);
    expect(plan.json()).toMatchObject({ id: "alpha", amount: 899, trialDays: 0, selfService: false });
    const missing = await h.api("GET", "/v1/plans/nope");
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: "not_found", message: 'plan "nope" does not exist' });
    expect((await h.api("GET", "/v1/plans/a%3Ab")).statusCode).toBe(400);
  });

  it("publishes the plan, customer and subscription-list routes in OpenAPI", async () => {
    const openapi = (await h.service.app!.inject("/openapi.json")).json();
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(["/v1/plans", "/v1/plans/{id}", "/v1/customers/{id}", "/v1/subscriptions"]));
    expect(Object.keys(openapi.paths["/v1/plans/{id}"])).toEqual(expect.arrayContaining(["put", "get"]));
    expect(Object.keys(openapi.paths["/v1/customers/{id}"])).toEqual(expect.arrayContaining(["put", "get"]));
    expect(Object.keys(openapi.paths["/v1/subscriptions"])).toEqual(expect.arrayContaining(["post", "get"]));
  });
});
