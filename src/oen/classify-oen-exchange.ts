import type { ConfigErrorCode, DeclineCode, UnknownReason } from "./types.ts";
import { NOT_JSON, type OenExchange } from "./send-oen-request.ts";

/** Oen's answer in the terms of api/error-codes.md and developers/errors.md. */
export type OenVerdict =
  | { kind: "ok"; data: unknown }
  | { kind: "declined"; code: DeclineCode; message: string }
  | { kind: "config_error"; code: ConfigErrorCode; httpStatus: number; message: string }
  /** 400 R0001: the acquirer refused a refund (only a refund is answered so). */
  | { kind: "refund_failed"; code: "R0001"; httpStatus: 400; message: string }
  | { kind: "unknown"; reason: UnknownReason; httpStatus?: number; message: string };

const DECLINE_CODES: ReadonlySet<string> = new Set<DeclineCode>(["T0001", "T0002", "T0003", "T0004", "T0005", "K0001"]);
const CONFIG_CODES: ReadonlySet<string> = new Set<ConfigErrorCode>(["V0001", "V0002", "V0003"]);
const MAX_MESSAGE_LENGTH = 300;

/**
 * Maps one exchange to a verdict. Anything not documented is `unknown`, never a success or a
 * decline: for a charge, "unknown" is the answer that forces a lookup before any resend.
 * `secrets` are scrubbed from Oen's message in case it ever echoes a token back.
 */
export function classifyOenExchange(exchange: OenExchange, secrets: readonly string[]): OenVerdict {
  if (exchange.kind !== "response") return { kind: "unknown", reason: exchange.kind, message: exchange.message };
  const { httpStatus, json } = exchange;
  const envelope = readEnvelope(json);
  const code = envelope?.code;
  const message = describe(httpStatus, json, envelope, secrets);

  if (httpStatus === 200 && code === "S0000") return { kind: "ok", data: envelope?.data ?? {} };
  if (httpStatus === 401) return { kind: "config_error", code: "A0001", httpStatus, message };
  // The IP allowlist answers 403 with only `message`.
  if (httpStatus === 403) return { kind: "config_error", code: "FORBIDDEN", httpStatus, message };
  if (httpStatus === 400 && code !== undefined && DECLINE_CODES.has(code)) {
    return { kind: "declined", code: code as DeclineCode, message };
  }
  if (httpStatus === 400 && code !== undefined && CONFIG_CODES.has(code)) {
    return { kind: "config_error", code: code as ConfigErrorCode, httpStatus, message };
  }
  if (httpStatus === 400 && code === "R0001") return { kind: "refund_failed", code, httpStatus: 400, message };
  if (httpStatus === 409 && code === "C026") return { kind: "unknown", reason: "C026", httpStatus, message };
  if (httpStatus === 504) return { kind: "unknown", reason: "gateway_timeout", httpStatus, message };
  if (httpStatus >= 500) {
    return { kind: "unknown", reason: code === "F0001" ? "F0001" : "http_5xx", httpStatus, message };
  }
  return { kind: "unknown", reason: "unexpected_response", httpStatus, message };
}

interface Envelope {
  code?: string;
  data?: unknown;
  message?: string;
}

function readEnvelope(json: unknown): Envelope | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const { code, data, message } = json as Record<string, unknown>;
  return {
    code: typeof code === "string" ? code : undefined,
    data,
    message: typeof message === "string" ? message : undefined,
  };
}

function describe(httpStatus: number, json: unknown, envelope: Envelope | undefined, secrets: readonly string[]): string {
  if (json === NOT_JSON) return `HTTP ${httpStatus} with a body that is not JSON`;
  let text = `HTTP ${httpStatus}`;
  if (envelope?.code !== undefined) text += ` ${envelope.code}`;
  if (envelope?.message) text += `: ${envelope.message}`;
  for (const secret of secrets) if (secret !== "") text = text.replaceAll(secret, "[redacted]");
  return text.slice(0, MAX_MESSAGE_LENGTH);
}
