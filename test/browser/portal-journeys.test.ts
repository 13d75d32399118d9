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
});
