import { parseDuration, parseDurationList } from "./billing/duration.ts";
import { DECLINE_CODES, type DeclineCode } from "./oen/types.ts";
import { isWebhookSecret } from "./events/webhook-secret.ts";
import { parseKeyring, type Keyring } from "./vault/keyring.ts";

export type Role = "ingress" | "workers" | "scheduler";
const ROLES: readonly Role[] = ["ingress", "workers", "scheduler"];

export interface Config {
  nodeEnv: string;
  roles: Role[];
  port: number;
  host: string;
  /** Base URL this service is reachable at (links in emails, simulator webhooks). */
  publicUrl: string;
  databaseUrl: string;
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
    /** Most charge requests per second towards Oen, across this process's charge worker. */
    chargeRatePerSecond: number;
    /** Order and transaction lookups per second, a budget apart from charges. */
    lookupRatePerSecond: number;
    /** The merchant's domain issues e-invoices (電子發票): userName and userEmail on every charge, productDetails on every refund. */
    einvoice: boolean;
  };
  billingApiKey: string;
  admin: { user: string; password: string };
  tokenKeys: Keyring;
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
  logLevel: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

const TESTING_API_URL = "https://payment-api.testing.oen.tw";
const PRODUCTION_API_URL = "https://payment-api.oen.tw";

/** Reads and validates the whole environment; the first bad setting throws one line naming it. */
export function loadConfig(env: Env = process.env): Config {
  const read = reader(env);
  const nodeEnv = read.string("NODE_ENV", "development");
  const production = nodeEnv === "production";
  const merchantId = read.string("OEN_MERCHANT_ID", production ? undefined : "sandbox");
  if (!/^[a-z0-9-]+$/i.test(merchantId)) fail("OEN_MERCHANT_ID", "must be the Oen domain name (letters, digits, dashes)");
  const apiToken = read.optional("OEN_API_TOKEN");
  if (apiToken === null && production) fail("OEN_API_TOKEN", "is required in production");
  const apiUrl = read.url("OEN_API_URL", TESTING_API_URL);
  const testClock = read.boolean("BILLING_TEST_CLOCK", false);
  if (testClock && (production || apiUrl.replace(/\/$/, "") === PRODUCTION_API_URL)) {
    fail("BILLING_TEST_CLOCK", "cannot be enabled against Oen production");
  }
  const port = read.integer("PORT", 3000, 0, 65535);
  const requestTimeoutMs = read.duration("OEN_REQUEST_TIMEOUT", "35s");
  const lookupSettleMs = read.duration("OEN_LOOKUP_SETTLE", "5m");
  // "Not found" must mean "never sent": Oen may still be working on a request we gave up on.
  if (production && lookupSettleMs < requestTimeoutMs + 60_000) fail("OEN_LOOKUP_SETTLE", "must be at least OEN_REQUEST_TIMEOUT plus 1m in production");
  const finalState = read.string("DUNNING_FINAL_STATE", "canceled");
  if (finalState !== "unpaid" && finalState !== "canceled") fail("DUNNING_FINAL_STATE", "must be unpaid or canceled");
  const retryScheduleMs = read.durationList("DUNNING_RETRY_SCHEDULE", "1d,3d,5d,7d");
  if (retryScheduleMs.some((delay, i) => delay <= 0 || delay <= (retryScheduleMs[i - 1] ?? 0))) {
    fail("DUNNING_RETRY_SCHEDULE", "must be strictly increasing delays after the first failure, like 1d,3d,5d,7d");
  }
  // Invariant 3 (a due subscription is attempted within two sweep intervals) allows
  // spreading a renewal over at most one interval.
  const renewalSweepIntervalMs = read.duration("RENEWAL_SWEEP_INTERVAL", "1m");
  const renewalJitterMs = read.optional("RENEWAL_JITTER") === null ? Math.min(60_000, renewalSweepIntervalMs) : read.duration("RENEWAL_JITTER");
  if (renewalJitterMs > renewalSweepIntervalMs) fail("RENEWAL_JITTER", "must not be longer than RENEWAL_SWEEP_INTERVAL");
  const hardCodes = read.string("DUNNING_HARD_DECLINES", "T0002,T0003").split(",").map((c) => c.trim());
  for (const code of hardCodes) {
    if (!(DECLINE_CODES as readonly string[]).includes(code)) fail("DUNNING_HARD_DECLINES", `must list decline codes among ${DECLINE_CODES.join(", ")} (got "${code}")`);
  }
  const trialReuse = read.string("TRIAL_REUSE", "once_per_plan");
  if (trialReuse !== "once_per_plan" && trialReuse !== "once_per_customer" && trialReuse !== "unlimited") {
    fail("TRIAL_REUSE", `must be once_per_plan, once_per_customer or unlimited (got "${trialReuse}")`);
  }
  const platformUrl = read.optional("PLATFORM_WEBHOOK_URL");
  const platformSecret = read.optional("PLATFORM_WEBHOOK_SECRET");
  if ((platformUrl === null) !== (platformSecret === null)) {
    fail(platformUrl === null ? "PLATFORM_WEBHOOK_URL" : "PLATFORM_WEBHOOK_SECRET", "must be set together with its pair");
  }
  if (platformUrl !== null) read.url("PLATFORM_WEBHOOK_URL");
  if (platformSecret !== null && !isWebhookSecret(platformSecret)) {
    fail("PLATFORM_WEBHOOK_SECRET", "must be whsec_ followed by the base64 of 24 to 64 random bytes (Standard Webhooks)");
  }

  return {
    nodeEnv,
    roles: read.roles("ROLES"),
    port,
    host: read.string("HOST", "0.0.0.0"),
    publicUrl: read.url("PUBLIC_URL", `http://127.0.0.1:${port}`).replace(/\/$/, ""),
    databaseUrl: read.string("DATABASE_URL", production ? undefined : "postgres://postgres@127.0.0.1:5432/postgres"),
    redisUrl: read.string("REDIS_URL", production ? undefined : "redis://127.0.0.1:6379"),
    queuePrefix: read.string("QUEUE_PREFIX", "{oen-billing}"),
    oen: {
      merchantId,
      apiToken,
      apiUrl,
      hostedUrl: read.url("OEN_HOSTED_URL", `https://${merchantId}.testing.oen.tw`).replace(/\/$/, ""),
      requestTimeoutMs,
      lookupSettleMs,
      chargeRatePerSecond: read.integer("OEN_CHARGE_RATE", 10, 1, 10_000),
      lookupRatePerSecond: read.integer("OEN_LOOKUP_RATE", 5, 1, 10_000),
      einvoice: read.boolean("OEN_EINVOICE", false),
    },
    billingApiKey: read.secret("BILLING_API_KEY", production ? undefined : "dev-billing-api-key"),
    admin: {
      user: read.string("ADMIN_USER", production ? undefined : "admin"),
      password: read.secret("ADMIN_PASSWORD", production ? undefined : "admin"),
    },
    tokenKeys: read.keyring("TOKEN_ENCRYPTION_KEYS", production),
    billingTimezone: read.timezone("BILLING_TIMEZONE", "Asia/Taipei"),
    testClock,
    renewalSweepIntervalMs,
    renewalJitterMs,
    dunning: {
      retryScheduleMs,
      finalState,
      jitterRatio: read.number("DUNNING_JITTER", 0.1, 0, 0.5),
      hardCodes: hardCodes as DeclineCode[],
      // Card networks' limit on attempts per card (Visa and Mastercard: 15 in 30 days).
      cardAttemptLimit: read.integer("DUNNING_CARD_ATTEMPT_LIMIT", 15, 1, 1_000),
      cardAttemptWindowMs: read.duration("DUNNING_CARD_ATTEMPT_WINDOW", "30d"),
    },
    renewalReminderBeforeMs: read.optional("RENEWAL_REMINDER_BEFORE") === null ? null : read.duration("RENEWAL_REMINDER_BEFORE"),
    trialReuse,
    trialEndingNoticeMs: read.duration("TRIAL_ENDING_NOTICE", "3d"),
    checkoutTtlMs: read.duration("CHECKOUT_TTL", "10m"),
    smtpUrl: read.optional("SMTP_URL"),
    mailFrom: read.string("MAIL_FROM", "billing@localhost"),
    platformWebhook: platformUrl !== null && platformSecret !== null ? { url: platformUrl, secret: platformSecret } : null,
    logLevel: read.string("LOG_LEVEL", "info"),
  };
}

function fail(name: string, problem: string): never {
  throw new ConfigError(`${name} ${problem}`);
}

// A development key so `npm start` works out of the box; production must set its own.
const DEV_TOKEN_KEYS = "dev:" + Buffer.alloc(32, 7).toString("base64");

function reader(env: Env) {
  const raw = (name: string): string | null => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? null : value;
  };
  const string = (name: string, fallback?: string): string => {
    const value = raw(name) ?? fallback;
    if (value === undefined) fail(name, "is required");
    return value;
  };
  const duration = (name: string, fallback?: string): number => {
    const value = string(name, fallback);
    try {
      return parseDuration(value);
    } catch {
      return fail(name, `must be a duration like 30s, 5m or 1d (got "${value}")`);
    }
  };
  return {
    string,
    optional: raw,
    secret: (name: string, fallback?: string): string => {
      const value = string(name, fallback);
      if (value.length < 4) fail(name, "is too short");
      return value;
    },
    url: (name: string, fallback?: string): string => {
      const value = string(name, fallback);
      if (!URL.canParse(value)) fail(name, `must be a URL (got "${value}")`);
      return value;
    },
    integer: (name: string, fallback: number, min: number, max: number): number => {
      const value = raw(name) ?? String(fallback);
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) fail(name, `must be an integer from ${min} to ${max} (got "${value}")`);
      return n;
    },
    number: (name: string, fallback: number, min: number, max: number): number => {
      const value = raw(name) ?? String(fallback);
      const n = Number(value);
      if (!Number.isFinite(n) || n < min || n > max) fail(name, `must be a number from ${min} to ${max} (got "${value}")`);
      return n;
    },
    boolean: (name: string, fallback: boolean): boolean => {
      const value = raw(name);
      if (value === null) return fallback;
      if (["1", "true", "yes"].includes(value.toLowerCase())) return true;
      if (["0", "false", "no"].includes(value.toLowerCase())) return false;
      return fail(name, `must be 1 or 0 (got "${value}")`);
    },
    duration,
    durationList: (name: string, fallback: string): number[] => {
      const value = string(name, fallback);
      try {
        return parseDurationList(value);
      } catch {
        return fail(name, `must be a comma-separated list of durations like 1d,3d,5d (got "${value}")`);
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
    keyring: (name: string, required: boolean): Keyring => {
      const value = string(name, required ? undefined : DEV_TOKEN_KEYS);
      try {
        return parseKeyring(value);
      } catch (error) {
        // The message never echoes the value: it holds key material.
        return fail(name, `must be a comma-separated list of keyId:base64key with 32-byte keys (${(error as Error).message})`);
      }
    },
    roles: (name: string): Role[] => {
      const value = raw(name);
      if (value === null) return [...ROLES];
      const roles = value.split(",").map((r) => r.trim());
      for (const role of roles) {
        if (!ROLES.includes(role as Role)) fail(name, `must list roles among ${ROLES.join(", ")} (got "${role}")`);
      }
      return roles as Role[];
    },
  };
}
