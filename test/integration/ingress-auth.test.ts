import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, startHarness, type Harness } from "../support/harness.ts";

const NEW_KEY = "platform-key-after-rotation-0123456789";
const METRICS_TOKEN = "metrics-token-for-the-scraper-0123456789";
// An API route that answers 404 once the key is accepted (no such subscription), 401 before.
const API = "/v1/subscriptions/sub_none";
const ADMITTED = 404;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("ingress authentication", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: {
        BILLING_API_KEY: "",
        BILLING_API_KEYS: `${NEW_KEY},${API_KEY}`,
        METRICS_TOKEN,
        AUTH_FAILURE_LIMIT: "3",
        AUTH_FAILURE_WINDOW: "2s",
        TRUST_PROXY: "127.0.0.1",
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = (url: string, authorization: string | undefined, remoteAddress: string, headers: Record<string, string> = {}) =>
    h.service.app!.inject({ method: "GET", url, remoteAddress, headers: { ...headers, ...(authorization === undefined ? {} : { authorization }) } });

  it("accepts every key of BILLING_API_KEYS, and no other", async () => {
    for (const key of [NEW_KEY, API_KEY]) expect((await get(API, `Bearer ${key}`, "10.0.0.1")).statusCode).toBe(ADMITTED);
    expect((await get(API, `Bearer ${NEW_KEY}x`, "10.0.0.2")).statusCode).toBe(401);
    // The API route outside the /v1 scope (it checks the key itself) takes the same keys.
    const paymentMethod = await h.service.app!.inject({ method: "POST", url: "/v1/subscriptions/sub_none/payment-method", remoteAddress: "10.0.0.1", headers: { authorization: `Bearer ${NEW_KEY}` }, payload: { successUrl: "https://a.example/ok", failureUrl: "https://a.example/no" } });
    expect(paymentMethod.statusCode).toBe(404);
  });

  it("puts /metrics behind METRICS_TOKEN, not behind an API key", async () => {
    expect((await get("/metrics", undefined, "10.0.1.1")).statusCode).toBe(401);
    expect((await get("/metrics", `Bearer ${API_KEY}`, "10.0.1.1")).statusCode).toBe(401);
    const metrics = await get("/metrics", `Bearer ${METRICS_TOKEN}`, "10.0.1.2");
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain("billing_charge_attempts_unresolved");
    expect((await get(API, `Bearer ${METRICS_TOKEN}`, "10.0.1.2")).statusCode).toBe(401);
  });

  it("answers 429 to an address after 3 failed bearer attempts, without checking even a right key, until the window has passed", async () => {
    const attacker = "10.0.2.1";
    for (let i = 0; i < 3; i++) expect((await get(API, `Bearer guess-${i}`, attacker)).statusCode).toBe(401);
    const blocked = await get(API, `Bearer ${API_KEY}`, attacker);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(blocked.json()).toMatchObject({ error: "too_many_failed_attempts" });
    // Other addresses, and requests without credentials (Oen's webhooks, health), go on.
    expect((await get(API, `Bearer ${API_KEY}`, "10.0.2.2")).statusCode).toBe(ADMITTED);
    expect((await get("/healthz", undefined, attacker)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await get(API, `Bearer ${API_KEY}`, attacker)).statusCode).toBe(ADMITTED);
  });

  it("throttles failed basic-auth attempts on Bull Board the same way, and counts bearer and basic failures together", async () => {
    const attacker = "10.0.3.1";
    expect((await get("/admin/queues", basic("ops", "wrong-1"), attacker)).statusCode).toBe(401);
    expect((await get("/metrics", "Bearer wrong-2", attacker)).statusCode).toBe(401);
    expect((await get("/admin/queues", basic("ops", "wrong-3"), attacker)).statusCode).toBe(401);
    expect((await get("/admin/queues", basic("ops", "ops-password"), attacker)).statusCode).toBe(429);
    expect((await get("/admin/queues", basic("ops", "ops-password"), "10.0.3.2")).statusCode).toBe(200);
  });

  it("does not count a request without credentials (a browser's first visit to Bull Board)", async () => {
    const visitor = "10.0.4.1";
    for (let i = 0; i < 5; i++) expect((await get("/admin/queues", undefined, visitor)).statusCode).toBe(401);
    expect((await get("/admin/queues", basic("ops", "ops-password"), visitor)).statusCode).toBe(200);
  });

  it("counts per client behind a trusted proxy (TRUST_PROXY), by X-Forwarded-For", async () => {
    for (let i = 0; i < 3; i++) expect((await get(API, `Bearer guess-${i}`, "127.0.0.1", { "x-forwarded-for": "203.0.113.9" })).statusCode).toBe(401);
    expect((await get(API, `Bearer ${API_KEY}`, "127.0.0.1", { "x-forwarded-for": "203.0.113.9" })).statusCode).toBe(429);
    expect((await get(API, `Bearer ${API_KEY}`, "127.0.0.1", { "x-forwarded-for": "203.0.113.10" })).statusCode).toBe(ADMITTED);
    // An untrusted peer cannot choose its address with the header.
    for (let i = 0; i < 3; i++) await get(API, `Bearer guess-${i}`, "10.0.5.1", { "x-forwarded-for": `198.51.100.${i}` });
    expect((await get(API, `Bearer ${API_KEY}`, "10.0.5.1", { "x-forwarded-for": "198.51.100.200" })).statusCode).toBe(429);
  });
});
