import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";

// Each rendered form gets its own token, `{nonce}.{mac}`, the MAC keyed by the
// session's secret id (which only the cookie holds): a page of another origin
// can neither read nor forge one. One token per form, not per session, so that
// the idempotency key derived from it makes a double submit one effect while
// the same action done again from a fresh page is a new one.
const LABEL = "portal-form";

function mac(sessionId: string, nonce: string): string {
  const key = Buffer.from(hkdfSync("sha256", sessionId, Buffer.alloc(0), LABEL, 32));
  return createHmac("sha256", key).update(nonce).digest("base64url");
}

/** A fresh CSRF token for one form of the session. */
export function issueFormToken(sessionId: string): string {
  const nonce = randomBytes(16).toString("base64url");
  return `${nonce}.${mac(sessionId, nonce)}`;
}

/** Whether `token` is a form token issued to this session. */
export function isFormTokenOf(sessionId: string, token: unknown): token is string {
  if (typeof token !== "string") return false;
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (match === null) return false;
  return timingSafeEqual(Buffer.from(mac(sessionId, match[1]!)), Buffer.from(match[2]!));
}

/** The idempotency key of a form's submission: every submit of one rendered form shares it. */
export function formIdempotencyKey(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 40);
}
