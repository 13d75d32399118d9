import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { portalLink } from "../../src/portal/portal-link.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

/** A browser without a browser: follows nothing, keeps the portal cookie. */
function client(h: Harness) {
  let cookie: string | null = null;
  const request = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(new URL(path, h.service.url!), { ...init, redirect: "manual", headers: { ...(cookie === null ? {} : { cookie }), ...(init.headers as Record<string, string>) } });
    const set = response.headers.get("set-cookie");
    if (set !== null) cookie = set.split(";")[0]!;
    return response;
  };
  return {
    get: (path: string) => request(path),
    post: (path: string, fields: Record<string, string>) =>
      request(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() }),
    /** The CSRF token of the form posting to `action` on the page at `path`. */
    async formToken(path: string, action: string): Promise<string> {
      const page = await (await request(path)).text();
      const form = new RegExp(`<form method="post" action="${action.replace(/[/]/g, "\\/")}"><input type="hidden" name="csrf" value="([^"]+)">`).exec(page);
      expect(form, `a form posting to ${action} on ${path}`).not.toBeNull();
      return form![1]!;
    },
    get cookie() {
      return cookie;
    },
  };
}

describe("customer portal security", () => {
  let h: Harness;
  let mine: { id: string; customerId: string };
  let theirs: { id: string; customerId: string };
  beforeAll(async () => {
    h = await startHarness();
    await h.api("PUT", "/v1/plans/premium", { ...samplePlan, selfService: true });
    const subscribe = async (customerId: string) => {
      const { id } = await subscribeWithCard(h, "premium", customerId, { number: TEST_CARDS.success });
      await eventually(async () => (await h.api("GET", `/v1/subscriptions/${id}`)).json().status === "active", 15_000, "active");
      return { id, customerId };
    };
    [mine, theirs] = await Promise.all([subscribe("cus_mine"), subscribe("cus_theirs")]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const link = async (customerId: string, body: Record<string, unknown> = { returnUrl: "https://platform.example.com/account" }) => h.api("POST", `/v1/customers/${customerId}/portal-sessions`, body);
  const signedIn = async (customerId: string) => {
    const browser = client(h);
    const entered = await browser.get((await link(customerId)).json().url);
    expect(entered.status).toBe(303);
    return browser;
  };
  const row = (id: string) => h.database.db.selectFrom("subscriptions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const eventsOf = (id: string) =>
    h.database.db.selectFrom("platform_events").select("type").where(({ ref, eb }) => eb(ref("data", "->>").key("subscriptionId" as never), "=", id)).execute();

  it("POST /v1/customers/:id/portal-sessions gives a one-hour URL, 404 for an unknown customer, 400 naming a bad field", async () => {
    const answer = await link(mine.customerId, { returnUrl: "https://platform.example.com/account", locale: "en" });
    expect(answer.statusCode).toBe(201);
    const { url, expiresAt } = answer.json();
    expect(url).toMatch(new RegExp(`^${h.config.publicUrl}/portal/enter\\?token=[A-Za-z0-9_.-]+$`));
    expect(Math.abs(new Date(expiresAt).getTime() - Date.now() - 3_600_000)).toBeLessThan(5_000);
    expect((await link("cus_nobody")).statusCode).toBe(404);
    const bad = await link(mine.customerId, { returnUrl: "javascript:alert(1)" });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("returnUrl");
    expect((await link(mine.customerId, { returnUrl: "https://x.example", locale: "fr" })).statusCode).toBe(400);
    const unauthenticated = await h.service.app!.inject({ method: "POST", url: `/v1/customers/${mine.customerId}/portal-sessions`, payload: { returnUrl: "https://x.example" } });
    expect(unauthenticated.statusCode).toBe(401);
  });

  it("opening the link sets an HttpOnly, SameSite=Lax session cookie (the id only; its hash is stored) and redirects to a clean URL", async () => {
    const browser = client(h);
    const entered = await browser.get((await link(mine.customerId)).json().url);
    expect(entered.status).toBe(303);
    expect(entered.headers.get("location")).toBe("/portal");
    expect(entered.headers.get("cache-control")).toBe("no-store");
    const cookie = entered.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^portal_session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/portal");
    // PUBLIC_URL is http here; Secure comes with https.
    expect(cookie).not.toContain("Secure");
    const id = browser.cookie!.split("=")[1]!;
    const stored = await h.database.db.selectFrom("portal_sessions").selectAll().execute();
    expect(stored.some((s) => s.id_hash === id)).toBe(false);
    expect(stored.find((s) => s.customer_id === mine.customerId)).toMatchObject({ locale: "zh-TW", return_url: "https://platform.example.com/account" });
    expect((await browser.get("/portal")).status).toBe(200);
  });

  it("an altered or expired link shows a clear page and starts no session", async () => {
    const { url } = (await link(mine.customerId)).json();
    const token = new URL(url).searchParams.get("token")!;
    const [keyId, payload, mac] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), c: theirs.customerId })).toString("base64url");
    const altered = [`${keyId}.${forged}.${mac}`, `${token.slice(0, -2)}AA`, "garbage", ""];
    for (const bad of altered) {
      const answer = await fetch(`${h.service.url}/portal/enter?token=${encodeURIComponent(bad)}`, { redirect: "manual" });
      expect(answer.status).toBe(403);
      expect(answer.headers.get("set-cookie")).toBeNull();
      const page = await answer.text();
      expect(page).toContain("連結無效");
      expect(page).toContain("Invalid link");
    }
    const expiredUrl = portalLink(h.config, { customerId: mine.customerId, subscriptionId: null, locale: null, returnUrl: null }, new Date(Date.now() - 2 * 3_600_000)).url;
    const expired = await fetch(expiredUrl, { redirect: "manual" });
    expect(expired.status).toBe(410);
    expect(expired.headers.get("set-cookie")).toBeNull();
    expect(await expired.text()).toContain("連結已過期");
  });

  it("without a session, or after it expired, every page asks to open the portal again", async () => {
    expect((await fetch(`${h.service.url}/portal`, { redirect: "manual" })).status).toBe(401);
    expect((await fetch(`${h.service.url}/portal/subscriptions/${mine.id}`, { headers: { cookie: "portal_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } })).status).toBe(401);
    const browser = await signedIn(mine.customerId);
    await h.database.db.updateTable("portal_sessions").set({ expires_at: new Date(Date.now() - 1000) }).where("customer_id", "=", mine.customerId).execute();
    const page = await browser.get("/portal");
    expect(page.status).toBe(401);
    expect(await page.text()).toContain("請重新開啟訂閱管理頁");
  });

  it("every portal page carries the security headers: a CSP without script, no framing, no referrer", async () => {
    const browser = await signedIn(mine.customerId);
    for (const path of ["/portal", `/portal/subscriptions/${mine.id}`, "/portal/nowhere", "/portal/enter?token=x"]) {
      const answer = await browser.get(path);
      const csp = answer.headers.get("content-security-policy")!;
      expect(csp, path).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain(`form-action 'self' ${new URL(h.config.oen.hostedUrl).origin}`);
      expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
      expect(answer.headers.get("x-frame-options")).toBe("DENY");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const page = await (await browser.get(`/portal/subscriptions/${mine.id}`)).text();
    expect(page).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
  });

  it("a form posted without its CSRF token (or with another session's) is refused with 403 and changes nothing", async () => {
    const browser = await signedIn(mine.customerId);
    const other = await signedIn(mine.customerId);
    const foreignToken = await other.formToken(`/portal/subscriptions/${mine.id}/cancel`, `/portal/subscriptions/${mine.id}/cancel`);
    const before = await eventsOf(mine.id);
    for (const fields of [{} as Record<string, string>, { csrf: "" }, { csrf: foreignToken }, { csrf: "x".repeat(22) + "." + "y".repeat(43) }]) {
      const answer = await browser.post(`/portal/subscriptions/${mine.id}/cancel`, fields);
      expect(answer.status).toBe(403);
      expect(await answer.text()).toContain("表單已失效");
    }
    expect((await browser.post("/portal/invoice-info", { kind: "company", buyerIdentifier: "04595257" })).status).toBe(403);
    expect((await browser.post("/portal/locale", { locale: "en", back: "/portal" })).status).toBe(403);
    expect(await row(mine.id)).toMatchObject({ cancel_at_period_end: false, status: "active" });
    expect(await eventsOf(mine.id)).toEqual(before);
    expect((await h.api("GET", `/v1/customers/${mine.customerId}`)).json().invoiceInfo).toBeNull();
  });

  it("one customer's session can neither read nor act on another customer's subscription: 404", async () => {
    const browser = await signedIn(mine.customerId);
    for (const path of [`/portal/subscriptions/${theirs.id}`, `/portal/subscriptions/${theirs.id}/cancel`, `/portal/subscriptions/${theirs.id}/plan`, "/portal/subscriptions/sub_guessed"]) {
      const answer = await browser.get(path);
      expect(answer.status, path).toBe(404);
      expect(await answer.text()).not.toContain(theirs.id);
    }
    // A valid token of my own session, aimed at their subscription.
    const token = await browser.formToken(`/portal/subscriptions/${mine.id}/cancel`, `/portal/subscriptions/${mine.id}/cancel`);
    for (const action of ["cancel", "resume", "card", "plan"]) {
      expect((await browser.post(`/portal/subscriptions/${theirs.id}/${action}`, { csrf: token, planId: "premium" })).status, action).toBe(404);
    }
    expect(await row(theirs.id)).toMatchObject({ cancel_at_period_end: false, status: "active" });
    const overview = await (await browser.get("/portal")).text();
    expect(overview).toContain(mine.id);
    expect(overview).not.toContain(theirs.id);
  });

  it("a form submitted twice is one effect: the same Oen page, one cancel_scheduled event", async () => {
    const browser = await signedIn(mine.customerId);
    const page = `/portal/subscriptions/${mine.id}`;
    const cardToken = await browser.formToken(page, `${page}/card`);
    const [first, second] = await Promise.all([browser.post(`${page}/card`, { csrf: cardToken }), browser.post(`${page}/card`, { csrf: cardToken })]);
    expect(first.status).toBe(303);
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    expect(first.headers.get("location")).toMatch(new RegExp(`^${h.simulator.hostedUrl}/`));
    // A fresh page is a fresh form: another Oen page.
    const again = await browser.post(`${page}/card`, { csrf: await browser.formToken(page, `${page}/card`) });
    expect(again.headers.get("location")).not.toBe(first.headers.get("location"));

    const cancelToken = await browser.formToken(`${page}/cancel`, `${page}/cancel`);
    const cancels = await Promise.all([browser.post(`${page}/cancel`, { csrf: cancelToken }), browser.post(`${page}/cancel`, { csrf: cancelToken })]);
    expect(cancels.map((c) => c.headers.get("location"))).toEqual([`${page}?done=cancel_scheduled`, `${page}?done=cancel_scheduled`]);
    expect((await eventsOf(mine.id)).filter((e) => e.type === "subscription.cancel_scheduled")).toHaveLength(1);
    const resumed = await browser.post(`${page}/resume`, { csrf: await browser.formToken(page, `${page}/resume`) });
    expect(resumed.headers.get("location")).toBe(`${page}?done=resumed`);
    expect(await row(mine.id)).toMatchObject({ cancel_at_period_end: false });
  });

  it("refuses a plan the platform did not mark selfService, and e-invoice details the API would refuse, naming the field", async () => {
    await h.api("PUT", "/v1/plans/gold", { ...samplePlan, name: "Gold", amount: 1999 });
    const browser = await signedIn(mine.customerId);
    const page = `/portal/subscriptions/${mine.id}`;
    expect((await (await browser.get(`${page}/plan?planId=gold`)).text())).not.toContain("Gold");
    const token = await browser.formToken(page, `${page}/resume`).catch(() => null);
    expect(token).toBeNull();
    const planToken = (await (await browser.get(page)).text()).match(/name="csrf" value="([^"]+)"/)![1]!;
    expect((await browser.post(`${page}/plan`, { csrf: planToken, planId: "gold" })).status).toBe(422);
    expect(await row(mine.id)).toMatchObject({ plan_id: "premium" });

    const infoToken = (await (await browser.get("/portal/invoice-info")).text()).match(/name="csrf" value="([^"]+)"/g)!.pop()!.match(/value="([^"]+)"/)![1]!;
    const refused = await browser.post("/portal/invoice-info", { csrf: infoToken, kind: "mobile", carrierId: "/abc" });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('id="error-carrierId"');
    const saved = await browser.post("/portal/invoice-info", { csrf: infoToken, kind: "mobile", carrierId: "/abc+123" });
    expect(saved.headers.get("location")).toBe("/portal?done=invoice_info_saved");
    expect((await h.api("GET", `/v1/customers/${mine.customerId}`)).json().invoiceInfo).toEqual({ invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC+123" });
    const updated = await h.database.db.selectFrom("platform_events").select("data").where("type", "=", "customer.updated").execute();
    expect(updated.map((e) => e.data)).toContainEqual(expect.objectContaining({ customerId: mine.customerId, changed: ["invoiceInfo"] }));
  });

  it("a proration that is not the amount shown is never charged; a declined one keeps the plan and says why", async () => {
    await h.api("PUT", "/v1/plans/premium_plus", { ...samplePlan, name: "Premium Plus", amount: 1299, selfService: true });
    const { id } = await subscribeWithCard(h, "premium", "cus_switcher", { number: TEST_CARDS.success });
    await eventually(async () => (await h.api("GET", `/v1/subscriptions/${id}`)).json().status === "active", 15_000, "active");
    const browser = await signedIn("cus_switcher");
    const page = `/portal/subscriptions/${id}`;
    const confirm = await (await browser.get(`${page}/plan?planId=premium_plus`)).text();
    const shown = Number(/data-amount="(\d+)"/.exec(confirm)![1]);
    const token = /name="csrf" value="([^"]+)"><input type="hidden" name="planId"/.exec(confirm)![1]!;
    const moved = await browser.post(`${page}/plan`, { csrf: token, planId: "premium_plus", expectedProration: String(shown + 1) });
    expect(moved.headers.get("location")).toBe(`${page}/plan?planId=premium_plus&changed=1`);
    expect(await (await browser.get(moved.headers.get("location")!)).text()).toContain("差額已隨時間更新，請確認新的金額。");
    const charged = () => h.simulator.ledger.successfulCharges();
    const before = charged().length;
    expect(await row(id)).toMatchObject({ plan_id: "premium" });

    const [first] = (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data;
    h.simulator.reprogramCard(h.simulator.ledger.byOrder(`${first.id}-1`)[0]!.token, { declines: 1, declineCode: "T0004" });
    const again = await (await browser.get(`${page}/plan?planId=premium_plus`)).text();
    const declined = await browser.post(`${page}/plan`, {
      csrf: /name="csrf" value="([^"]+)"><input type="hidden" name="planId"/.exec(again)![1]!,
      planId: "premium_plus",
      expectedProration: /data-amount="(\d+)"/.exec(again)![1]!,
    });
    expect(declined.headers.get("location")).toBe(`${page}/plan?planId=premium_plus&declined=T0004`);
    expect(await (await browser.get(declined.headers.get("location")!)).text()).toContain("差額扣款未成功（額度不足），方案沒有變更。");
    expect(await row(id)).toMatchObject({ plan_id: "premium", status: "active" });
    expect(charged().length).toBe(before);
  });
});
