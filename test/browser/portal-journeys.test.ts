import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { launchBrowser, phonePage, screenshot } from "../support/browser.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

const RETURN_URL = "https://platform.example.com/account";

// A customer in a real (headless, script-less) browser, against the whole service and the Oen simulator.
describe("the customer portal in a browser", () => {
  let h: Harness;
  let browser: Browser;
  let n = 0;
  const thirtyDays = { ...samplePlan, interval: "day", intervalCount: 30 } as const;
  beforeAll(async () => {
    [h, browser] = await Promise.all([startHarness({ env: { BILLING_TEST_CLOCK: "1", RENEWAL_SWEEP_INTERVAL: "1h" } }), launchBrowser()]);
    await h.api("PUT", "/v1/plans/basic", { ...thirtyDays, name: "基本方案", amount: 300, selfService: true });
    await h.api("PUT", "/v1/plans/plus", { ...thirtyDays, name: "進階方案", amount: 600, selfService: true, description: "更多內容" });
    await h.api("PUT", "/v1/plans/hidden", { ...thirtyDays, name: "Internal", amount: 900 });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const invoicesOf = async (id: string) => (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data as Array<{ id: string; kind: string; status: string; amount: number }>;
  const viewOf = async (id: string) => (await h.api("GET", `/v1/subscriptions/${id}`)).json();

  async function paidSubscription(planId: string, card: string = TEST_CARDS.success) {
    const customerId = `cus_portal_${n++}`;
    const subscription = await subscribeWithCard(h, planId, customerId, { number: card });
    await eventually(async () => ((await invoicesOf(subscription.id))[0]?.status ?? "open") !== "open" || ((await viewOf(subscription.id)).status === "past_due" && true), 15_000, "the first charge settled");
    return { id: subscription.id, customerId };
  }

  async function portalUrl(customerId: string, locale?: "en" | "zh-TW"): Promise<string> {
    const answer = await h.api("POST", `/v1/customers/${customerId}/portal-sessions`, { returnUrl: RETURN_URL, ...(locale === undefined ? {} : { locale }) });
    expect(answer.statusCode).toBe(201);
    return answer.json().url;
  }

  async function open(url: string): Promise<Page> {
    const page = await phonePage(browser);
    await page.goto(url);
    return page;
  }

  const fact = (page: Page, name: string) => page.locator(`[data-fact="${name}"]`).first().innerText();

  it("opens from a portal link on a clean URL, shows plan and next charge, cancels at period end, shows the scheduled cancel, resumes", async () => {
    const { id, customerId } = await paidSubscription("basic");
    const page = await open(await portalUrl(customerId));
    // The link's secret left the address bar.
    expect(page.url()).toBe(`${h.config.publicUrl}/portal`);
    await expect(page.locator("h1").innerText()).resolves.toBe("您的訂閱");
    const row = (await h.database.db.selectFrom("subscriptions").selectAll().where("id", "=", id).executeTakeFirstOrThrow());
    const nextDate = new Intl.DateTimeFormat("zh-TW", { dateStyle: "long", timeZone: "Asia/Taipei" }).format(row.next_renewal_at!);
    const card = page.locator(`[data-subscription="${id}"]`);
    await expect(card.locator("h2").innerText()).resolves.toBe("基本方案");
    await expect(card.locator('[data-fact="next-charge"]').innerText()).resolves.toBe(`${nextDate} 扣款 NT$300`);
    await expect(card.locator('[data-fact="status"]').innerText()).resolves.toBe("使用中");
    await expect(card.locator('[data-fact="card"]').innerText()).resolves.toBe("•••• 4242");
    await screenshot(page, "portal-overview-zh");

    await card.getByRole("link", { name: "管理訂閱" }).click();
    expect(page.url()).toBe(`${h.config.publicUrl}/portal/subscriptions/${id}`);
    await expect(page.locator('[data-fact="invoice-status"]').first().innerText()).resolves.toBe("已付款");
    await expect(page.getByRole("link", { name: "返回網站" }).getAttribute("href")).resolves.toBe(RETURN_URL);
    await screenshot(page, "portal-subscription-zh");

    await page.getByRole("link", { name: "取消訂閱" }).click();
    await expect(fact(page, "runs-until")).resolves.toBe(`您的「基本方案」服務將持續到 ${nextDate}，之後不再扣款。`);
    await screenshot(page, "portal-cancel-confirm-zh");
    await page.getByRole("button", { name: "確認取消" }).click();
    await expect(page.locator('[role="status"]').innerText()).resolves.toBe(`已排定取消：服務將持續到 ${nextDate}。`);
    await expect(fact(page, "cancel")).resolves.toBe(`服務將於 ${nextDate} 結束，之後不再扣款`);
    expect(await page.locator('[data-fact="next-charge"]').count()).toBe(0);
    expect((await viewOf(id)).cancelAtPeriodEnd).toBe(true);
    await screenshot(page, "portal-cancel-scheduled-zh");

    await page.getByRole("button", { name: "恢復訂閱" }).click();
    await expect(page.locator('[role="status"]').innerText()).resolves.toBe("已恢復訂閱，將照常續訂。");
    await expect(fact(page, "next-charge")).resolves.toBe(`${nextDate} 扣款 NT$300`);
    expect((await viewOf(id)).cancelAtPeriodEnd).toBe(false);
    const events = await h.database.db.selectFrom("platform_events").select("type").where("type", "in", ["subscription.cancel_scheduled", "subscription.resumed"]).where(({ ref, eb }) => eb(ref("data", "->>").key("subscriptionId" as never), "=", id)).orderBy("created_at").execute();
    expect(events.map((e) => e.type)).toEqual(["subscription.cancel_scheduled", "subscription.resumed"]);
  });

  it("a past_due customer follows the dunning email to the portal, changes the card on the simulator's page, and comes back to an active subscription with its invoice paid", async () => {
    const { id } = await paidSubscription("basic", TEST_CARDS.declineExpired);
    expect((await viewOf(id)).status).toBe("past_due");
    // The card_expired email (kept in the outbox: no SMTP here) leads to this subscription's portal page.
    const mail = await eventually(async () => (await h.database.db.selectFrom("notices").select("text_body").where("subscription_id", "=", id).where("kind", "=", "card_expired").executeTakeFirst())?.text_body ?? undefined, 15_000, "the card_expired notice rendered");
    const entry = /https?:\/\/\S+\/portal\/enter\?token=\S+/.exec(mail)![0];
    expect(mail).toContain("/billing/card/");
    const page = await open(entry);
    expect(page.url()).toBe(`${h.config.publicUrl}/portal/subscriptions/${id}`);
    await expect(fact(page, "status")).resolves.toBe("付款未成功");
    await expect(fact(page, "past-due")).resolves.toContain("上次扣款未成功，原因：卡片已過期。");
    // The one button that fixes it, and nothing else to press.
    await expect(page.getByRole("button").allInnerTexts()).resolves.toEqual(["English", "更換付款卡片"]);
    expect(await page.getByRole("link", { name: "取消訂閱" }).count()).toBe(0);
    await screenshot(page, "portal-past-due-zh");

    await page.getByRole("button", { name: "更換付款卡片" }).click();
    expect(page.url()).toMatch(new RegExp(`^${h.simulator.hostedUrl}/checkout/subscription/create/`));
    await page.locator('input[name="cardNumber"]').fill(TEST_CARDS.success);
    await page.locator('input[name="expiry"]').fill("12/39");
    await page.locator('input[name="cvc"]').fill("123");
    await page.getByRole("button", { name: "綁定" }).click();
    expect(page.url()).toBe(`${h.config.publicUrl}/portal/subscriptions/${id}?card=updated`);
    // The page reloads itself (no script) while the open invoice is charged with the new card.
    await eventually(async () => {
      await page.reload();
      return (await fact(page, "status")) === "使用中";
    }, 20_000, "the subscription active again");
    await expect(page.locator('[data-fact="invoice-status"]').first().innerText()).resolves.toBe("已付款");
    await expect(fact(page, "card")).resolves.toBe("•••• 4242");
    expect(await viewOf(id)).toMatchObject({ status: "active", latestInvoice: { status: "paid" }, card: { last4: "4242" } });
    await screenshot(page, "portal-card-updated-zh");
  });

  it("a plan switch shows the proration before confirming, and the simulator's ledger then holds that charge", async () => {
    const { id, customerId } = await paidSubscription("basic");
    await h.api("POST", "/v1/test-clock/advance", { by: "15d" });
    const page = await open(await portalUrl(customerId));
    await page.getByRole("link", { name: "管理訂閱" }).click();
    await page.getByRole("link", { name: "變更方案" }).click();
    // Only selfService plans of the same cadence.
    await expect(page.locator("[data-plan]").evaluateAll((items) => items.map((item) => item.getAttribute("data-plan")))).resolves.toEqual(["plus"]);
    await page.locator('[data-plan="plus"]').getByRole("link", { name: "選擇此方案" }).click();
    const shown = page.locator('[data-fact="proration"]');
    const amount = Number(await shown.getAttribute("data-amount"));
    expect(amount).toBe(150);
    await expect(shown.innerText()).resolves.toBe("立即生效。本期剩餘期間的差額 NT$150 將立即以您的卡片（末四碼 4242）扣款；下次續訂起為 NT$600 / 每 30 天。");
    await screenshot(page, "portal-plan-confirm-zh");
    await page.getByRole("button", { name: "確認變更" }).click();
    await expect(page.locator('[role="status"]').innerText()).resolves.toBe("已切換為「進階方案」。");
    await expect(page.locator("h1").innerText()).resolves.toBe("進階方案");
    const proration = (await invoicesOf(id)).find((invoice) => invoice.kind === "proration")!;
    expect(proration).toMatchObject({ status: "paid", amount });
    expect(h.simulator.ledger.successfulCharges().filter((charge) => charge.orderId.startsWith(`${proration.id}-`)).map((charge) => charge.amount)).toEqual([amount]);
    const changed = await h.database.db.selectFrom("platform_events").select("data").where("type", "=", "subscription.plan_changed").execute();
    expect(changed.map((e) => e.data)).toContainEqual(expect.objectContaining({ subscriptionId: id, oldPlanId: "basic", newPlanId: "plus" }));
    await screenshot(page, "portal-plan-changed-zh");
  });

  it("shows the same pages in English, by the link's locale or by the switch on every page", async () => {
    const { id, customerId } = await paidSubscription("basic");
    const page = await open(await portalUrl(customerId, "en"));
    await expect(page.locator("html").getAttribute("lang")).resolves.toBe("en");
    await expect(page.locator("h1").innerText()).resolves.toBe("Your subscriptions");
    const card = page.locator(`[data-subscription="${id}"]`);
    await expect(card.locator('[data-fact="status"]').innerText()).resolves.toBe("Active");
    await expect(card.locator('[data-fact="next-charge"]').innerText()).resolves.toMatch(/^NT\$300 on [A-Z][a-z]+ \d{1,2}, \d{4}$/);
    await screenshot(page, "portal-overview-en");
    await card.getByRole("link", { name: "Manage" }).click();
    await expect(page.getByRole("link", { name: "Back to the site" }).getAttribute("href")).resolves.toBe(RETURN_URL);
    await screenshot(page, "portal-subscription-en");
    await page.getByRole("link", { name: "Cancel subscription" }).click();
    await expect(fact(page, "runs-until")).resolves.toMatch(/^Your 基本方案 service runs until [A-Z][a-z]+ \d{1,2}, \d{4}; nothing is charged after that\.$/);
    await screenshot(page, "portal-cancel-confirm-en");
    await page.getByRole("link", { name: "Keep my subscription" }).click();
    await page.getByRole("link", { name: "Change plan" }).click();
    await page.getByRole("link", { name: "Choose this plan" }).click();
    await expect(fact(page, "proration")).resolves.toMatch(/^Takes effect now\. The difference for the rest of this period, NT\$\d+, is charged to your card ending in 4242 now; from the next renewal you pay NT\$600 every 30 days\.$/);
    await screenshot(page, "portal-plan-confirm-en");

    // Back to Chinese with the switch, on the same page.
    await page.getByRole("button", { name: "中文" }).click();
    await expect(page.locator("h1").innerText()).resolves.toBe("變更方案");
    await page.getByRole("button", { name: "English" }).click();
    await expect(page.locator("h1").innerText()).resolves.toBe("Change plan");

    await page.goto(`${h.config.publicUrl}/portal/invoice-info`);
    await page.locator("#kind").selectOption("company");
    await page.locator("#buyerIdentifier").fill("12345678");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.locator("#error-buyerIdentifier").innerText()).resolves.toBe("The tax ID is not valid: it has 8 digits, and its check digit must match.");
    await screenshot(page, "portal-invoice-info-error-en");
    await page.locator("#buyerIdentifier").fill("04595257");
    await page.locator("#buyerName").fill("Example Ltd.");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.locator('[role="status"]').innerText()).resolves.toBe("Your e-invoice details are saved.");
    await expect(fact(page, "invoice-info")).resolves.toBe("Tax ID 04595257 Example Ltd.");
    expect((await h.api("GET", `/v1/customers/${customerId}`)).json().invoiceInfo).toEqual({ invoiceType: "company", buyerIdentifier: "04595257", buyerName: "Example Ltd." });
    await screenshot(page, "portal-invoice-info-saved-en");
  });
});
