import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";
import { captureTokenWebhook, checkoutIdOf } from "../support/webhook-capture.ts";

async function post(h: Harness, body: unknown, contentType = "application/json") {
  return fetch(`${h.service.url}/webhooks/oen`, { method: "POST", headers: { "content-type": contentType }, body: typeof body === "string" ? body : JSON.stringify(body) });
}

async function counts(h: Harness) {
  const count = async (table: "payment_tokens" | "invoices" | "charge_attempts" | "oen_webhook_events") =>
    Number((await h.database.db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
  return { tokens: await count("payment_tokens"), invoices: await count("invoices"), attempts: await count("charge_attempts"), events: await count("oen_webhook_events") };
}

describe("POST /webhooks/oen", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.api("PUT", "/v1/plans/basic", { ...samplePlan, amount: 300 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("the same token webhook delivered 5 times concurrently gives one token, one invoice, one charge", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_dup"))).json();
    const body = await captureTokenWebhook(h, checkoutIdOf(subscription.checkoutUrl));
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(h, body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().latestInvoice?.status === "paid");
    // Give any straggling duplicate time to (not) do anything.
    await new Promise((r) => setTimeout(r, 500));
    const tokens = await h.database.db.selectFrom("payment_tokens").selectAll().where("subscription_id", "=", subscription.id).execute();
    const invoices = await h.database.db.selectFrom("invoices").selectAll().where("subscription_id", "=", subscription.id).execute();
    expect(tokens).toHaveLength(1);
    expect(invoices).toHaveLength(1);
    expect(h.simulator.ledger.successfulCharges(invoices[0]!.id)).toHaveLength(1);
    expect(h.simulator.ledger.byOrder(`${invoices[0]!.id}-1`)).toHaveLength(1);
  });

  it("a token webhook for a page we never opened stores nothing and is recorded as rejected", async () => {
    const before = await counts(h);
    const forged = { purpose: "token", id: "A".repeat(27), transactionId: "A".repeat(27), merchantId: "testshop", success: true, token: "forged-token-value", paymentInfo: "4242", customId: "sub_x.subscribe" };
    expect((await post(h, forged)).status).toBe(200);
    const event = await eventually(() => h.database.db.selectFrom("oen_webhook_events").selectAll().where("oen_id", "=", "A".repeat(27)).executeTakeFirst());
    expect(event).toMatchObject({ outcome: "rejected", reason: "unknown_checkout" });
    expect(JSON.stringify(event.body)).not.toContain("forged-token-value");
    const after = await counts(h);
    expect(after).toEqual({ ...before, events: before.events + 1 });
  });

  it("rejects a webhook for our page whose customId or merchantId does not match", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_forge"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const base = { purpose: "token", id, transactionId: id, merchantId: "testshop", success: true, token: "tok-of-an-attacker", paymentInfo: "0000" };
    await post(h, { ...base, customId: `${subscription.id}.subscribe` /* guessable, but not what we sent */ });
    await post(h, { ...base, customId: `${subscription.id}.subscribe`, merchantId: "othershop" });
    const events = await eventually(async () => {
      const rows = await h.database.db.selectFrom("oen_webhook_events").selectAll().where("oen_id", "=", id).execute();
      return rows.length === 2 && rows;
    });
    expect(events.map((e) => e.reason).sort()).toEqual(["custom_id_mismatch", "merchant_mismatch"]);
    expect(await h.database.db.selectFrom("payment_tokens").selectAll().where("subscription_id", "=", subscription.id).execute()).toEqual([]);
    expect((await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().status).toBe("incomplete");
  });

  it("a forged body that reuses a genuine checkout id does not block the genuine webhook", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_race"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const forged = { purpose: "token", id, transactionId: id, merchantId: "testshop", success: true, token: "attacker-token", customId: "sub_evil.subscribe" };
    expect((await post(h, forged)).status).toBe(200);
    await eventually(() => h.database.db.selectFrom("oen_webhook_events").select("id").where("oen_id", "=", id).executeTakeFirst());
    const genuine = await captureTokenWebhook(h, id);
    expect((await post(h, genuine)).status).toBe(200);
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().latestInvoice?.status === "paid");
  });

  it("a failed binding marks the page failed and leaves the subscription waiting for a card", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_fail"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const body = await captureTokenWebhook(h, id, "4000000000000102");
    expect(body).toMatchObject({ success: false, message: "3DS_ABANDONED" });
    expect((await post(h, body)).status).toBe(200);
    const session = await eventually(async () => {
      const row = await h.database.db.selectFrom("checkout_sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      return row.status === "failed" && row;
    });
    expect(session.failure_message).toBe("3DS_ABANDONED");
    const event = await h.database.db.selectFrom("platform_events").select(["type", "payload"]).where("dedupe_key", "=", `subscription.checkout_failed:${id}`).executeTakeFirstOrThrow();
    expect(event.payload).toMatchObject({ type: "subscription.checkout_failed", data: { subscriptionId: subscription.id, message: "3DS_ABANDONED" } });
    expect((await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().status).toBe("incomplete");
  });

  it.each([
    ["not JSON", "{purpose:", "application/json", /JSON/i],
    ["no purpose", { id: "x" }, "application/json", /purpose/],
    ["token webhook without id", { purpose: "token", merchantId: "testshop", success: true, token: "t" }, "application/json", /id/],
    ["success without a token", { purpose: "token", id: "B".repeat(27), merchantId: "testshop", success: true }, "application/json", /token/],
    ["success that is a string", { purpose: "token", id: "B".repeat(27), merchantId: "testshop", success: "yes", token: "t" }, "application/json", /success/],
    ["an id with odd characters", { purpose: "token", id: "a:b/c", merchantId: "testshop", success: false }, "application/json", /id/],
    ["a form post", "purpose=token", "application/x-www-form-urlencoded", /content-type|media type/i],
  ])("answers 4xx with a message and writes nothing for %s", async (_what, body, contentType, message) => {
    const before = await counts(h);
    const answer = await post(h, body, contentType);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(((await answer.json()) as { message: string }).message).toMatch(message);
    await new Promise((r) => setTimeout(r, 100));
    expect(await counts(h)).toEqual(before);
  });

  it("accepts purposes it does not act on and records them as ignored", async () => {
    expect((await post(h, { purpose: "charge", id: "C".repeat(27), status: "charged", merchantId: "testshop" })).status).toBe(200);
    const event = await eventually(() => h.database.db.selectFrom("oen_webhook_events").selectAll().where("oen_id", "=", "C".repeat(27)).executeTakeFirst());
    expect(event.outcome).toBe("ignored");
  });
});
