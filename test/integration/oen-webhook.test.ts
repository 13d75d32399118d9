import { createHmac, hkdfSync } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";
import { sealLegacyToken } from "../support/legacy-seal.ts";
import { captureTokenWebhook, checkoutIdOf } from "../support/webhook-capture.ts";

async function post(h: Harness, body: unknown, contentType = "application/json") {
  return fetch(`${h.service.url}/webhooks/oen`, { method: "POST", headers: { "content-type": contentType }, body: typeof body === "string" ? body : JSON.stringify(body) });
}

/** The sample kept of a webhook that stored nothing. */
async function sampleOf(h: Harness, oenId: string) {
  return eventually(() => h.database.db.selectFrom("oen_webhook_samples").selectAll().where("oen_id", "=", oenId).executeTakeFirst(), 10_000, `a sample of ${oenId}`);
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

  it("a token webhook for a page we never opened stores nothing (no job, no row) and is counted and sampled", async () => {
    const before = await counts(h);
    const forged = { purpose: "token", id: "A".repeat(27), transactionId: "A".repeat(27), merchantId: "testshop", success: true, token: "forged-token-value", paymentInfo: "4242", customId: "sub_x.subscribe" };
    expect((await post(h, forged)).status).toBe(200);
    const sample = await sampleOf(h, "A".repeat(27));
    expect(sample).toMatchObject({ purpose: "token", outcome: "rejected", reason: "unknown_checkout", source: "127.0.0.1" });
    expect(sample.body).toMatchObject({ merchantId: "testshop", hadToken: true, fields: expect.arrayContaining(["purpose", "id", "token"]) });
    expect(JSON.stringify(sample)).not.toContain("forged-token-value");
    await new Promise((r) => setTimeout(r, 300));
    expect(await counts(h)).toEqual(before);
    expect(await h.database.db.selectFrom("webhook_inbox").select("id").where("job_id", "like", `oen-token-${"A".repeat(27)}-%`).execute()).toEqual([]);
    expect((await h.service.deps.queues.webhooks.getJobs(["waiting", "active", "completed", "failed"])).filter((j) => j.id!.includes("A".repeat(27)))).toEqual([]);
    await eventually(async () => {
      const tally = await h.database.db.selectFrom("oen_webhook_tallies").select("count").where("purpose", "=", "token").where("reason", "=", "unknown_checkout").executeTakeFirst();
      return Number(tally?.count ?? 0) >= 1;
    }, 15_000, "the webhook counted");
  });

  it("stores nothing for a webhook for our page whose customId or merchantId does not match", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_forge"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const base = { purpose: "token", id, transactionId: id, merchantId: "testshop", success: true, token: "tok-of-an-attacker", paymentInfo: "0000" };
    await post(h, { ...base, customId: `${subscription.id}.subscribe` /* guessable, but not what we sent */ });
    await post(h, { ...base, customId: `${subscription.id}.subscribe`, merchantId: "othershop" });
    const samples = await eventually(async () => {
      const rows = await h.database.db.selectFrom("oen_webhook_samples").selectAll().where("oen_id", "=", id).execute();
      return rows.length === 2 && rows;
    });
    expect(samples.map((e) => e.reason).sort()).toEqual(["custom_id_mismatch", "merchant_mismatch"]);
    expect(await h.database.db.selectFrom("webhook_inbox").select("id").where("job_id", "like", `oen-token-${id}-%`).execute()).toEqual([]);
    expect(await h.database.db.selectFrom("payment_tokens").selectAll().where("subscription_id", "=", subscription.id).execute()).toEqual([]);
    expect((await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().status).toBe("incomplete");
  });

  it("a forged body that reuses a genuine checkout id does not block the genuine webhook", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_race"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const forged = { purpose: "token", id, transactionId: id, merchantId: "testshop", success: true, token: "attacker-token", customId: "sub_evil.subscribe" };
    expect((await post(h, forged)).status).toBe(200);
    await sampleOf(h, id);
    const genuine = await captureTokenWebhook(h, id);
    expect((await post(h, genuine)).status).toBe(200);
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().latestInvoice?.status === "paid");
  });

  it("derives the job id's digest from the keyring for that purpose, not from the encryption key itself", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_digest"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const genuine = await captureTokenWebhook(h, id);
    expect((await post(h, genuine)).status).toBe(200);
    const { job_id } = await eventually(() => h.database.db.selectFrom("webhook_inbox").select("job_id").where("job_id", "like", `oen-token-${id}-%`).executeTakeFirst());
    const { id: _id, merchantId, customId, success, token, paymentInfo, message } = genuine;
    const content = JSON.stringify([id, merchantId, customId, success, token, paymentInfo, message]);
    const keyring = h.config.tokenKeys;
    const withRawKey = createHmac("sha256", keyring.keys.get(keyring.primaryId)!).update(content).digest("hex").slice(0, 32);
    const withDerivedKey = createHmac("sha256", Buffer.from(hkdfSync("sha256", keyring.keys.get(keyring.primaryId)!, Buffer.alloc(0), "oen-webhook-job-id", 32))).update(content).digest("hex").slice(0, 32);
    expect(job_id).toBe(`oen-token-${id}-${withDerivedKey}`);
    expect(job_id).not.toContain(withRawKey);
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
    const event = await h.database.db.selectFrom("platform_events").select(["type", "data"]).where("dedupe_key", "=", `subscription.checkout_failed:${id}`).executeTakeFirstOrThrow();
    expect(event).toMatchObject({ type: "subscription.checkout_failed", data: { subscriptionId: subscription.id, message: "3DS_ABANDONED" } });
    expect((await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().status).toBe("incomplete");
  });

  it("a page whose binding failed cannot later succeed", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_fail_then_ok"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const failed = await captureTokenWebhook(h, id, "4000000000000101");
    expect((await post(h, failed)).status).toBe(200);
    await eventually(async () => (await h.database.db.selectFrom("checkout_sessions").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status === "failed");
    // The same page "succeeding" afterwards: genuine ids and customId, a token from elsewhere.
    expect((await post(h, { ...failed, success: true, token: "token-from-elsewhere", paymentInfo: "4242", message: "" })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 700));
    expect((await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().status).toBe("incomplete");
    expect(await h.database.db.selectFrom("payment_tokens").select("id").where("subscription_id", "=", subscription.id).execute()).toEqual([]);
  });

  it("a token webhook for a page past Oen's page life and its late-delivery margin binds nothing", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_stale_page"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const genuine = await captureTokenWebhook(h, id);
    // The page expired an hour ago (10 minutes after it was opened).
    await h.database.db.updateTable("checkout_sessions").set({ expires_at: new Date(Date.now() - 3_600_000) }).where("id", "=", id).execute();
    expect((await post(h, genuine)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 700));
    expect((await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().status).toBe("incomplete");
    expect(await h.database.db.selectFrom("webhook_inbox").select("id").where("job_id", "like", `oen-token-${id}-%`).execute()).toEqual([]);
  });

  it.each([
    ["not JSON", "{purpose:", "application/json", /JSON/i],
    ["no purpose", { id: "x" }, "application/json", /purpose/],
    ["token webhook without id", { purpose: "token", merchantId: "testshop", success: true, token: "t" }, "application/json", /id/],
    ["an empty id", { purpose: "token", id: "", merchantId: "testshop", success: false }, "application/json", /id/],
    ["an id longer than any checkout id", { purpose: "token", id: "B".repeat(300), merchantId: "testshop", success: false }, "application/json", /id/],
    ["an id that is an object", { purpose: "token", id: { value: "B" }, merchantId: "testshop", success: false }, "application/json", /id/],
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

  // "Accept every body that carries a checkout id we know; reject only what cannot be ours":
  // what Oen adds or changes outside our schema must not cost a customer their card.
  it.each([
    ["a NUL character in the message", { message: "bound\u0000 ok" }],
    ["a 5,000-character message", { message: "m".repeat(5_000) }],
    ["fields outside our schema, of odd types", { transactionId: "tx-with-dash", paymentInfo: "4242", extra: { nested: ["x\u0000"] }, amount: "12", message: null }],
  ])("a token webhook for our checkout with %s activates the subscription", async (_what, change) => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", `cus_odd_${Math.random().toString(36).slice(2, 8)}`))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const body = { ...(await captureTokenWebhook(h, id)), ...change };
    expect((await post(h, body)).status).toBe(200);
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().latestInvoice?.status === "paid", 20_000, "the subscription active and paid");
    const event = await h.database.db.selectFrom("oen_webhook_events").selectAll().where("oen_id", "=", id).executeTakeFirstOrThrow();
    expect(event.outcome).toBe("accepted");
    expect(JSON.stringify(event.body)).not.toContain("\\u0000");
    expect(JSON.stringify(event.body).length).toBeLessThan(2_000);
    const kept = await h.database.db.selectFrom("webhook_inbox").select("payload").where("job_id", "like", `oen-token-${id}-%`).executeTakeFirstOrThrow();
    expect(JSON.stringify(kept.payload)).not.toContain(body.token!);
  });

  it("a failed binding whose message holds a NUL and 5,000 characters marks the page failed with the message bounded", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_fail_nul"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const body = { ...(await captureTokenWebhook(h, id, "4000000000000102")), message: `3DS\u0000_ABANDONED ${"x".repeat(5_000)}` };
    expect((await post(h, body)).status).toBe(200);
    const session = await eventually(async () => {
      const row = await h.database.db.selectFrom("checkout_sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      return row.status === "failed" && row;
    });
    expect(session.failure_message).toMatch(/^3DS_ABANDONED x+/);
    expect(session.failure_message!.length).toBeLessThanOrEqual(1_000);
  });

  it("accepts a token webhook that cannot be applied and records why, leaving the page open for the real one", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_no_token"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const genuine = await captureTokenWebhook(h, id);
    const { token: _token, ...withoutToken } = genuine;
    expect((await post(h, withoutToken)).status).toBe(200);
    const event = await eventually(() => h.database.db.selectFrom("oen_webhook_events").selectAll().where("oen_id", "=", id).executeTakeFirst());
    expect(event).toMatchObject({ outcome: "rejected", reason: "missing_token" });
    expect((await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().status).toBe("incomplete");
    expect((await post(h, genuine)).status).toBe(200);
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().latestInvoice?.status === "paid");
  });

  it.each([
    ["an id with odd characters", { purpose: "token", id: "a:b/c-d", merchantId: "testshop", success: false }, "a:b/c-d"],
    ["success that is a string", { purpose: "token", id: "H".repeat(27), merchantId: "testshop", success: "yes", token: "t" }, "H".repeat(27)],
    ["a merchantId that is a number", { purpose: "token", id: "I".repeat(27), merchantId: 42, success: true, token: "t" }, "I".repeat(27)],
  ])("answers 200 to, and samples as rejected, a token webhook with %s", async (_what, body, oenId) => {
    expect((await post(h, body)).status).toBe(200);
    expect(await sampleOf(h, oenId)).toMatchObject({ outcome: "rejected", reason: "unknown_checkout" });
  });

  it("applies a job queued by an older version with a NUL and odd types in it", async () => {
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_legacy"))).json();
    const id = checkoutIdOf(subscription.checkoutUrl);
    const genuine = await captureTokenWebhook(h, id);
    const job = {
      kind: "token",
      checkoutId: id,
      merchantId: genuine.merchantId,
      customId: genuine.customId,
      success: true,
      last4: 4242,
      message: { text: "odd\u0000" },
      sealedToken: sealLegacyToken(h.config.tokenKeys, genuine.token!),
      receivedAt: new Date().toISOString(),
    };
    await h.service.deps.queues.webhooks.add("token", job as never, { jobId: `oen-token-${id}-legacy` });
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().latestInvoice?.status === "paid", 20_000, "the legacy job applied");
    expect((await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json().card).toEqual({ last4: "4242" });
  });

  it("acknowledges purposes it does not act on and counts them, storing no job and no row", async () => {
    const before = await counts(h);
    expect((await post(h, { purpose: "charge", id: "C".repeat(27), status: "charged", merchantId: "testshop" })).status).toBe(200);
    expect((await post(h, { purpose: "made-up", id: "J".repeat(27) })).status).toBe(200);
    expect(await sampleOf(h, "C".repeat(27))).toMatchObject({ purpose: "charge", outcome: "ignored", reason: "purpose_not_acted_on" });
    expect(await sampleOf(h, "J".repeat(27))).toMatchObject({ purpose: "made-up", outcome: "ignored" });
    const tallies = await eventually(async () => {
      const rows = await h.database.db.selectFrom("oen_webhook_tallies").select(["purpose", "count"]).where("outcome", "=", "ignored").execute();
      return rows.length === 2 && rows;
    }, 15_000, "both counted");
    // A made-up purpose is counted as "other": a forger cannot add rows by inventing purposes.
    expect(tallies.map((t) => t.purpose).sort()).toEqual(["charge", "other"]);
    expect(await counts(h)).toEqual(before);
    expect(await h.database.db.selectFrom("webhook_inbox").select("id").where(sql<boolean>`payload->>'kind' = 'other'`).execute()).toEqual([]);
  });
});
