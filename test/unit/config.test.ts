import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

const key = Buffer.alloc(32, 5).toString("base64");
const production = {
  NODE_ENV: "production",
  DATABASE_URL: "postgres://db/billing",
  REDIS_URL: "redis://redis:6379",
  OEN_MERCHANT_ID: "ming",
  OEN_API_TOKEN: "live-token",
  OEN_API_URL: "https://payment-api.oen.tw",
  BILLING_API_KEY: "platform-key",
  ADMIN_USER: "ops",
  ADMIN_PASSWORD: "secret",
  TOKEN_ENCRYPTION_KEYS: `k1:${key}`,
};

describe("loadConfig", () => {
  it("starts with no settings at all outside production (simulator, dev keys)", () => {
    const config = loadConfig({});
    expect(config.oen.apiToken).toBeNull();
    expect(config.oen.hostedUrl).toBe("https://sandbox.testing.oen.tw");
    expect(config.billingTimezone).toBe("Asia/Taipei");
    expect(config.dunning.retryScheduleMs).toEqual([1, 3, 5, 7].map((d) => d * 86_400_000));
    expect(config.roles).toEqual(["ingress", "workers", "scheduler"]);
    expect(config.renewalJitterMs).toBe(60_000);
    expect(config.dunning).toMatchObject({ hardCodes: ["T0002", "T0003"], cardAttemptLimit: 15, cardAttemptWindowMs: 30 * 86_400_000 });
    expect(loadConfig({ RENEWAL_SWEEP_INTERVAL: "10s" }).renewalJitterMs).toBe(10_000);
  });

  it("accepts a complete production environment", () => {
    const config = loadConfig(production);
    expect(config.oen.apiToken).toBe("live-token");
    expect(config.tokenKeys.primaryId).toBe("k1");
  });

  it.each([
    [{ OEN_API_TOKEN: undefined }, /^OEN_API_TOKEN is required in production$/],
    [{ TOKEN_ENCRYPTION_KEYS: undefined }, /^TOKEN_ENCRYPTION_KEYS is required$/],
    [{ TOKEN_ENCRYPTION_KEYS: "k1:short" }, /^TOKEN_ENCRYPTION_KEYS must be/],
    [{ RENEWAL_SWEEP_INTERVAL: "soon" }, /^RENEWAL_SWEEP_INTERVAL must be a duration/],
    [{ DUNNING_RETRY_SCHEDULE: "1d,x" }, /^DUNNING_RETRY_SCHEDULE must be/],
    [{ RENEWAL_SWEEP_INTERVAL: "1m", RENEWAL_JITTER: "5m" }, /^RENEWAL_JITTER must not be longer than RENEWAL_SWEEP_INTERVAL$/],
    [{ OEN_LOOKUP_SETTLE: "30s" }, /^OEN_LOOKUP_SETTLE must be at least OEN_REQUEST_TIMEOUT plus 1m in production$/],
    [{ DUNNING_HARD_DECLINES: "T0003,X9999" }, /^DUNNING_HARD_DECLINES must list decline codes among T0001/],
    [{ DUNNING_CARD_ATTEMPT_LIMIT: "0" }, /^DUNNING_CARD_ATTEMPT_LIMIT must be an integer from 1/],
    [{ DUNNING_RETRY_SCHEDULE: "3d,1d" }, /^DUNNING_RETRY_SCHEDULE must be strictly increasing/],
    [{ DUNNING_FINAL_STATE: "deleted" }, /^DUNNING_FINAL_STATE must be unpaid or canceled$/],
    [{ BILLING_TIMEZONE: "Mars/Olympus" }, /^BILLING_TIMEZONE must be an IANA time zone/],
    [{ PORT: "70000" }, /^PORT must be an integer/],
    [{ PLATFORM_WEBHOOK_URL: "https://platform.example.com/hooks" }, /^PLATFORM_WEBHOOK_SECRET must be set together/],
    [{ BILLING_TEST_CLOCK: "1" }, /^BILLING_TEST_CLOCK cannot be enabled against Oen production$/],
    [{ ROLES: "ingress,cron" }, /^ROLES must list roles/],
  ])("stops with one line naming the setting: %j", (change, message) => {
    const env = { ...production, ...change };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("never echoes key material", () => {
    const bad = Buffer.alloc(20, 9).toString("base64");
    expect(() => loadConfig({ ...production, TOKEN_ENCRYPTION_KEYS: `k1:${bad}` })).toThrow(/^(?!.*AAAA).*$/);
    try {
      loadConfig({ ...production, TOKEN_ENCRYPTION_KEYS: `k1:${bad}` });
    } catch (error) {
      expect((error as Error).message).not.toContain(bad);
    }
  });

  it("refuses the test clock against the production API even outside NODE_ENV=production", () => {
    expect(() => loadConfig({ OEN_API_URL: "https://payment-api.oen.tw", BILLING_TEST_CLOCK: "1" })).toThrow(/BILLING_TEST_CLOCK/);
  });
});
