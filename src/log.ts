import { pino, stdSerializers, type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

const CENSOR = "[redacted]";
// Any key that can carry a secret is censored at every depth, so a careless
// `log.info({ body })` cannot leak a card token or a credential: these names,
// and every name ending in token, secret or password (case and dashes ignored).
const SECRET_KEYS = new Set(["authorization", "cookie", "setcookie", "ciphertext", "apikey", "xapikey"]);
const SECRET_SUFFIX = /(token|secret|password)$/;
const isSecretKey = (key: string) => {
  const name = key.toLowerCase().replace(/[^a-z0-9]/g, "");
  return SECRET_KEYS.has(name) || SECRET_SUFFIX.test(name);
};
// The signed card-update link of our emails opens a card page for whoever holds it.
const CARD_LINK = /\/billing\/card\/[^\s"'<>?#]+/g;
// So does the portal's entry link, for one customer's portal.
const PORTAL_LINK = /(\/portal\/enter\?(?:[^\s"'<>#]*&)?token=)[^\s"'<>&#]+/g;
const MAX_DEPTH = 12;

/** Removes card-update and portal link tokens from a string. */
function redactText(text: string): string {
  return text.replace(CARD_LINK, `/billing/card/${CENSOR}`).replace(PORTAL_LINK, `$1${CENSOR}`);
}

/** A copy of `value` as JSON would see it, with secret keys censored and card links removed, at every depth. */
function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  seen.add(value);
  try {
    if (value instanceof Error) return redact(stdSerializers.err(value), depth, seen);
    if ("toJSON" in value && typeof value.toJSON === "function") return redact(value.toJSON(), depth + 1, seen);
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
    return redactEntries(value, (item) => redact(item, depth + 1, seen));
  } finally {
    seen.delete(value);
  }
}

function redactEntries(object: object, redactItem: (item: unknown, key: string) => unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) {
    // A boolean cannot carry a secret, and `hadToken: true` says something useful.
    copy[key] = isSecretKey(key) && typeof item !== "boolean" && item !== null && item !== undefined ? CENSOR : redactItem(item, key);
  }
  return copy;
}

// Fastify's request fields, with the links' tokens taken out of the URL.
const serializers = {
  req: (req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
    method: req.method,
    url: req.url === undefined ? undefined : redactText(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }),
  err: (err: unknown) => redact(err),
};
// Fastify logs its request and reply objects under these keys; their serializers above read them.
const SERIALIZED_KEYS = new Set(["req", "res"]);

// A top-level Error stays one, so that pino still takes it as `err` (its serializer redacts it).
function redactArguments(args: unknown[]): unknown[] {
  const [first, ...rest] = args;
  if (first instanceof Error) return [first, ...(rest.length === 0 ? [first.message] : rest).map(redactArgument)];
  return args.map(redactArgument);
}

function redactArgument(argument: unknown): unknown {
  if (typeof argument === "string") return redactText(argument);
  if (argument === null || typeof argument !== "object") return argument;
  return redactEntries(argument, (item, key) => (SERIALIZED_KEYS.has(key) ? item : redact(item, 1)));
}

/**
 * The service's logger: one JSON object per line (LOG_FORMAT=json, the default, for log
 * collectors), or `pretty` for a person at a terminal. Secrets are redacted either way.
 */
export function createLogger(options: { level?: string; name?: string; format?: "json" | "pretty"; destination?: DestinationStream } = {}): Logger {
  const settings = {
    name: options.name ?? "oen-billing",
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    serializers,
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...args: unknown[]) => void) {
        method.apply(this, redactArguments(args));
      },
    },
  };
  const destination = options.format === "pretty" ? pretty({ colorize: process.stdout.isTTY === true, sync: true, destination: options.destination ?? 1 }) : options.destination;
  const logger = destination === undefined ? pino(settings) : pino(settings, destination);
  // pino applies no formatter to a child's bindings; every child (and its children) inherits this one.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redact(bindings) as typeof bindings, childOptions);
  } as typeof child;
  return logger;
}

/** A logger that writes nothing, for tests and library defaults. */
export const silentLogger: Logger = pino({ level: "silent" });
