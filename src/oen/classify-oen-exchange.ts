import { isAttentionCode, isDeclineCode, type AttentionCode, type DeclineCode, type UnknownReason } from "../billing/charge-codes.ts";
import { NOT_JSON, type OenExchange } from "./send-oen-request.ts";

/** Oen's answer in the terms of api/error-codes.md and developers/errors.md. */
export type OenVerdict =
  | { kind: "ok"; data: unknown }
  | { kind: "declined"; code: DeclineCode; message: string }
  | { kind: "refused"; code: AttentionCode; httpStatus: number; message: string }
  /** 400 R0001: the acquirer refused a refund (only a refund is answered so). */
  | { kind: "refund_failed"; code: "R0001"; httpStatus: 400; message: string }
  | { kind: "unknown"; reason: UnknownReason; httpStatus?: number; message: string };

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
  if (httpStatus === 401) return { kind: "refused", code: "A0001", httpStatus, message };
  // The IP allowlist answers 403 with only `message`.
  if (httpStatus === 403) return { kind: "refused", code: "FORBIDDEN", httpStatus, message };
  const known = code ?? null;
  if (httpStatus === 400 && isDeclineCode(known)) return { kind: "declined", code: known, message };
  // K0001 (risk control) and V000x refuse the merchant, not the card.
  if (httpStatus === 400 && isAttentionCode(known)) return { kind: "refused", code: known, httpStatus, message };
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
