import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

// Any key that can carry a secret is censored wherever it appears, so a
// careless `log.info({ body })` cannot leak a card token or a credential.
const SECRET_KEYS = ["token", "apiToken", "authorization", "password", "secret", "cipherText", "ciphertext"];
const redactPaths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `req.headers.${k}`]);

export function createLogger(options: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
  const settings = {
    name: options.name ?? "oen-billing",
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    redact: { paths: redactPaths, censor: "[redacted]" },
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

/** A logger that writes nothing, for tests and library defaults. */
export const silentLogger: Logger = pino({ level: "silent" });
