import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";
import { bindCardThroughPage } from "../support/hosted-page.ts";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";

describe("first charge, end to end through the hosted page", () => {
  let h: Harness;
  // Everything the service logs, at the most verbose level, to search for secrets.
  const logLines: string[] = [];
  beforeAll(async () => {
    const logger = createLogger({ level: "trace", destination: { write: (line: string) => logLines.push(line) } });
    h = await startHarness({ logger });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("plan → subscription → Oen page → card → webhook → active → invoice paid, charged exactly once", async () => {
    expect((await h.api("PUT", "/v1/plans/premium", samplePlan)).statusCode).toBe(200);
    const created = await h.api("POST", "/v1/subscriptions", sampleSubscription("premium"));
    expect(created.statusCode).toBe(201);
    const subscription = created.json();
    expect(subscription).toMatchObject({ status: "incomplete" });
    expect(subscription.checkoutUrl).toMatch(new RegExp(`^${h.simulator.hostedUrl}/checkout/subscription/create/[A-Za-z0-9]{27}$`));
    const expiresIn = Date.parse(subscription.checkoutExpiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(9 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000);

    const submitted = await bindCardThroughPage(subscription.checkoutUrl, { number: "4242 4242 4242 4242" });
    expect(submitted.status).toBe(303);
    expect(submitted.location).toBe("https://platform.example.com/billing/success");

    const paid = await eventually(async () => {
      const view = (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json();
      return view.latestInvoice?.status === "paid" && view;
    });
    expect(paid).toMatchObject({ status: "active", planId: "premium", card: { last4: "4242" }, currentCycle: 1, cancelAtPeriodEnd: false });
    expect(paid.latestInvoice).toMatchObject({ cycle: 1, amount: 899, currency: "TWD", attemptCount: 1 });
    expect(Date.parse(paid.currentPeriodEnd)).toBeGreaterThan(Date.parse(paid.currentPeriodStart));

    const charges = h.simulator.ledger.successfulCharges();
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({
      amount: 899,
      productDetails: [{ productionCode: "PREMIUM-M", description: "Premium subscription", quantity: 1, unit: "month", unitPrice: 899 }],
      userEmail: "ming@example.com",
    });

    const invoices = (await h.api("GET", `/v1/subscriptions/${subscription.id}/invoices`)).json();
    expect(invoices.data[0].attempts).toEqual([expect.objectContaining({ attemptNo: 1, outcome: "succeeded", orderId: charges[0]!.orderId, oenTransactionId: charges[0]!.id })]);
  });

  it("keeps the token encrypted at rest, out of logs (even at trace level), API answers and job data, and audits each decryption", async () => {
    const token = h.simulator.ledger.successfulCharges()[0]!.token;
    const stored = await h.database.db.selectFrom("payment_tokens").selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.key_id).toBe("k2");
    expect(JSON.stringify(stored)).not.toContain(token);

    const everything = JSON.stringify(
      await Promise.all(
        ["oen_webhook_events", "webhook_inbox", "oen_webhook_samples", "audit_log", "charge_attempts", "invoices", "subscriptions", "checkout_sessions"].map((t) =>
          h.database.db.selectFrom(t as "audit_log").selectAll().execute(),
        ),
      ),
    );
    expect(everything).not.toContain(token);
    const jobs = await h.service.deps.queues.webhooks.getJobs(["completed", "failed", "waiting", "active"]);
    expect(jobs.length).toBeGreaterThan(0);
    // Ids only: no token, sealed or not, and not the page's customId.
    expect(jobs.map((j) => Object.keys(j.data).sort())).toEqual(jobs.map(() => ["checkoutId", "kind"]));

    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join("\n")).not.toContain(token);
    expect(logLines.join("\n")).not.toContain("sim-api-token-for-tests");

    const subscriptionId = stored[0]!.subscription_id;
    const view = await h.api("GET", `/v1/subscriptions/${subscriptionId}`);
    expect(view.body).not.toContain(token);

    // Once to seal the webhook's token for its row, once to charge it.
    const decrypts = await h.database.db.selectFrom("audit_log").selectAll().where("action", "=", "card_token.decrypt").orderBy("id").execute();
    expect(decrypts.map((d) => [d.actor, d.subscription_id])).toEqual([
      ["webhook-worker", subscriptionId],
      ["charge-worker", subscriptionId],
    ]);
  });
});
