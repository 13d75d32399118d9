import { Webhook } from "standardwebhooks";
import type { StoredEventBody } from "../db/database.ts";

export interface EventSendResult {
  /** 2xx: the platform acknowledged the event. */
  ok: boolean;
  /** The HTTP status, or null when no answer came (timeout, connection refused). */
  status: number | null;
  /** What went wrong, for the event row and the log; null when ok. */
  error: string | null;
}

export interface EventSender {
  send(event: StoredEventBody): Promise<EventSendResult>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// Enough of an error page to tell what the platform said.
const MAX_ERROR_BODY = 200;

/**
 * POSTs events to the platform, signed per Standard Webhooks (webhook-id,
 * webhook-timestamp, webhook-signature). `secret` is `whsec_<base64>`, as
 * config validates it.
 */
export function createEventSender(target: { url: string; secret: string }, options: { timeoutMs?: number } = {}): EventSender {
  const signer = new Webhook(target.secret);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    async send(event) {
      const body = JSON.stringify(event);
      // Signed with real time, not the billing clock: receivers reject timestamps far from their own clock.
      const sentAt = new Date();
      try {
        const response = await fetch(target.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "oen-billing-webhooks",
            "webhook-id": event.id,
            "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
            "webhook-signature": signer.sign(event.id, sentAt, body),
          },
          body,
          // A redirect is not an acknowledgement; the platform must fix its URL.
          redirect: "manual",
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = (await response.text()).slice(0, MAX_ERROR_BODY);
        if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status, error: null };
        return { ok: false, status: response.status, error: `HTTP ${response.status}${text === "" ? "" : `: ${text}`}` };
      } catch (cause) {
        const error = cause as Error;
        const reason = error.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}`;
        return { ok: false, status: null, error: reason };
      }
    },
  };
}
