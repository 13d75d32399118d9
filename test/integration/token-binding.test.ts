import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { revealToken } from "../../src/vault/token-vault.ts";
import { TokenDecryptionError } from "../../src/vault/token-cipher.ts";
import { runSweep } from "../../src/renewals/run-sweep.ts";
import { sealLegacyToken } from "../support/legacy-seal.ts";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";
import { checkoutIdOf } from "../support/webhook-capture.ts";

// Invariant 6: a sealed token opens only for its own checkout session and its own row,
// and Bull Board (basic auth, for ops) can watch and retry jobs but never move a card.
describe("a sealed card token opens only where it was sealed", () => {
  let h: Harness;
  const basic = `Basic ${Buffer.from("ops:ops-password").toString("base64")}`;
  const board = (method: "GET" | "POST" | "PUT" | "PATCH", path: string, payload?: object) =>
    h.service.app!.inject({ method, url: `/admin/queues/api${path}`, headers: { authorization: basic }, ...(payload === undefined ? {} : { payload }) });
  const view = async (id: string) => (await h.api("GET", `/v1/subscriptions/${id}`)).json();
  const boardJobs = async (status: string) => {
    const answer = await board("GET", `/queues?activeQueue=oen-webhooks&status=${status}&page=1&jobsPerPage=50`);
    expect(answer.statusCode).toBe(200);
    const queue = (answer.json().queues as Array<{ name: string; jobs: Array<{ id: string; name: string; data: Record<string, unknown> }> }>).find((q) => q.name === "oen-webhooks")!;
    return queue.jobs;
  };

  beforeAll(async () => {
    h = await startHarness();
    await h.api("PUT", "/v1/plans/basic", { ...samplePlan, amount: 300 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("a Bull Board user cannot bind the victim's card to another subscription", async () => {
    // The victim binds a card; their webhook job is what Bull Board lists.
    const victim = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_victim"))).json();
    h.simulator.bindCard(checkoutIdOf(victim.checkoutUrl), { cardNumber: TEST_CARDS.success, expiry: "12/39", cvc: "123", email: "victim@example.com" });
    await eventually(async () => (await view(victim.id)).latestInvoice?.status === "paid", 20_000, "the victim's first charge");
    const victimToken = h.simulator.ledger.successfulCharges()[0]!.token;

    // The attacker's own subscription, whose page fails: its job shows the page's customId (today).
    const attacker = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_attacker"))).json();
    const attackerCheckout = checkoutIdOf(attacker.checkoutUrl);
    h.simulator.bindCard(attackerCheckout, { cardNumber: TEST_CARDS.bindingFails, expiry: "12/39", cvc: "123", email: "attacker@example.com" });
    await eventually(async () => (await h.database.db.selectFrom("checkout_sessions").select("status").where("id", "=", attackerCheckout).executeTakeFirstOrThrow()).status === "failed");

    const jobs = await eventually(async () => {
      const completed = await boardJobs("completed");
      return completed.length >= 2 && completed;
    });
    const victimJob = jobs.find((j) => JSON.stringify(j).includes(checkoutIdOf(victim.checkoutUrl)))!;
    const attackerJob = jobs.find((j) => JSON.stringify(j).includes(attackerCheckout))!;
    // The victim's sealed token, from the job data (before the fix) or as if leaked from the inbox.
    const victimDelivery = await h.database.db.selectFrom("webhook_inbox").select("payload").where("job_id", "=", victimJob.id).executeTakeFirstOrThrow();
    const sealedToken = victimJob.data.sealedToken ?? victimDelivery.payload.sealedToken;
    const forged = { ...victimJob.data, ...attackerJob.data, success: true, sealedToken, last4: "4242" };
    const added = await board("POST", "/queues/oen-webhooks/add", { name: "token", data: forged, options: {} });
    const edited = await board("PATCH", `/queues/oen-webhooks/${encodeURIComponent(attackerJob.id)}/update-data`, { jobData: forged });
    const retried = await board("PUT", `/queues/oen-webhooks/${encodeURIComponent(attackerJob.id)}/retry`);

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await view(attacker.id)).status).toBe("incomplete");
    expect(await h.database.db.selectFrom("payment_tokens").select("id").where("subscription_id", "=", attacker.id).execute()).toEqual([]);
    expect(h.simulator.ledger.successfulCharges().filter((c) => c.token === victimToken)).toHaveLength(1);
    // Adding a job or editing its data is refused; watching and retrying are not.
    expect(added.statusCode).toBe(405);
    expect(edited.statusCode).toBe(405);
    expect(retried.statusCode).not.toBe(405);
    const shown = JSON.stringify((await boardJobs("completed")).map((j) => j.data));
    expect(shown).not.toContain("customId");
    expect(shown).not.toContain("sealedToken");
    expect(shown).not.toContain(victimJob.data.customId ?? "never");
  });

  it("a sealed delivery put on the queue for another open page (Redis write access) does not open", async () => {
    const victim = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_victim_2"))).json();
    const victimCheckout = checkoutIdOf(victim.checkoutUrl);
    h.simulator.bindCard(victimCheckout, { cardNumber: TEST_CARDS.success, expiry: "12/39", cvc: "123", email: "victim2@example.com" });
    await eventually(async () => (await view(victim.id)).status === "active", 20_000, "the victim active");
    const victimDelivery = await h.database.db.selectFrom("webhook_inbox").select("payload").where("job_id", "like", `oen-token-${victimCheckout}-%`).executeTakeFirstOrThrow();
    // An open page of the attacker's, its customId leaked: only the sealing binds the token to its page.
    const attacker = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", "cus_attacker_2"))).json();
    const session = await h.database.db.selectFrom("checkout_sessions").selectAll().where("id", "=", checkoutIdOf(attacker.checkoutUrl)).executeTakeFirstOrThrow();
    const job = { ...victimDelivery.payload, checkoutId: session.id, customId: session.custom_id, receivedAt: new Date().toISOString() };
    await h.service.deps.queues.webhooks.add("token", job as never, { jobId: `oen-token-${session.id}-moved` });
    const event = await eventually(() => h.database.db.selectFrom("oen_webhook_events").selectAll().where("oen_id", "=", session.id).executeTakeFirst());
    expect(event).toMatchObject({ outcome: "rejected", reason: "token_unreadable" });
    expect((await view(attacker.id)).status).toBe("incomplete");
  });

  /** A subscription with a card bound; its active payment token row. */
  const subscribe = async (customer: string) => {
    const created = (await h.api("POST", "/v1/subscriptions", sampleSubscription("basic", customer))).json();
    h.simulator.bindCard(checkoutIdOf(created.checkoutUrl), { cardNumber: TEST_CARDS.success, expiry: "12/39", cvc: "123", email: `${customer}@example.com` });
    await eventually(async () => (await view(created.id)).status === "active", 20_000, `${customer} active`);
    return h.database.db.selectFrom("payment_tokens").selectAll().where("subscription_id", "=", created.id).where("status", "=", "active").executeTakeFirstOrThrow();
  };

  it("the sweep seals again, for its own row, a stored token sealed before bindings; one that does not open is left", async () => {
    const purpose = { actor: "test", reason: "read the token" };
    const [legacy, damaged] = [await subscribe("cus_legacy_row"), await subscribe("cus_damaged_row")];
    const token = await revealToken(h.database.db, h.config.tokenKeys, legacy, purpose);
    const unbound = sealLegacyToken(h.config.tokenKeys, token);
    await h.database.db.updateTable("payment_tokens").set({ key_id: unbound.keyId, ciphertext: unbound.ciphertext }).where("id", "=", legacy.id).execute();
    await h.database.db.updateTable("payment_tokens").set({ ciphertext: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }).where("id", "=", damaged.id).execute();

    const report = await runSweep(h.service.deps);
    expect(report.resealedTokens).toBeGreaterThanOrEqual(1);
    const resealed = await h.database.db.selectFrom("payment_tokens").selectAll().where("id", "=", legacy.id).executeTakeFirstOrThrow();
    expect(resealed.ciphertext.startsWith("v2.")).toBe(true);
    expect(resealed.key_id).toBe(h.config.tokenKeys.primaryId);
    expect(await revealToken(h.database.db, h.config.tokenKeys, resealed, purpose)).toBe(token);
    expect(await h.database.db.selectFrom("audit_log").select("reason").where("actor", "=", "sweep").where("subscription_id", "=", legacy.subscription_id).execute()).toEqual([
      { reason: expect.stringMatching(/sealed before bindings/) },
    ]);
    expect((await h.database.db.selectFrom("payment_tokens").select("ciphertext").where("id", "=", damaged.id).executeTakeFirstOrThrow()).ciphertext).toBe("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  });

  it("a stored ciphertext copied into another row does not open", async () => {
    const [one, two] = [await subscribe("cus_row_one"), await subscribe("cus_row_two")];
    const purpose = { actor: "test", reason: "copied ciphertext" };
    expect(await revealToken(h.database.db, h.config.tokenKeys, one, purpose)).toMatch(/^[A-Za-z0-9]+$/);
    await h.database.db.updateTable("payment_tokens").set({ key_id: one.key_id, ciphertext: one.ciphertext }).where("id", "=", two.id).execute();
    const moved = await h.database.db.selectFrom("payment_tokens").selectAll().where("id", "=", two.id).executeTakeFirstOrThrow();
    await expect(revealToken(h.database.db, h.config.tokenKeys, moved, purpose)).rejects.toThrow(TokenDecryptionError);
  });
});
