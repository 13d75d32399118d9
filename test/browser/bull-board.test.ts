import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobIds } from "../../src/queues/jobs.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

// Debian's chromium (apt-get install chromium), driven by playwright-core: no browser download.
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe("Bull Board in a browser", () => {
  let h: Harness;
  let browser: Browser;
  beforeAll(async () => {
    h = await startHarness();
    await h.api("PUT", "/v1/plans/monthly", samplePlan);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it("an operator logs in and opens a completed charge job: its name, data and outcome say what it did", async () => {
    const { id } = await subscribeWithCard(h, "monthly", "cus_board");
    const invoice = await eventually(async () => {
      const [latest] = (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data;
      return latest?.status === "paid" && latest;
    });
    await eventually(async () => (await (await h.service.deps.queues.charges.getJob(jobIds.charge(invoice.id, 0)))?.getState()) === "completed");

    const refused = await browser.newContext({ httpCredentials: { username: "ops", password: "wrong-password" } });
    expect((await (await refused.newPage()).goto(`${h.service.url}/admin/queues`))?.status()).toBe(401);
    await refused.close();

    const context = await browser.newContext({ httpCredentials: { username: h.config.admin.user, password: h.config.admin.password } });
    try {
      const page = await context.newPage();
      const opened = await page.goto(`${h.service.url}/admin/queues/queue/charges?status=completed`);
      expect(opened?.status()).toBe(200);
      const name = `charge ${invoice.id} cycle 1 attempt 1`;
      await page.getByText(name).first().waitFor({ timeout: 15_000 });
      await page.getByText(name).first().click();
      const card = page.locator("body");
      await expect.poll(async () => card.innerText(), { timeout: 10_000 }).toContain(`invoiceId:"${invoice.id}"`);
      const text = await card.innerText();
      expect(text).toContain("cycle:1");
      expect(text).toContain("attempt:1");
      expect(text).toContain(`returnValue:"succeeded: order ${invoice.id}-1, invoice paid"`);
      await page.screenshot({ path: "/tmp/bull-board-charge-job.png", fullPage: true });
    } finally {
      await context.close();
    }
  });
});
