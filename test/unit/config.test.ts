import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

const key = randomBytes(32).toString("base64");
const secret = (length: number) => randomBytes(length).toString("base64url").slice(0, length);
// A real Oen token and nothing else about the environment: no NODE_ENV.
const real = {
  DATABASE_URL: "postgres://db/billing",
  REDIS_URL: "redis://redis:6379",
  OEN_MERCHANT_ID: "ming",
  OEN_API_TOKEN: "live-token",
  OEN_API_URL: "https://payment-api.oen.tw",
  OEN_HOSTED_URL: "https://ming.oen.tw",
  PUBLIC_URL: "https://billing.example.com",
  BILLING_API_KEYS: `${secret(40)},${secret(40)}`,
  ADMIN_USER: "ops",
  ADMIN_PASSWORD: secret(20),
  METRICS_TOKEN: secret(40),
  TOKEN_ENCRYPTION_KEYS: `k1:${key}`,
};
const production = { ...real, NODE_ENV: "production" };
const problemsOf = (env: Record<string, string | undefined>): readonly string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

const DEV_KEY = `dev:${Buffer.alloc(32, 7).toString("base64")}`;
const R = "with a real OEN_API_TOKEN";

// Every unsafe setting under a real token, and the one line that refuses it.
const UNSAFE: Array<[change: Record<string, string | undefined>, line: string]> = [
  [{ OEN_MERCHANT_ID: undefined, OEN_HOSTED_URL: "https://sandbox.oen.tw" }, `OEN_MERCHANT_ID is required ${R}`],
  [{ OEN_API_URL: "http://127.0.0.1:3001" }, `OEN_API_URL must be https://payment-api.testing.oen.tw or https://payment-api.oen.tw ${R}`],
  [{ OEN_HOSTED_URL: "https://ming.testing.oen.tw" }, `OEN_HOSTED_URL must be https://ming.oen.tw to pair with OEN_API_URL ${R}`],
  [{ OEN_API_URL: "https://payment-api.testing.oen.tw" }, `OEN_HOSTED_URL must be https://ming.testing.oen.tw to pair with OEN_API_URL ${R}`],
  [{ OEN_HOSTED_URL: "https://other.oen.tw" }, `OEN_HOSTED_URL must be https://ming.oen.tw to pair with OEN_API_URL ${R}`],
  [{ BILLING_TEST_CLOCK: "1" }, `BILLING_TEST_CLOCK cannot be enabled ${R}`],
  [{ OEN_REQUEST_TIMEOUT: "10s", OEN_LOOKUP_SETTLE: "5m" }, `OEN_REQUEST_TIMEOUT must be at least 30s ${R} (Oen cuts a request at 29 s)`],
  [{ OEN_LOOKUP_SETTLE: "1s" }, `OEN_LOOKUP_SETTLE must be at least OEN_REQUEST_TIMEOUT plus 1m ${R}`],
  [{ OEN_CHARGE_RATE: "1001" }, `OEN_CHARGE_RATE must be at most 1000 ${R} (Oen publishes no rate limit: agree a higher one with Oen first)`],
  [{ AUDIT_LOG_RETENTION: "364d" }, `AUDIT_LOG_RETENTION must be at least 365d ${R} (a yearly audit reads a year of card token access)`],
  [{ OEN_REQUEST_TIMEOUT: "35s", OEN_LOOKUP_SETTLE: "94s" }, `OEN_LOOKUP_SETTLE must be at least OEN_REQUEST_TIMEOUT plus 1m ${R}`],
  [{ PUBLIC_URL: undefined }, `PUBLIC_URL is required ${R}`],
  [{ PUBLIC_URL: "http://billing.example.com" }, `PUBLIC_URL must be an https URL that customers reach (not localhost) ${R}`],
  [{ PUBLIC_URL: "https://localhost:3000" }, `PUBLIC_URL must be an https URL that customers reach (not localhost) ${R}`],
  [{ PUBLIC_URL: "https://127.0.0.1" }, `PUBLIC_URL must be an https URL that customers reach (not localhost) ${R}`],
  [{ BILLING_API_KEYS: undefined }, `BILLING_API_KEYS (or BILLING_API_KEY) is required ${R}`],
  [{ BILLING_API_KEYS: undefined, BILLING_API_KEY: "dev-billing-api-key" }, `BILLING_API_KEY must not be a published default (like dev-billing-api-key or admin) ${R}`],
  [{ BILLING_API_KEYS: undefined, BILLING_API_KEY: "platform-key" }, `BILLING_API_KEY must be at least 32 random characters ${R}`],
  [{ BILLING_API_KEYS: `${secret(40)},short` }, `BILLING_API_KEYS (key 2) must be at least 32 random characters ${R}`],
  [{ BILLING_API_KEYS: "ab".repeat(20) }, `BILLING_API_KEYS must be at least 32 random characters ${R}`],
  [{ BILLING_API_KEY: secret(40) }, "BILLING_API_KEY must not be set together with BILLING_API_KEYS (list every key in BILLING_API_KEYS)"],
  [{ ADMIN_USER: undefined }, `ADMIN_USER is required ${R}`],
  [{ ADMIN_PASSWORD: undefined }, `ADMIN_PASSWORD is required ${R}`],
  [{ ADMIN_PASSWORD: "admin" }, `ADMIN_PASSWORD must not be a published default (like dev-billing-api-key or admin) ${R}`],
  [{ ADMIN_PASSWORD: "secret" }, `ADMIN_PASSWORD must be at least 16 random characters ${R}`],
  [{ METRICS_TOKEN: undefined }, `METRICS_TOKEN is required ${R}`],
  [{ METRICS_TOKEN: "metrics" }, `METRICS_TOKEN must be at least 32 random characters ${R}`],
  [{ METRICS_TOKEN: real.BILLING_API_KEYS.split(",")[1] }, "METRICS_TOKEN must differ from every platform API key (a scraper must not hold one)"],
  [{ ADMIN_PASSWORD: real.BILLING_API_KEYS.split(",")[0] }, "ADMIN_PASSWORD must differ from every platform API key"],
  [{ TOKEN_ENCRYPTION_KEYS: undefined }, `TOKEN_ENCRYPTION_KEYS is required ${R}`],
  [{ TOKEN_ENCRYPTION_KEYS: DEV_KEY }, `TOKEN_ENCRYPTION_KEYS key "dev" must be 32 random bytes, not the built-in development key ${R}`],
  [{ TOKEN_ENCRYPTION_KEYS: `k2:${key},k1:${Buffer.alloc(32, 1).toString("base64")}` }, `TOKEN_ENCRYPTION_KEYS key "k1" must be 32 random bytes, not the built-in development key ${R}`],
  [
    { PLATFORM_WEBHOOK_URL: "https://platform.example.com/hooks", PLATFORM_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
    `PLATFORM_WEBHOOK_SECRET must be random bytes, not a published example ${R}`,
  ],
  [
    { PLATFORM_WEBHOOK_URL: "https://platform.example.com/hooks", PLATFORM_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 11).toString("base64")}` },
    `PLATFORM_WEBHOOK_SECRET must be random bytes, not a published example ${R}`,
  ],
];

describe("loadConfig", () => {
  it("starts with no settings at all (simulator, development defaults)", () => {
    const config = loadConfig({});
    expect(config.oen.apiToken).toBeNull();
    expect(config.oen.apiUrl).toBe("https://payment-api.testing.oen.tw");
    expect(config.oen.hostedUrl).toBe("https://sandbox.testing.oen.tw");
    expect(config.billingApiKeys).toEqual(["dev-billing-api-key"]);
    expect(config.admin).toEqual({ user: "admin", password: "admin" });
    expect(config.metricsToken).toBeNull();
    expect(config.trustProxy).toBe(false);
    expect(config.authThrottle).toEqual({ limit: 10, windowMs: 15 * 60_000 });
    expect(config.billingTimezone).toBe("Asia/Taipei");
    expect(config.dunning.retryScheduleMs).toEqual([1, 3, 5, 7].map((d) => d * 86_400_000));
    expect(config.roles).toEqual(["ingress", "workers", "scheduler"]);
    expect(config.renewalJitterMs).toBe(60_000);
    expect(config.dunning).toMatchObject({ hardCodes: ["T0002", "T0003"], cardAttemptLimit: 15, cardAttemptWindowMs: 30 * 86_400_000 });
    expect(loadConfig({ RENEWAL_SWEEP_INTERVAL: "10s" }).renewalJitterMs).toBe(10_000);
  });

  it("accepts a complete, safe environment with a real token and no NODE_ENV", () => {
    const config = loadConfig(real);
    expect(config.oen.apiToken).toBe("live-token");
    expect(config.billingApiKeys).toEqual(real.BILLING_API_KEYS.split(","));
    expect(config.tokenKeys.primaryId).toBe("k1");
    expect(config.metricsToken).toBe(real.METRICS_TOKEN);
  });

  it("keeps BILLING_API_KEY as a single key", () => {
    const single = secret(40);
    expect(loadConfig({ ...real, BILLING_API_KEYS: undefined, BILLING_API_KEY: single }).billingApiKeys).toEqual([single]);
    expect(loadConfig({ BILLING_API_KEY: "dev-key" }).billingApiKeys).toEqual(["dev-key"]);
  });

  it("defaults to Oen production URLs in production, and pairs the hosted URL with the API URL", () => {
    const config = loadConfig({ ...production, OEN_API_URL: undefined, OEN_HOSTED_URL: undefined });
    expect(config.oen.apiUrl).toBe("https://payment-api.oen.tw");
    expect(config.oen.hostedUrl).toBe("https://ming.oen.tw");
    const testing = loadConfig({ ...real, OEN_API_URL: "https://payment-api.testing.oen.tw", OEN_HOSTED_URL: undefined });
    expect(testing.oen.hostedUrl).toBe("https://ming.testing.oen.tw");
    expect(loadConfig({ ...real, OEN_HOSTED_URL: undefined }).oen.hostedUrl).toBe("https://ming.oen.tw");
  });

  it("takes a sim- token for a simulator's: development defaults stay allowed (tests)", () => {
    const config = loadConfig({ OEN_API_TOKEN: "sim-test", OEN_API_URL: "http://127.0.0.1:3001", OEN_LOOKUP_SETTLE: "2s", BILLING_TEST_CLOCK: "1" });
    expect(config.oen.lookupSettleMs).toBe(2_000);
    expect(config.testClock).toBe(true);
  });

  it.each(UNSAFE)("refuses with a real token, in one line: %j", (change, line) => {
    expect(problemsOf({ ...real, ...change })).toEqual([line]);
  });

  it("refuses every unsafe setting at once, each on its own line", () => {
    const env = {
      ...real,
      OEN_API_URL: "http://127.0.0.1:3001",
      OEN_HOSTED_URL: "http://127.0.0.1:3001",
      BILLING_TEST_CLOCK: "1",
      OEN_REQUEST_TIMEOUT: "10s",
      OEN_LOOKUP_SETTLE: "1s",
      PUBLIC_URL: "http://localhost:3000",
      BILLING_API_KEYS: "dev-billing-api-key,short",
      ADMIN_PASSWORD: "admin",
      METRICS_TOKEN: "metrics",
      TOKEN_ENCRYPTION_KEYS: DEV_KEY,
      PLATFORM_WEBHOOK_URL: "https://platform.example.com/hooks",
      PLATFORM_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    };
    expect(problemsOf(env)).toEqual([
      `OEN_API_URL must be https://payment-api.testing.oen.tw or https://payment-api.oen.tw ${R}`,
      `OEN_HOSTED_URL must be https://ming.testing.oen.tw or https://ming.oen.tw to pair with OEN_API_URL ${R}`,
      `BILLING_TEST_CLOCK cannot be enabled ${R}`,
      `OEN_REQUEST_TIMEOUT must be at least 30s ${R} (Oen cuts a request at 29 s)`,
      `OEN_LOOKUP_SETTLE must be at least OEN_REQUEST_TIMEOUT plus 1m ${R}`,
      `PUBLIC_URL must be an https URL that customers reach (not localhost) ${R}`,
      `BILLING_API_KEYS (key 1) must not be a published default (like dev-billing-api-key or admin) ${R}`,
      `BILLING_API_KEYS (key 2) must be at least 32 random characters ${R}`,
      `ADMIN_PASSWORD must not be a published default (like dev-billing-api-key or admin) ${R}`,
      `METRICS_TOKEN must be at least 32 random characters ${R}`,
      `PLATFORM_WEBHOOK_SECRET must be random bytes, not a published example ${R}`,
      `TOKEN_ENCRYPTION_KEYS key "dev" must be 32 random bytes, not the built-in development key ${R}`,
    ]);
  });

  it("refuses every development default at once when only the token is set (the issue's case)", () => {
    expect(problemsOf({ OEN_API_TOKEN: "live-token", OEN_LOOKUP_SETTLE: "1s" })).toEqual([
      `OEN_MERCHANT_ID is required ${R}`,
      `PUBLIC_URL is required ${R}`,
      `BILLING_API_KEYS (or BILLING_API_KEY) is required ${R}`,
      `ADMIN_USER is required ${R}`,
      `ADMIN_PASSWORD is required ${R}`,
      `METRICS_TOKEN is required ${R}`,
      `TOKEN_ENCRYPTION_KEYS is required ${R}`,
      `OEN_LOOKUP_SETTLE must be at least OEN_REQUEST_TIMEOUT plus 1m ${R}`,
    ]);
  });

  it("is as strict in production, whatever the token", () => {
    expect(problemsOf({ ...production, OEN_API_TOKEN: "sim-x", ADMIN_PASSWORD: "admin" })).toEqual([
      "ADMIN_PASSWORD must not be a published default (like dev-billing-api-key or admin) in production",
    ]);
    expect(problemsOf({ ...production, OEN_API_TOKEN: undefined })).toEqual(["OEN_API_TOKEN is required in production"]);
    expect(problemsOf({ ...production, DATABASE_URL: undefined, REDIS_URL: undefined })).toEqual(["DATABASE_URL is required in production", "REDIS_URL is required in production"]);
  });

  it.each([
    [{ TOKEN_ENCRYPTION_KEYS: "k1:short" }, /^TOKEN_ENCRYPTION_KEYS must be a comma-separated list/],
    [{ RENEWAL_SWEEP_INTERVAL: "soon" }, /^RENEWAL_SWEEP_INTERVAL must be a duration/],
    [{ DUNNING_RETRY_SCHEDULE: "1d,x" }, /^DUNNING_RETRY_SCHEDULE must be/],
    [{ RENEWAL_SWEEP_INTERVAL: "1m", RENEWAL_JITTER: "5m" }, /^RENEWAL_JITTER must not be longer than RENEWAL_SWEEP_INTERVAL$/],
    [{ DUNNING_HARD_DECLINES: "T0003,X9999" }, /^DUNNING_HARD_DECLINES must list decline codes among T0001/],
    [{ DUNNING_CARD_ATTEMPT_LIMIT: "0" }, /^DUNNING_CARD_ATTEMPT_LIMIT must be an integer from 1/],
    [{ DUNNING_RETRY_SCHEDULE: "3d,1d" }, /^DUNNING_RETRY_SCHEDULE must be strictly increasing/],
    [{ DUNNING_FINAL_STATE: "deleted" }, /^DUNNING_FINAL_STATE must be unpaid or canceled$/],
    [{ BILLING_TIMEZONE: "Mars/Olympus" }, /^BILLING_TIMEZONE must be an IANA time zone/],
    [{ PORT: "70000" }, /^PORT must be an integer/],
    [{ PLATFORM_WEBHOOK_URL: "https://platform.example.com/hooks" }, /^PLATFORM_WEBHOOK_SECRET must be set together/],
    [{ ROLES: "ingress,cron" }, /^ROLES must list roles/],
    [{ TRUST_PROXY: "true" }, /^TRUST_PROXY must be a comma-separated list of proxy addresses/],
    [{ TRUST_PROXY: "2" }, /^TRUST_PROXY must be a comma-separated list of proxy addresses/],
    [{ AUTH_FAILURE_LIMIT: "0" }, /^AUTH_FAILURE_LIMIT must be an integer from 1/],
    [{ AUTH_FAILURE_WINDOW: "a while" }, /^AUTH_FAILURE_WINDOW must be a duration/],
    [{ OEN_WEBHOOK_RATE_LIMIT: "0" }, /^OEN_WEBHOOK_RATE_LIMIT must be an integer from 1/],
    [{ OEN_WEBHOOK_ALLOWED_IPS: "203.0.113.0/33" }, /^OEN_WEBHOOK_ALLOWED_IPS must be a comma-separated list of IP addresses or CIDRs .*"203\.0\.113\.0\/33"/],
    [{ OEN_WEBHOOK_ALLOWED_IPS: "oen.tw" }, /^OEN_WEBHOOK_ALLOWED_IPS must be a comma-separated list of IP addresses or CIDRs/],
    [{ OEN_WEBHOOK_LATE_MARGIN: "soon" }, /^OEN_WEBHOOK_LATE_MARGIN must be a duration/],
    [{ WEBHOOK_INBOX_RETENTION: "forever" }, /^WEBHOOK_INBOX_RETENTION must be a duration/],
    [{ WEBHOOK_EVENTS_RETENTION: "-1d" }, /^WEBHOOK_EVENTS_RETENTION must be a duration/],
    [{ CHARGE_CONCURRENCY: "0" }, /^CHARGE_CONCURRENCY must be an integer from 1 to 1000/],
    [{ DATABASE_POOL_SIZE: "0" }, /^DATABASE_POOL_SIZE must be an integer from 1 to 500/],
    [{ WEBHOOK_CONCURRENCY: "many" }, /^WEBHOOK_CONCURRENCY must be an integer/],
    [{ NOTIFICATION_CONCURRENCY: "2.5" }, /^NOTIFICATION_CONCURRENCY must be an integer/],
    [{ LOOKUP_CONCURRENCY: "-1" }, /^LOOKUP_CONCURRENCY must be an integer/],
    [{ LOG_FORMAT: "xml" }, /^LOG_FORMAT must be json or pretty/],
    [{ OEN_CHARGE_RATE: "10001" }, /^OEN_CHARGE_RATE must be an integer from 1 to 10000/],
    [{ PLATFORM_EVENTS_RETENTION: "0d" }, /^PLATFORM_EVENTS_RETENTION must be longer than 0$/],
    [{ PLATFORM_EVENTS_RETENTION: "a month" }, /^PLATFORM_EVENTS_RETENTION must be a duration/],
    [{ AUDIT_LOG_RETENTION: "0s" }, /^AUDIT_LOG_RETENTION must be longer than 0$/],
  ])("stops with one line naming a malformed setting: %j", (change, message) => {
    const problems = problemsOf({ ...real, ...change });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it("reads the Oen webhook settings, with their defaults", () => {
    expect(loadConfig({}).oenWebhooks).toEqual({ ratePerMinute: 600, allowedSources: null, lateDeliveryMs: 15 * 60_000, inboxRetentionMs: 7 * 86_400_000, eventsRetentionMs: 90 * 86_400_000 });
    const set = loadConfig({ OEN_WEBHOOK_RATE_LIMIT: "60", OEN_WEBHOOK_ALLOWED_IPS: "203.0.113.7, 198.51.100.0/24,2001:db8::/32", OEN_WEBHOOK_LATE_MARGIN: "20m", WEBHOOK_INBOX_RETENTION: "1d", WEBHOOK_EVENTS_RETENTION: "30d" });
    expect(set.oenWebhooks).toEqual({ ratePerMinute: 60, allowedSources: ["203.0.113.7", "198.51.100.0/24", "2001:db8::/32"], lateDeliveryMs: 20 * 60_000, inboxRetentionMs: 86_400_000, eventsRetentionMs: 30 * 86_400_000 });
  });

  it("reads each worker's concurrency and the lookup rate apart from the charge rate", () => {
    const config = loadConfig({ CHARGE_CONCURRENCY: "3", LOOKUP_CONCURRENCY: "2", WEBHOOK_CONCURRENCY: "7", NOTIFICATION_CONCURRENCY: "9", OEN_CHARGE_RATE: "4", OEN_LOOKUP_RATE: "1" });
    expect(config.concurrency).toEqual({ charges: 3, lookups: 2, webhooks: 7, notifications: 9 });
    expect(config.oen).toMatchObject({ chargeRatePerSecond: 4, lookupRatePerSecond: 1 });
    expect(loadConfig({}).concurrency).toEqual({ charges: 50, lookups: 5, webhooks: 5, notifications: 5 });
    expect([loadConfig({}).databasePoolSize, loadConfig({ DATABASE_POOL_SIZE: "40" }).databasePoolSize]).toEqual([20, 40]);
    // 100,000 renewals due at once are charged in about 33 minutes (README, "Charge rate and concurrency").
    expect(loadConfig({}).oen).toMatchObject({ chargeRatePerSecond: 50, lookupRatePerSecond: 5 });
    // A simulator's token may go as fast as a benchmark needs; a real one is capped.
    expect(loadConfig({ OEN_API_TOKEN: "sim-bench", OEN_CHARGE_RATE: "10000" }).oen.chargeRatePerSecond).toBe(10_000);
    expect(loadConfig({ ...real, OEN_CHARGE_RATE: "1000" }).oen.chargeRatePerSecond).toBe(1_000);
  });

  it("reads the retention of platform events and audit rows, with their defaults", () => {
    expect(loadConfig({}).retention).toEqual({ platformEventsMs: 30 * 86_400_000, auditLogMs: 400 * 86_400_000 });
    expect(loadConfig({ PLATFORM_EVENTS_RETENTION: "7d", AUDIT_LOG_RETENTION: "1d" }).retention).toEqual({ platformEventsMs: 7 * 86_400_000, auditLogMs: 86_400_000 });
    expect(loadConfig({ ...real, AUDIT_LOG_RETENTION: "365d" }).retention.auditLogMs).toBe(365 * 86_400_000);
  });

  it("reads TRUST_PROXY as proxy addresses", () => {
    expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 127.0.0.1,loopback" }).trustProxy).toEqual(["10.0.0.0/8", "127.0.0.1", "loopback"]);
  });

  it("never echoes a secret or key material", () => {
    const bad = Buffer.alloc(20, 9).toString("base64");
    const weakKey = "x".repeat(10);
    const problems = problemsOf({ ...real, TOKEN_ENCRYPTION_KEYS: `k1:${bad}`, BILLING_API_KEYS: weakKey, ADMIN_PASSWORD: "hunter2hunter2", METRICS_TOKEN: "metrics-token-1" });
    expect(problems).toHaveLength(4);
    for (const text of [bad, weakKey, "hunter2", "metrics-token-1"]) expect(problems.join("\n")).not.toContain(text);
  });

  it("refuses the test clock against the production API even without a token", () => {
    expect(problemsOf({ OEN_API_URL: "https://payment-api.oen.tw", BILLING_TEST_CLOCK: "1" })).toEqual(["BILLING_TEST_CLOCK cannot be enabled against Oen production"]);
  });
});
