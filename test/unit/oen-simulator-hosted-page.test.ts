import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TEST_CARDS, type OenSimulator } from "../../src/oen/simulator/index.ts";
import { callApi, chargeBody, createCheckout, startTestSimulator } from "../oen/sim-fixtures.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../oen/webhook-receiver.ts";

let sim: OenSimulator;
let receiver: WebhookReceiver;
let clock: Date;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  sim = await startTestSimulator({ now: () => clock });
  sim.setWebhookUrl(receiver.url);
});
afterAll(async () => {
  await sim.close();
  await receiver.close();
});
beforeEach(() => {
  clock = new Date("2026-09-28T02:40:00.000Z");
});
afterEach(async () => {
  await sim.webhooksIdle();
  receiver.received.length = 0;
});

interface ParsedForm {
  action: string;
  fields: Map<string, string>;
}

/** Reads the page's form the way a browser would: its action and its inputs' names and values. */
function parseForm(html: string, pageUrl: string): ParsedForm {
  const form = /<form[^>]*method="post"[^>]*action="([^"]+)"/.exec(html);
  if (!form?.[1]) throw new Error("no form on the page");
  const fields = new Map<string, string>();
  for (const input of html.matchAll(/<input name="([^"]+)" value="([^"]*)"/g)) fields.set(input[1] ?? "", input[2] ?? "");
  return { action: new URL(form[1], pageUrl).toString(), fields };
}

async function openPage(checkoutId: string): Promise<{ response: Response; html: string }> {
  const response = await fetch(sim.checkoutUrl(checkoutId), { redirect: "manual" });
  return { response, html: await response.text() };
}

async function submit(checkoutId: string, values: Record<string, string>): Promise<Response> {
  const { html } = await openPage(checkoutId);
  const form = parseForm(html, sim.checkoutUrl(checkoutId));
  for (const [name, value] of Object.entries(values)) form.fields.set(name, value);
  return fetch(form.action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams([...form.fields]).toString(),
    redirect: "manual",
  });
}

const card = { cardNumber: "4242 4242 4242 4242", expiry: "12/30", cvc: "123", email: "ming@example.com", cardholderName: "WANG XIAO MING" };

describe("hosted binding page", () => {
  it("binds a card end to end: page → form POST → 303 to successUrl → token webhook → a working token", async () => {
    const checkoutId = await createCheckout(sim, { payerEmail: "ming@example.com", successUrl: "https://shop.example.com/cards/added?member=M001" });
    const { response, html } = await openPage(checkoutId);
    expect(response.headers.get("content-type")).toContain("text/html");
    const form = parseForm(html, sim.checkoutUrl(checkoutId));
    expect(form.action).toBe(sim.checkoutUrl(checkoutId));
    expect([...form.fields.keys()].sort()).toEqual(["cardNumber", "cardholderName", "cvc", "email", "expiry"]);
    expect(form.fields.get("email")).toBe("ming@example.com");

    const submitted = await submit(checkoutId, card);
    expect(submitted.status).toBe(303);
    expect(submitted.headers.get("location")).toBe("https://shop.example.com/cards/added?member=M001");

    const [webhook] = await receiver.waitFor(1);
    expect(webhook?.body).toEqual({
      purpose: "token",
      id: checkoutId,
      transactionId: checkoutId,
      merchantId: "ming",
      success: true,
      token: expect.stringMatching(/^[0-9A-Za-z]{27}$/),
      paymentInfo: "4242",
      customId: "M001",
      message: "",
    });
    const token = webhook?.body.token as string;
    expect(submitted.headers.get("location")).not.toContain(token);
    const charge = await callApi(sim, "POST", "/token/transactions", chargeBody(token, "HOSTED-1"));
    expect(charge.json.code).toBe("S0000");
  });

  it("works once: a second submit goes to failureUrl with payment_error=V0002", async () => {
    const checkoutId = await createCheckout(sim);
    expect((await submit(checkoutId, card)).status).toBe(303);
    const again = await fetch(sim.checkoutUrl(checkoutId), { redirect: "manual" });
    expect(again.headers.get("location")).toBe("https://shop.example.com/cards/failed?payment_error=V0002");
    expect(sim.bindCard(checkoutId, { cardNumber: TEST_CARDS.success }).kind).toBe("already_used");
  });

  it("expires 10 minutes after POST /checkout-token: failureUrl?payment_error=Y003, no webhook", async () => {
    const checkoutId = await createCheckout(sim);
    const { html } = await openPage(checkoutId);
    const form = parseForm(html, sim.checkoutUrl(checkoutId));
    clock = new Date(clock.getTime() + 9 * 60_000 + 59_000);
    expect((await openPage(checkoutId)).response.status).toBe(200);
    clock = new Date(clock.getTime() + 1_000);
    for (const [name, value] of Object.entries(card)) form.fields.set(name, value);
    const late = await fetch(form.action, { method: "POST", body: new URLSearchParams([...form.fields]), redirect: "manual" });
    expect(late.status).toBe(303);
    expect(late.headers.get("location")).toBe("https://shop.example.com/cards/failed?payment_error=Y003");
    expect((await openPage(checkoutId)).response.headers.get("location")).toContain("payment_error=Y003");
    await sim.webhooksIdle();
    expect(receiver.received).toEqual([]);
  });

  it("blocks an expired card date on the page, and the page stays usable", async () => {
    const checkoutId = await createCheckout(sim);
    const rejected = await submit(checkoutId, { ...card, expiry: "08/26" });
    expect(rejected.status).toBe(422);
    expect(await rejected.text()).toContain("卡片已過期");
    const thisMonth = await submit(checkoutId, { ...card, expiry: "09/26" });
    expect(thisMonth.status).toBe(303);
    await receiver.waitFor(1);
  });

  it.each([
    ["cardNumber", "1234"],
    ["expiry", "13/30"],
    ["cvc", "12"],
    ["email", ""],
  ])("re-renders the form when %s is invalid", async (field, value) => {
    const checkoutId = await createCheckout(sim);
    const response = await submit(checkoutId, { ...card, [field]: value });
    expect(response.status).toBe(422);
    expect(await response.text()).toContain('class="errors"');
  });

  it.each([
    [TEST_CARDS.bindingFails, "CARD_VERIFICATION_FAILED"],
    [TEST_CARDS.threeDsAbandoned, "3DS_ABANDONED"],
  ])("a failed binding (%s) sends success:false with message %s and goes to failureUrl", async (cardNumber, message) => {
    const checkoutId = await createCheckout(sim);
    const response = await submit(checkoutId, { ...card, cardNumber });
    expect(response.headers.get("location")).toBe("https://shop.example.com/cards/failed?payment_error=T0001");
    const [webhook] = await receiver.waitFor(1);
    expect(webhook?.body).toEqual({ purpose: "token", id: checkoutId, transactionId: checkoutId, merchantId: "ming", success: false, customId: "M001", message });
  });

  it("shows a page instead of redirecting when the URLs are null", async () => {
    const checkoutId = await createCheckout(sim, { successUrl: null, failureUrl: null });
    const response = await submit(checkoutId, card);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("綁卡成功");
  });

  it("answers 404 for an unknown page", async () => {
    expect((await openPage("x".repeat(27))).response.status).toBe(404);
  });

  it("bindCard does what the form does, with the same checks", async () => {
    const checkoutId = await createCheckout(sim, { payerEmail: "ming@example.com" });
    expect(sim.bindCard(checkoutId, { cardNumber: TEST_CARDS.success, expiry: "01/20" })).toMatchObject({ kind: "invalid" });
    const result = sim.bindCard(checkoutId, { cardNumber: TEST_CARDS.success });
    expect(result).toEqual({ kind: "bound", token: expect.any(String), redirectUrl: "https://shop.example.com/cards/added" });
    const [webhook] = await receiver.waitFor(1);
    expect(webhook?.body).toMatchObject({ id: checkoutId, success: true, token: (result as { token: string }).token });
    expect(sim.bindCard("nope", { cardNumber: TEST_CARDS.success })).toEqual({ kind: "not_found" });
  });
});
