import { startOenSimulator, type OenSimulator, type OenSimulatorOptions } from "../../src/oen/simulator/index.ts";
import type { ProductDetail } from "../../src/oen/types.ts";

export const MERCHANT_ID = "ming";
export const API_TOKEN = "sk-test-api-token-0f9e8d7c6b5a4938";

/** A simulator on a free port with short webhook waits, seeded so runs repeat. */
export function startTestSimulator(options: Partial<OenSimulatorOptions> = {}): Promise<OenSimulator> {
  return startOenSimulator({
    merchantId: MERCHANT_ID,
    apiToken: API_TOKEN,
    seed: 42,
    webhookRetryDelaysMs: [30, 60],
    webhookTimeoutMs: 500,
    ...options,
  });
}

export function productLine(unitPrice: number, quantity = 1): ProductDetail {
  return { productionCode: "PLAN-PRO", description: "Pro plan", quantity, unit: "月", unitPrice };
}

export function chargeBody(token: string, orderId: string, amount = 1200): Record<string, unknown> {
  return { merchantId: MERCHANT_ID, amount, token, orderId, productDetails: [productLine(amount)] };
}

export interface ApiAnswer {
  status: number;
  text: string;
  json: any;
  headers: Headers;
}

/** One raw call to the simulated API (JSON body, bearer token unless told otherwise). */
export async function callApi(
  sim: OenSimulator,
  method: string,
  path: string,
  body?: unknown,
  authorization: string | null = `Bearer ${API_TOKEN}`,
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    redirect: "manual",
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}

/** Creates a binding page through the API and returns its id. */
export async function createCheckout(sim: OenSimulator, extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await callApi(sim, "POST", "/checkout-token", {
    merchantId: MERCHANT_ID,
    successUrl: "https://shop.example.com/cards/added",
    failureUrl: "https://shop.example.com/cards/failed",
    customId: "M001",
    ...extra,
  });
  if (answer.status !== 200) throw new Error(`checkout-token: ${answer.status} ${answer.text}`);
  return answer.json.data.id as string;
}

/** A card token for this test card, bound the way the hosted page does it. */
export async function boundToken(sim: OenSimulator, cardNumber: string): Promise<string> {
  const result = sim.bindCard(await createCheckout(sim), { cardNumber });
  if (result.kind !== "bound") throw new Error(`binding ${cardNumber}: ${result.kind}`);
  return result.token;
}
