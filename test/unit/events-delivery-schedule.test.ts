import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { EVENT_RETRY } from "../../src/events/deliver-event.ts";
import { isWebhookSecret } from "../../src/events/webhook-secret.ts";
import { retryDelayMs, retrySpanMs } from "../../src/notify/retry-schedule.ts";

const DAY = 86_400_000;

describe("platform event delivery schedule", () => {
  it("starts at 10 s, doubles, and never waits more than an hour", () => {
    expect(retryDelayMs(EVENT_RETRY, 1)).toBe(10_000);
    expect(retryDelayMs(EVENT_RETRY, 2)).toBe(20_000);
    for (let made = 1; made < EVENT_RETRY.attempts; made++) expect(retryDelayMs(EVENT_RETRY, made)).toBeLessThanOrEqual(3_600_000);
  });

  it("keeps trying, hourly at the end, for 30 days, but not much more", () => {
    expect(retryDelayMs(EVENT_RETRY, EVENT_RETRY.attempts - 1)).toBe(3_600_000);
    expect(retrySpanMs(EVENT_RETRY)).toBeGreaterThan(30 * DAY);
    expect(retrySpanMs({ ...EVENT_RETRY, attempts: EVENT_RETRY.attempts - 1 })).toBeLessThan(30 * DAY);
  });
});

describe("isWebhookSecret", () => {
  const base64 = (bytes: number) => Buffer.alloc(bytes, 7).toString("base64");

  it.each([24, 32, 64])("accepts whsec_ and %i bytes of base64", (bytes) => {
    expect(isWebhookSecret(`whsec_${base64(bytes)}`)).toBe(true);
  });

  it.each([
    ["no prefix", base64(32)],
    ["too short", `whsec_${base64(16)}`],
    ["too long", `whsec_${base64(65)}`],
    ["not base64", "whsec_this is not base64!!"],
    ["bad padding", `whsec_${base64(32).slice(0, -1)}`],
    ["empty", "whsec_"],
  ])("refuses %s", (_what, secret) => {
    expect(isWebhookSecret(secret)).toBe(false);
  });
});

describe("PLATFORM_WEBHOOK_SECRET", () => {
  const env = { PLATFORM_WEBHOOK_URL: "https://platform.example.com/hooks" };

  it("stops start-up with one line when it is not a Standard Webhooks secret", () => {
    expect(() => loadConfig({ ...env, PLATFORM_WEBHOOK_SECRET: "hunter2-plain-password" })).toThrow(/^PLATFORM_WEBHOOK_SECRET must be whsec_ followed by the base64/);
  });

  it("is accepted in the whsec_ format", () => {
    const secret = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
    expect(loadConfig({ ...env, PLATFORM_WEBHOOK_SECRET: secret }).platformWebhook).toEqual({ url: env.PLATFORM_WEBHOOK_URL, secret });
  });
});
