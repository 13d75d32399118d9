import { isIP } from "node:net";
import { parseDuration, parseDurationList } from "./billing/duration.ts";
import { DECLINE_CODES, type DeclineCode } from "./oen/types.ts";
import { isWebhookSecret } from "./events/webhook-secret.ts";
import { parseKeyring, type Keyring } from "./vault/keyring.ts";
import { parseSourceAllowlist } from "./webhooks/source-allowlist.ts";

export type Role = "ingress" | "workers" | "scheduler";
const ROLES: readonly Role[] = ["ingress", "workers", "scheduler"];

export interface Config {
  nodeEnv: string;
  roles: Role[];
  port: number;
  host: string;
  /** Addresses of the proxies whose X-Forwarded-For is believed (Fastify's trustProxy); false: none. */
  trustProxy: string[] | false;
  /** Base URL this service is reachable at (links in emails, simulator webhooks). */
  publicUrl: string;
  databaseUrl: string;
  /** Connections each process keeps to Postgres at most. */
  databasePoolSize: number;
  redisUrl: string;
  queuePrefix: string;
  oen: {
    merchantId: string;
    /** null: run against the built-in simulator (refused in production). */
    apiToken: string | null;
    apiUrl: string;
    hostedUrl: string;
    requestTimeoutMs: number;
    /** A lookup that finds nothing only proves "not sent" this long after the attempt. */
    lookupSettleMs: number;
    /** Most charge (and refund) requests per second towards Oen, across every worker process (BullMQ keeps the limiter in Redis). */
    chargeRatePerSecond: number;
    /** Order and transaction lookups per second, a budget apart from charges. */
    lookupRatePerSecond: number;
    /** The merchant's domain issues e-invoices (電子發票): userName and userEmail on every charge, productDetails on every refund. */
    einvoice: boolean;
  };
  /** Every key the platform API accepts (several while a key rotates). */
  billingApiKeys: string[];
  admin: { user: string; password: string };
  /** Bearer token of GET /metrics; null: /metrics is open (simulator and development only). */
  metricsToken: string | null;
  /** After `limit` failed authentications from one address within `windowMs`, that address gets 429 for `windowMs`. */
  authThrottle: { limit: number; windowMs: number };
  tokenKeys: Keyring;
  /** POST /webhooks/oen. */
  oenWebhooks: {
    /** Requests a source address may make per minute (429 beyond); addresses of `allowedSources` are never limited. */
    ratePerMinute: number;
    /** Addresses or CIDRs Oen delivers from (ask Oen for them); null: any source. Others get 403. */
    allowedSources: string[] | null;
    /** A token webhook is taken this long after its page expired (3DS_ABANDONED comes 10 minutes after 3-D Secure began, and Oen retries). */
    lateDeliveryMs: number;
    /** Applied webhook_inbox rows are deleted after this long. */
    inboxRetentionMs: number;
    /** oen_webhook_events rows (what each webhook was made of) are deleted after this long. */
    eventsRetentionMs: number;
  };
  /** How long rows that only record the past are kept before the sweep deletes them. */
  retention: {
    /** Platform events, counted from when they were settled: delivered, given up, or (no PLATFORM_WEBHOOK_URL) recorded. */
    platformEventsMs: number;
    /** audit_log rows (each card token decryption). */
    auditLogMs: number;
  };
  billingTimezone: string;
  testClock: boolean;
  renewalSweepIntervalMs: number;
  renewalJitterMs: number;
  dunning: {
    retryScheduleMs: number[];
    finalState: "unpaid" | "canceled";
    jitterRatio: number;
    /** Declines never retried on the same card; every other decline code is soft. */
    hardCodes: DeclineCode[];
    cardAttemptLimit: number;
    cardAttemptWindowMs: number;
  };
  renewalReminderBeforeMs: number | null;
  /** Who gets a plan's trial again: once per customer and plan (default), once per customer, or always. */
  trialReuse: "once_per_plan" | "once_per_customer" | "unlimited";
  trialEndingNoticeMs: number;
  checkoutTtlMs: number;
  smtpUrl: string | null;
  mailFrom: string;
  platformWebhook: { url: string; secret: string } | null;
  /** Jobs each worker of this process runs at once. */
  concurrency: { charges: number; lookups: number; webhooks: number; notifications: number };
  logLevel: string;
  /** json (default, for log collectors) or pretty (for a terminal). */
  logFormat: "json" | "pretty";
}

/** Every problem of the environment, one line each (`problems`), so that one start-up shows them all. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(problems.join("\n"));
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

const TESTING_API_URL = "https://payment-api.testing.oen.tw";
const PRODUCTION_API_URL = "https://payment-api.oen.tw";
type OenEnvironment = "testing" | "production";
function oenEnvironmentOf(apiUrl: string): OenEnvironment | null {
  const url = apiUrl.replace(/\/$/, "");
  return url === TESTING_API_URL ? "testing" : url === PRODUCTION_API_URL ? "production" : null;
}
const hostedUrlFor = (merchantId: string, environment: OenEnvironment) => `https://${merchantId}${environment === "testing" ? ".testing" : ""}.oen.tw`;

/**
 * A token of an Oen simulator (tests, benchmarks) starts with this. Oen never accepts
 * such a token, so a service holding one cannot move money and may keep development defaults.
 */
export const SIMULATOR_TOKEN_PREFIX = "sim-";

// A development key so `npm start` works out of the box; a real token refuses it (one repeated byte).
const DEV_TOKEN_KEYS = "dev:" + Buffer.alloc(32, 7).toString("base64");
const DEV_API_KEY = "dev-billing-api-key";
const DEV_ADMIN = "admin";
// Values printed in this repository or in the Standard Webhooks documentation: public, hence no secret.
const PUBLISHED_SECRETS = new Set([DEV_API_KEY, DEV_ADMIN, "test-billing-api-key", "ops-password", "password", "changeme", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
const MIN_MACHINE_SECRET = 32;
const MIN_PASSWORD = 16;
// A freshly generated secret is practically never this repetitive (no miss in 200,000 draws of 24 bytes or 32 hex characters).
const MIN_DISTINCT_CHARACTERS = 6;
const MIN_DISTINCT_BYTES = 12;
// Oen cuts a request at 29 s; giving up earlier only makes outcomes unknown.
const MIN_REQUEST_TIMEOUT_MS = 30_000;
const LOOKUP_SETTLE_MARGIN_MS = 60_000;
const MIN_AUDIT_LOG_RETENTION_MS = 365 * 86_400_000;
const MAX_REAL_CHARGE_RATE = 1_000;

/**
 * Reads and validates the whole environment. Every bad setting is one line of the
 * ConfigError, all of them at once. Whenever a real OEN_API_TOKEN is set (or
 * NODE_ENV=production), development defaults and unsafe values are refused too.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const fail = (name: string, problem: string) => void problems.push(`${name} ${problem}`);
  const nodeEnv = raw(env, "NODE_ENV") ?? "development";
  const production = nodeEnv === "production";
  const apiToken = raw(env, "OEN_API_TOKEN");
  // Safety does not hang on NODE_ENV: a token that could reach Oen is enough.
  const strict = production || (apiToken !== null && !apiToken.startsWith(SIMULATOR_TOKEN_PREFIX));
  const why = production ? "in production" : "with a real OEN_API_TOKEN";
  const read = reader(env, fail, strict ? ` ${why}` : "");
  const devDefault = <T>(value: T): T | undefined => (strict ? undefined : value);

  if (apiToken === null && production) fail("OEN_API_TOKEN", "is required in production");
  const merchantId = read.string("OEN_MERCHANT_ID", devDefault("sandbox"));
  if (merchantId !== "" && !/^[a-z0-9-]+$/i.test(merchantId)) fail("OEN_MERCHANT_ID", "must be the Oen domain name (letters, digits, dashes)");
  const apiUrl = read.url("OEN_API_URL", production ? PRODUCTION_API_URL : TESTING_API_URL);
  const oenEnvironment = oenEnvironmentOf(apiUrl);
  const hostedUrl = read.url("OEN_HOSTED_URL", hostedUrlFor(merchantId, oenEnvironment ?? "testing")).replace(/\/$/, "");
  const testClock = read.boolean("BILLING_TEST_CLOCK", false);
  if (testClock && !strict && oenEnvironment === "production") fail("BILLING_TEST_CLOCK", "cannot be enabled against Oen production");
  const port = read.integer("PORT", 3000, 0, 65535);
  const requestTimeoutMs = read.duration("OEN_REQUEST_TIMEOUT", "35s");
  const lookupSettleMs = read.duration("OEN_LOOKUP_SETTLE", "5m");
  // A month start of 100,000 renewals in about 33 minutes (README, "Charge rate"); simulators take up to 10,000/s.
  const chargeRatePerSecond = read.integer("OEN_CHARGE_RATE", 50, 1, 10_000);
  const finalState = read.string("DUNNING_FINAL_STATE", "canceled");
  if (finalState !== "unpaid" && finalState !== "canceled") fail("DUNNING_FINAL_STATE", "must be unpaid or canceled");
  const retryScheduleMs = read.durationList("DUNNING_RETRY_SCHEDULE", "1d,3d,5d,7d");
  if (retryScheduleMs.some((delay, i) => delay <= 0 || delay <= (retryScheduleMs[i - 1] ?? 0))) {
    fail("DUNNING_RETRY_SCHEDULE", "must be strictly increasing delays after the first failure, like 1d,3d,5d,7d");
  }
  // Invariant 3 (a due subscription is attempted within two sweep intervals) allows
  // spreading a renewal over at most one interval.
  const renewalSweepIntervalMs = read.duration("RENEWAL_SWEEP_INTERVAL", "1m");
  const renewalJitterMs = raw(env, "RENEWAL_JITTER") === null ? Math.min(60_000, renewalSweepIntervalMs) : read.duration("RENEWAL_JITTER");
  if (renewalJitterMs > renewalSweepIntervalMs) fail("RENEWAL_JITTER", "must not be longer than RENEWAL_SWEEP_INTERVAL");
  const hardCodes = read.string("DUNNING_HARD_DECLINES", "T0002,T0003").split(",").map((c) => c.trim());
  for (const code of hardCodes) {
    if (!(DECLINE_CODES as readonly string[]).includes(code)) fail("DUNNING_HARD_DECLINES", `must list decline codes among ${DECLINE_CODES.join(", ")} (got "${code}")`);
  }
  const trialReuse = read.string("TRIAL_REUSE", "once_per_plan");
  if (trialReuse !== "once_per_plan" && trialReuse !== "once_per_customer" && trialReuse !== "unlimited") {
    fail("TRIAL_REUSE", `must be once_per_plan, once_per_customer or unlimited (got "${trialReuse}")`);
  }
  const platformUrl = raw(env, "PLATFORM_WEBHOOK_URL");
  const platformSecret = raw(env, "PLATFORM_WEBHOOK_SECRET");
  if ((platformUrl === null) !== (platformSecret === null)) {
    fail(platformUrl === null ? "PLATFORM_WEBHOOK_URL" : "PLATFORM_WEBHOOK_SECRET", "must be set together with its pair");
  }
  if (platformUrl !== null) read.url("PLATFORM_WEBHOOK_URL");
  if (platformSecret !== null && !isWebhookSecret(platformSecret)) {
    fail("PLATFORM_WEBHOOK_SECRET", "must be whsec_ followed by the base64 of 24 to 64 random bytes (Standard Webhooks)");
  }
  const publicUrl = read.url("PUBLIC_URL", devDefault(`http://127.0.0.1:${port}`)).replace(/\/$/, "");
  const billingApiKeys = read.apiKeys(devDefault(DEV_API_KEY));
  const admin = { user: read.string("ADMIN_USER", devDefault(DEV_ADMIN)), password: read.string("ADMIN_PASSWORD", devDefault(DEV_ADMIN)) };
  const metricsToken = strict ? read.string("METRICS_TOKEN") : raw(env, "METRICS_TOKEN");
  const tokenKeys = read.keyring("TOKEN_ENCRYPTION_KEYS", devDefault(DEV_TOKEN_KEYS));
  // Stripe keeps its event log 30 days; card-token access records outlive a yearly audit (PCI DSS 10.5.1: 12 months).
  const retention = { platformEventsMs: read.duration("PLATFORM_EVENTS_RETENTION", "30d"), auditLogMs: read.duration("AUDIT_LOG_RETENTION", "400d") };
  if (retention.platformEventsMs === 0) fail("PLATFORM_EVENTS_RETENTION", "must be longer than 0");
  if (retention.auditLogMs === 0) fail("AUDIT_LOG_RETENTION", "must be longer than 0");
  const logFormat = read.string("LOG_FORMAT", "json");
  if (logFormat !== "json" && logFormat !== "pretty") fail("LOG_FORMAT", `must be json or pretty (got "${logFormat}")`);

  const config: Config = {
    nodeEnv,
    roles: read.roles("ROLES"),
    port,
    host: read.string("HOST", "0.0.0.0"),
    trustProxy: read.trustProxy("TRUST_PROXY"),
    publicUrl,
    databaseUrl: read.string("DATABASE_URL", production ? undefined : "postgres://postgres@127.0.0.1:5432/postgres"),
    databasePoolSize: read.integer("DATABASE_POOL_SIZE", 20, 1, 500),
    redisUrl: read.string("REDIS_URL", production ? undefined : "redis://127.0.0.1:6379"),
    queuePrefix: read.string("QUEUE_PREFIX", "{oen-billing}"),
    oen: {
      merchantId,
      apiToken,
      apiUrl,
      hostedUrl,
      requestTimeoutMs,
      lookupSettleMs,
      chargeRatePerSecond,
      lookupRatePerSecond: read.integer("OEN_LOOKUP_RATE", 5, 1, 10_000),
      einvoice: read.boolean("OEN_EINVOICE", false),
    },
    billingApiKeys,
    admin,
    metricsToken,
    authThrottle: { limit: read.integer("AUTH_FAILURE_LIMIT", 10, 1, 10_000), windowMs: read.duration("AUTH_FAILURE_WINDOW", "15m") },
    tokenKeys,
    oenWebhooks: {
      ratePerMinute: read.integer("OEN_WEBHOOK_RATE_LIMIT", 600, 1, 1_000_000),
      allowedSources: read.sourceList("OEN_WEBHOOK_ALLOWED_IPS"),
      lateDeliveryMs: read.duration("OEN_WEBHOOK_LATE_MARGIN", "15m"),
      inboxRetentionMs: read.duration("WEBHOOK_INBOX_RETENTION", "7d"),
      eventsRetentionMs: read.duration("WEBHOOK_EVENTS_RETENTION", "90d"),
    },
    retention,
    billingTimezone: read.timezone("BILLING_TIMEZONE", "Asia/Taipei"),
    testClock,
    renewalSweepIntervalMs,
    renewalJitterMs,
    dunning: {
      retryScheduleMs,
      finalState: finalState as "unpaid" | "canceled",
      jitterRatio: read.number("DUNNING_JITTER", 0.1, 0, 0.5),
      hardCodes: hardCodes as DeclineCode[],
      // Card networks' limit on attempts per card (Visa and Mastercard: 15 in 30 days).
      cardAttemptLimit: read.integer("DUNNING_CARD_ATTEMPT_LIMIT", 15, 1, 1_000),
      cardAttemptWindowMs: read.duration("DUNNING_CARD_ATTEMPT_WINDOW", "30d"),
    },
    renewalReminderBeforeMs: raw(env, "RENEWAL_REMINDER_BEFORE") === null ? null : read.duration("RENEWAL_REMINDER_BEFORE"),
    trialReuse: trialReuse as Config["trialReuse"],
    trialEndingNoticeMs: read.duration("TRIAL_ENDING_NOTICE", "3d"),
    checkoutTtlMs: read.duration("CHECKOUT_TTL", "10m"),
    smtpUrl: raw(env, "SMTP_URL"),
    mailFrom: read.string("MAIL_FROM", "billing@localhost"),
    platformWebhook: platformUrl !== null && platformSecret !== null ? { url: platformUrl, secret: platformSecret } : null,
    concurrency: {
      // Enough in flight for OEN_CHARGE_RATE while Oen answers within a second; fewer charges per second when it is slower.
      charges: read.integer("CHARGE_CONCURRENCY", 50, 1, 1_000),
      lookups: read.integer("LOOKUP_CONCURRENCY", 5, 1, 1_000),
      webhooks: read.integer("WEBHOOK_CONCURRENCY", 5, 1, 1_000),
      notifications: read.integer("NOTIFICATION_CONCURRENCY", 5, 1, 1_000),
    },
    logLevel: read.string("LOG_LEVEL", "info"),
    logFormat: logFormat as Config["logFormat"],
  };
  if (strict) {
    // Each check below names a value that is public, or that lets a charge be sent twice.
    if (oenEnvironment === null) fail("OEN_API_URL", `must be ${TESTING_API_URL} or ${PRODUCTION_API_URL} ${why}`);
    const pairedHostedUrls = oenEnvironment === null ? [hostedUrlFor(merchantId, "testing"), hostedUrlFor(merchantId, "production")] : [hostedUrlFor(merchantId, oenEnvironment)];
    if (merchantId !== "" && !pairedHostedUrls.includes(hostedUrl)) {
      fail("OEN_HOSTED_URL", `must be ${pairedHostedUrls.join(" or ")} to pair with OEN_API_URL ${why}`);
    }
    if (testClock) fail("BILLING_TEST_CLOCK", `cannot be enabled ${why}`);
    // Oen publishes no rate limit; past this, ask Oen first (a typo must not reach a payment provider at 10,000/s).
    if (chargeRatePerSecond > MAX_REAL_CHARGE_RATE) fail("OEN_CHARGE_RATE", `must be at most ${MAX_REAL_CHARGE_RATE} ${why} (Oen publishes no rate limit: agree a higher one with Oen first)`);
    if (retention.auditLogMs > 0 && retention.auditLogMs < MIN_AUDIT_LOG_RETENTION_MS) fail("AUDIT_LOG_RETENTION", `must be at least 365d ${why} (a yearly audit reads a year of card token access)`);
    if (requestTimeoutMs < MIN_REQUEST_TIMEOUT_MS) fail("OEN_REQUEST_TIMEOUT", `must be at least 30s ${why} (Oen cuts a request at 29 s)`);
    // "Not found" must mean "never sent": Oen may still be working on a request we gave up on.
    if (lookupSettleMs < requestTimeoutMs + LOOKUP_SETTLE_MARGIN_MS) fail("OEN_LOOKUP_SETTLE", `must be at least OEN_REQUEST_TIMEOUT plus 1m ${why}`);
    if (publicUrl !== "" && !isPublicHttpsUrl(publicUrl)) fail("PUBLIC_URL", `must be an https URL that customers reach (not localhost) ${why}`);
    const apiKeysName = raw(env, "BILLING_API_KEYS") === null ? "BILLING_API_KEY" : "BILLING_API_KEYS";
    billingApiKeys.forEach((key, i) => refuseWeak(billingApiKeys.length > 1 ? `${apiKeysName} (key ${i + 1})` : apiKeysName, key, MIN_MACHINE_SECRET));
    refuseWeak("ADMIN_PASSWORD", admin.password, MIN_PASSWORD);
    if (metricsToken !== null) refuseWeak("METRICS_TOKEN", metricsToken, MIN_MACHINE_SECRET);
    if (metricsToken !== null && billingApiKeys.includes(metricsToken)) fail("METRICS_TOKEN", "must differ from every platform API key (a scraper must not hold one)");
    if (billingApiKeys.includes(admin.password)) fail("ADMIN_PASSWORD", "must differ from every platform API key");
    if (platformSecret !== null && isWebhookSecret(platformSecret)) {
      const bytes = Buffer.from(platformSecret.slice("whsec_".length), "base64");
      if (PUBLISHED_SECRETS.has(platformSecret) || distinct(bytes) < MIN_DISTINCT_BYTES) fail("PLATFORM_WEBHOOK_SECRET", `must be random bytes, not a published example ${why}`);
    }
    for (const [id, key] of tokenKeys.keys) {
      if (distinct(key) < MIN_DISTINCT_BYTES) fail("TOKEN_ENCRYPTION_KEYS", `key "${id}" must be 32 random bytes, not the built-in development key ${why}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;

  /** A secret that is public or guessable: a published default, too short, or repetitive. The value is never echoed. */
  function refuseWeak(name: string, value: string, minLength: number) {
    if (value === "") return; // already reported as missing
    if (PUBLISHED_SECRETS.has(value.toLowerCase())) fail(name, `must not be a published default (like ${DEV_API_KEY} or ${DEV_ADMIN}) ${why}`);
    else if (value.length < minLength || distinct(value) < MIN_DISTINCT_CHARACTERS) fail(name, `must be at least ${minLength} random characters ${why}`);
  }
}

const raw = (env: Env, name: string): string | null => {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? null : value;
};

// proxy-addr's names for the usual private ranges.
const PROXY_RANGE_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

const distinct = (value: Iterable<unknown>) => new Set(value).size;

function isPublicHttpsUrl(value: string): boolean {
  const url = new URL(value);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || host.endsWith(".localhost") || host.startsWith("127.") || host === "::1" || host === "0.0.0.0";
  return url.protocol === "https:" && !loopback;
}

// Each reader reports a bad setting through `fail` and returns a stand-in, so that
// reading goes on and every problem is reported; `requiredWhy` says why a default is gone.
function reader(env: Env, fail: (name: string, problem: string) => void, requiredWhy: string) {
  const string = (name: string, fallback?: string): string => {
    const value = raw(env, name) ?? fallback;
    if (value === undefined) {
      fail(name, `is required${requiredWhy}`);
      return "";
    }
    return value;
  };
  const duration = (name: string, fallback?: string): number => {
    const value = string(name, fallback);
    try {
      return parseDuration(value);
    } catch {
      if (value !== "") fail(name, `must be a duration like 30s, 5m or 1d (got "${value}")`);
      return Number.NaN;
    }
  };
  return {
    string,
    url: (name: string, fallback?: string): string => {
      const value = string(name, fallback);
      if (value === "" || URL.canParse(value)) return value;
      fail(name, `must be a URL (got "${value}")`);
      return "";
    },
    integer: (name: string, fallback: number, min: number, max: number): number => {
      const value = raw(env, name) ?? String(fallback);
      const n = Number(value);
      if (Number.isInteger(n) && n >= min && n <= max) return n;
      fail(name, `must be an integer from ${min} to ${max} (got "${value}")`);
      return fallback;
    },
    number: (name: string, fallback: number, min: number, max: number): number => {
      const value = raw(env, name) ?? String(fallback);
      const n = Number(value);
      if (Number.isFinite(n) && n >= min && n <= max) return n;
      fail(name, `must be a number from ${min} to ${max} (got "${value}")`);
      return fallback;
    },
    boolean: (name: string, fallback: boolean): boolean => {
      const value = raw(env, name);
      if (value === null) return fallback;
      if (["1", "true", "yes"].includes(value.toLowerCase())) return true;
      if (["0", "false", "no"].includes(value.toLowerCase())) return false;
      fail(name, `must be 1 or 0 (got "${value}")`);
      return fallback;
    },
    duration,
    durationList: (name: string, fallback: string): number[] => {
      const value = string(name, fallback);
      try {
        return parseDurationList(value);
      } catch {
        fail(name, `must be a comma-separated list of durations like 1d,3d,5d (got "${value}")`);
        return [];
      }
    },
    timezone: (name: string, fallback: string): string => {
      const value = string(name, fallback);
      try {
        new Intl.DateTimeFormat("en", { timeZone: value });
      } catch {
        fail(name, `must be an IANA time zone like Asia/Taipei (got "${value}")`);
      }
      return value;
    },
    /** BILLING_API_KEYS (comma-separated, for rotation), or the single BILLING_API_KEY. */
    apiKeys: (fallback?: string): string[] => {
      const list = raw(env, "BILLING_API_KEYS");
      const single = raw(env, "BILLING_API_KEY");
      if (list !== null && single !== null) {
        fail("BILLING_API_KEY", "must not be set together with BILLING_API_KEYS (list every key in BILLING_API_KEYS)");
        return [];
      }
      if (list === null) {
        const key = single ?? fallback;
        if (key === undefined) fail("BILLING_API_KEYS", `(or BILLING_API_KEY) is required${requiredWhy}`);
        return key === undefined ? [] : [key];
      }
      const keys = list.split(",").map((k) => k.trim()).filter(Boolean);
      if (keys.length === 0) fail("BILLING_API_KEYS", "must list at least one key");
      return keys;
    },
    keyring: (name: string, fallback?: string): Keyring => {
      const value = string(name, fallback);
      try {
        return parseKeyring(value);
      } catch (error) {
        // The message never echoes the value: it holds key material.
        if (value !== "") fail(name, `must be a comma-separated list of keyId:base64key with 32-byte keys (${(error as Error).message})`);
        return { primaryId: "", keys: new Map() };
      }
    },
    roles: (name: string): Role[] => {
      const value = raw(env, name);
      if (value === null) return [...ROLES];
      const roles = value.split(",").map((r) => r.trim());
      for (const role of roles) {
        if (!ROLES.includes(role as Role)) fail(name, `must list roles among ${ROLES.join(", ")} (got "${role}")`);
      }
      return roles as Role[];
    },
    /** Addresses or CIDRs, comma-separated; null when unset. */
    sourceList: (name: string): string[] | null => {
      const value = raw(env, name);
      if (value === null) return null;
      try {
        return parseSourceAllowlist(value).entries;
      } catch (error) {
        fail(name, `must be a comma-separated list of IP addresses or CIDRs like 203.0.113.0/24 (${(error as Error).message})`);
        return null;
      }
    },
    /** Proxy addresses or CIDRs; never "true", which would let any client choose the address it is throttled by. */
    trustProxy: (name: string): string[] | false => {
      const value = raw(env, name);
      if (value === null) return false;
      const addresses = value.split(",").map((a) => a.trim());
      if (addresses.every((a) => PROXY_RANGE_NAMES.has(a) || isIP(a.replace(/\/\d{1,3}$/, "")) !== 0)) return addresses;
      fail(name, `must be a comma-separated list of proxy addresses or CIDRs, or loopback, linklocal, uniquelocal (got "${value}")`);
      return false;
    },
  };
}
