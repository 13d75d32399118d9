import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cardUpdateLink } from "../../src/checkout/card-update-link.ts";
import { TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { bindCardThroughPage } from "../support/hosted-page.ts";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";

const DAY = 86_400_000;

describe("replacing a card: the emailed link and the platform API", () => {
  let h: Harness;
  let active: string;
  beforeAll(async () => {
    h = await startHarness();
    await h.api("PUT", "/v1/plans/premium", samplePlan);
    active = await subscribeWithCard("cus_active", TEST_CARDS.success);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A subscription whose first card is bound through Oen's page; waits until its first charge was tried. */
  async function subscribeWithCard(customerId: string, card: string): Promise<string> {
    const created = (await h.api("POST", "/v1/subscriptions", sampleSubscription("premium", customerId))).json();
    await bindCardThroughPage(created.checkoutUrl, { number: card });
    await eventually(async () => ((await h.api("GET", `/v1/subscriptions/${created.id}/invoices`)).json().data[0]?.attempts.length ?? 0) > 0);
    return created.id;
  }

  /** The customer's click on the emailed link, in a browser that does not follow redirects by itself. */
  const click = (link: string) => fetch(`${h.service.url}/billing/card/${link.split("/").pop()}`, { redirect: "manual" });
  const tokens = (subscriptionId: string) =>
    h.database.db.selectFrom("payment_tokens").select(["status", "last4"]).where("subscription_id", "=", subscriptionId).orderBy("created_at").execute();

  it("the link opens a fresh Oen page for that subscription, and the card bound there replaces the old one", async () => {
    const link = cardUpdateLink(h.config, active, new Date());
    expect(link.startsWith(`${h.config.publicUrl}/billing/card/`)).toBe(true);

    const answer = await click(link);
    expect(answer.status).toBe(302);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
    const oenPage = answer.headers.get("location")!;
    expect(oenPage).toMatch(new RegExp(`^${h.simulator.hostedUrl}/checkout/subscription/create/[A-Za-z0-9]+$`));
    const session = await h.database.db.selectFrom("checkout_sessions").selectAll().where("id", "=", oenPage.split("/").pop()!).executeTakeFirstOrThrow();
    expect(session).toMatchObject({ subscription_id: active, purpose: "update_card", status: "open", custom_id: expect.stringMatching(new RegExp(`^${active}\\.update_card\\.[A-Za-z0-9_-]{16}$`)) });

    // The simulator serves the binding page at the redirect target, and it works.
    const page = await fetch(oenPage);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<form[^>]*method="post"/i);
    const bound = await bindCardThroughPage(oenPage, { number: "5555555555554444" });
    expect(bound.location).toBe("https://platform.example.com/billing/success");
    await eventually(async () => (await tokens(active)).length === 2);
    expect(await tokens(active)).toEqual([
      { status: "inactive", last4: "4242" },
      { status: "active", last4: "4444" },
    ]);
  });

  it("each click opens a new page: Oen's pages die after 10 minutes, the link lives 14 days", async () => {
    const link = cardUpdateLink(h.config, active, new Date());
    const first = (await click(link)).headers.get("location");
    const second = (await click(link)).headers.get("location");
    expect(first).not.toBeNull();
    expect(second).not.toBe(first);
  });

  it("opens at most 5 fresh Oen pages an hour from one link", async () => {
    const subscriptionId = await subscribeWithCard("cus_clicker", TEST_CARDS.success);
    const link = cardUpdateLink(h.config, subscriptionId, new Date());
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await click(link));
    expect(answers.map((a) => a.status)).toEqual([302, 302, 302, 302, 302, 429]);
    expect(await answers[5]!.text()).toContain("Please try again in an hour");
    const pages = await h.database.db.selectFrom("checkout_sessions").select("id").where("subscription_id", "=", subscriptionId).where("purpose", "=", "update_card").execute();
    expect(pages).toHaveLength(5);
    // Another link (another email) has its own budget.
    expect((await click(cardUpdateLink(h.config, subscriptionId, new Date(Date.now() + 1_000)))).status).toBe(302);
  });

  it("stops working once the card it asked for has been replaced", async () => {
    const subscriptionId = await subscribeWithCard("cus_replaced", TEST_CARDS.success);
    const emailed = cardUpdateLink(h.config, subscriptionId, new Date());
    const oenPage = (await click(emailed)).headers.get("location")!;
    // Links tell time in whole seconds: the new card comes in a later second than the email.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await bindCardThroughPage(oenPage, { number: "5555555555554444" });
    await eventually(async () => (await tokens(subscriptionId)).some((t) => t.status === "active" && t.last4 === "4444"));
    const again = await click(emailed);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain("card has already been replaced");
    // A link sent after the new card works.
    expect((await click(cardUpdateLink(h.config, subscriptionId, new Date(Date.now() + 2_000)))).status).toBe(302);
  });

  it("a card-update page retries the open invoice of a past-due subscription at once", async () => {
    const pastDue = await subscribeWithCard("cus_expired_card", TEST_CARDS.declineExpired);
    const oenPage = (await click(cardUpdateLink(h.config, pastDue, new Date()))).headers.get("location")!;
    await bindCardThroughPage(oenPage, { number: TEST_CARDS.success });
    const paid = await eventually(async () => {
      const view = (await h.api("GET", `/v1/subscriptions/${pastDue}`)).json();
      return view.latestInvoice?.status === "paid" && view;
    });
    expect(paid).toMatchObject({ status: "active", card: { last4: "4242" } });
  });

  it("refuses an altered link (403) and an expired one (410) with a page saying so", async () => {
    const link = cardUpdateLink(h.config, active, new Date());
    const forged = await click(link.replace(active, "sub_someoneelse"));
    expect(forged.status).toBe(403);
    expect(forged.headers.get("content-type")).toMatch(/^text\/html/);
    const forgedPage = await forged.text();
    expect(forgedPage).toContain("連結無效");
    expect(forgedPage).toContain("This card-update link is incomplete or has been altered");

    const expired = await click(cardUpdateLink(h.config, active, new Date(Date.now() - 15 * DAY)));
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain("This link has expired");

    expect((await click(`${h.config.publicUrl}/billing/card/garbage`)).status).toBe(403);
    expect(await h.database.db.selectFrom("checkout_sessions").select("id").where("subscription_id", "=", "sub_someoneelse").execute()).toEqual([]);
  });

  it("says so when the subscription is gone or has ended", async () => {
    const missing = await click(cardUpdateLink(h.config, "sub_missing", new Date()));
    expect(missing.status).toBe(404);
    const ended = (await h.api("POST", "/v1/subscriptions", sampleSubscription("premium", "cus_ended"))).json();
    await h.api("POST", `/v1/subscriptions/${ended.id}/cancel`, { atPeriodEnd: false });
    const answer = await click(cardUpdateLink(h.config, ended.id, new Date()));
    expect(answer.status).toBe(409);
    expect(await answer.text()).toContain("has ended or has not started");
  });

  it("shows a try-again page when Oen will not open a page", async () => {
    h.simulator.faults.set([{ on: "checkout", kind: "error_5xx" }]);
    try {
      const answer = await click(cardUpdateLink(h.config, active, new Date()));
      expect(answer.status).toBe(502);
      expect(await answer.text()).toContain("Please try again in a few minutes");
    } finally {
      h.simulator.faults.clear();
    }
  });

  describe("POST /v1/subscriptions/:id/payment-method", () => {
    const urls = { successUrl: "https://platform.example.com/card/ok", failureUrl: "https://platform.example.com/card/failed" };

    it("opens a card-update page redirecting where the platform asked", async () => {
      const answer = await h.api("POST", `/v1/subscriptions/${active}/payment-method`, urls);
      expect(answer.statusCode).toBe(200);
      const { checkoutUrl, checkoutExpiresAt } = answer.json();
      expect(checkoutUrl).toMatch(new RegExp(`^${h.simulator.hostedUrl}/checkout/subscription/create/`));
      const expiresIn = Date.parse(checkoutExpiresAt) - Date.now();
      expect(expiresIn).toBeGreaterThan(9 * 60_000);
      expect(expiresIn).toBeLessThanOrEqual(10 * 60_000);
      const bound = await bindCardThroughPage(checkoutUrl, { number: TEST_CARDS.success });
      expect(bound.location).toBe(urls.successUrl);
    });

    it("needs the API key", async () => {
      const answer = await h.service.app!.inject({ method: "POST", url: `/v1/subscriptions/${active}/payment-method`, payload: urls });
      expect(answer.statusCode).toBe(401);
    });

    it.each([
      ["no body", undefined, /body/],
      ["a relative URL", { ...urls, successUrl: "/ok" }, /successUrl/],
      ["an unknown field", { ...urls, card: "4242" }, /additional properties "card"/],
    ])("refuses %s", async (_what, body, message) => {
      const answer = await h.api("POST", `/v1/subscriptions/${active}/payment-method`, body);
      expect(answer.statusCode).toBe(400);
      expect(answer.json().message).toMatch(message);
    });

    it("answers 404 for an unknown subscription and 409 for a canceled one", async () => {
      const missing = await h.api("POST", "/v1/subscriptions/sub_missing/payment-method", urls);
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toEqual({ error: "not_found", message: 'subscription "sub_missing" does not exist' });
      const canceled = (await h.api("POST", "/v1/subscriptions", sampleSubscription("premium", "cus_canceled"))).json();
      await h.api("POST", `/v1/subscriptions/${canceled.id}/cancel`, { atPeriodEnd: false });
      const answer = await h.api("POST", `/v1/subscriptions/${canceled.id}/payment-method`, urls);
      expect(answer.statusCode).toBe(409);
      expect(answer.json()).toMatchObject({ error: "not_updatable", message: expect.stringContaining("canceled") });
    });

    it("is documented in the OpenAPI description, the customer link without the bearer", async () => {
      const openapi = (await h.service.app!.inject("/openapi.json")).json();
      expect(openapi.paths["/v1/subscriptions/{id}/payment-method"].post).toBeDefined();
      expect(openapi.paths["/billing/card/{token}"].get.security).toEqual([]);
    });
  });
});
