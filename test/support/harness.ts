import { freePort } from "./free-port.ts";
import type { LightMyRequestResponse } from "fastify";
import { loadConfig, type Config } from "../../src/config.ts";
import type { Clock } from "../../src/clock.ts";
import { silentLogger, type Logger } from "../../src/log.ts";
import { startOenSimulator, type OenSimulator, type OenSimulatorOptions } from "../../src/oen/simulator/index.ts";
import { startService, type Service } from "../../src/service.ts";
import { createTestDatabase, deleteQueueKeys, testQueuePrefix, testRedisUrl, type TestDatabase } from "./test-services.ts";

export const API_KEY = "test-billing-api-key";
export const MERCHANT_ID = "testshop";
export const TEST_KEYS = `k2:${Buffer.alloc(32, 2).toString("base64")},k1:${Buffer.alloc(32, 1).toString("base64")}`;

export interface Harness {
  database: TestDatabase;
  simulator: OenSimulator;
  service: Service;
  config: Config;
  /** Environment that starts another process of this same service (for kill tests). */
  env: Record<string, string>;
  api(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /** Where the service logs (default: nowhere). */
  logger?: Logger;
  /** Faster webhook retries than Oen's 2 s / 4 s, for tests about other things. */
  webhookRetryDelaysMs?: number[];
  /** Simulator behaviour beyond the defaults (e.g. card-binding authorisations in its transaction list). */
  simulator?: Pick<OenSimulatorOptions, "bindingAuthorisations">;
}

/**
 * A whole service (ingress, workers) on a private database and queue prefix,
 * talking real HTTP to a private Oen simulator.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const database = await createTestDatabase();
  const simulator = await startOenSimulator({
    merchantId: MERCHANT_ID,
    apiToken: "sim-api-token-for-tests",
    webhookUrl: "http://127.0.0.1:9/unset",
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? [200, 400],
    einvoice: options.env?.OEN_EINVOICE === "1",
    ...options.simulator,
  });
  const port = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: "test",
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: testQueuePrefix(),
    PORT: String(port),
    HOST: "127.0.0.1",
    OEN_MERCHANT_ID: MERCHANT_ID,
    OEN_API_TOKEN: "sim-api-token-for-tests",
    OEN_API_URL: simulator.url,
    OEN_HOSTED_URL: simulator.hostedUrl,
    BILLING_API_KEY: API_KEY,
    ADMIN_USER: "ops",
    ADMIN_PASSWORD: "ops-password",
    TOKEN_ENCRYPTION_KEYS: TEST_KEYS,
    OEN_LOOKUP_SETTLE: "2s",
    RENEWAL_JITTER: "0s",
    LOG_LEVEL: "silent",
    ...options.env,
  };
  const config = loadConfig(env);
  let service: Service;
  try {
    service = await startService({ config, logger: options.logger ?? silentLogger, ...(options.clock ? { clock: options.clock } : {}) });
  } catch (error) {
    await simulator.close();
    await database.drop();
    throw error;
  }
  simulator.setWebhookUrl(`${service.url}/webhooks/oen`);
  return {
    database,
    simulator,
    service,
    config,
    env,
    api: (method, path, body) =>
      service.app!.inject({ method, url: path, headers: { authorization: `Bearer ${API_KEY}` }, ...(body === undefined ? {} : { payload: body as object }) }),
    async close() {
      await service.close();
      await simulator.close();
      await deleteQueueKeys(config.queuePrefix);
      await database.drop();
    },
  };
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

/** A subscription created through the API, its card bound on the simulator's page (the form's checks, no browser). */
export async function subscribeWithCard(h: Harness, planId: string, customerId: string, card: { number?: string; email?: string } = {}): Promise<{ id: string; checkoutUrl: string }> {
  const email = card.email ?? "ming@example.com";
  const body = sampleSubscription(planId, customerId);
  const created = await h.api("POST", "/v1/subscriptions", { ...body, customer: { ...body.customer, email } });
  if (created.statusCode !== 201) throw new Error(`subscription not created: ${created.body}`);
  const subscription = created.json() as { id: string; checkoutUrl: string };
  const bound = h.simulator.bindCard(subscription.checkoutUrl.split("/").pop()!, { cardNumber: card.number ?? "4242424242424242", expiry: "12/39", cvc: "123", email });
  if (bound.kind !== "bound" && bound.kind !== "binding_failed") throw new Error(`the card was not submitted: ${bound.kind}`);
  return subscription;
}

export const samplePlan = {
  name: "Premium monthly",
  amount: 899,
  interval: "month",
  intervalCount: 1,
  productCode: "PREMIUM-M",
  description: "Premium subscription",
  unit: "month",
} as const;

export function sampleSubscription(planId: string, customerId = "cus_1") {
  return {
    customer: { id: customerId, name: "王小明", email: "ming@example.com" },
    planId,
    successUrl: "https://platform.example.com/billing/success",
    failureUrl: "https://platform.example.com/billing/failure",
  };
}
