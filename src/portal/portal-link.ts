import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { Config } from "../config.ts";
import type { PortalLocale } from "./portal-locale.ts";

/** How long the link of POST /v1/customers/:id/portal-sessions works. */
export const PORTAL_LINK_TTL_MS = 3_600_000;

// Keys for this purpose only, derived from the token keyring: a portal link's MAC can never
// double as a card-update link's or anything the vault computes; rotating the keyring rotates them.
const LABEL = "portal-link";
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_RETURN_URL = 2048;

/** Where a portal link leads: one customer, optionally one of their subscriptions (an email's link). */
export interface PortalEntry {
  customerId: string;
  /** The page the session opens on; null: the overview. */
  subscriptionId: string | null;
  /** null: the customer's own language. */
  locale: PortalLocale | null;
  /** The platform's page the portal leads back to; null: no way back (an email's link). */
  returnUrl: string | null;
}

export type PortalTokenCheck =
  | { ok: true; entry: PortalEntry; expiresAt: Date }
  /** malformed: not a link we make; unknown_key: signed with a key no longer configured; bad_signature: altered or forged. */
  | { ok: false; reason: "malformed" | "unknown_key" | "bad_signature" | "expired" };

// The payload's fields, short: the whole entry travels in the link.
interface Payload {
  c: string;
  s?: string;
  l?: PortalLocale;
  r?: string;
  e: number;
}

function mac(key: Buffer, signed: string): string {
  const derived = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), LABEL, 32));
  return createHmac("sha256", derived).update(signed).digest("base64url");
}

/**
 * A link that opens a portal session for one customer:
 * `{publicUrl}/portal/enter?token={keyId}.{payload}.{mac}`, the payload the
 * base64url of the entry and its expiry. The signature is its only
 * authorization; opening it moves the session into a cookie and the address
 * bar to a clean URL (the token is also cut out of every log line).
 */
export function portalLink(config: Pick<Config, "publicUrl" | "tokenKeys">, entry: PortalEntry, now: Date, ttlMs = PORTAL_LINK_TTL_MS): { url: string; expiresAt: Date } {
  if (!ID.test(entry.customerId) || (entry.subscriptionId !== null && !ID.test(entry.subscriptionId))) {
    throw new RangeError(`cannot sign a portal link for customer "${entry.customerId}" and subscription "${entry.subscriptionId}"`);
  }
  if (entry.returnUrl !== null && entry.returnUrl.length > MAX_RETURN_URL) throw new RangeError(`a portal link's returnUrl is at most ${MAX_RETURN_URL} characters`);
  const expiresSeconds = Math.floor((now.getTime() + ttlMs) / 1000);
  const payload: Payload = { c: entry.customerId, e: expiresSeconds };
  if (entry.subscriptionId !== null) payload.s = entry.subscriptionId;
  if (entry.locale !== null) payload.l = entry.locale;
  if (entry.returnUrl !== null) payload.r = entry.returnUrl;
  const { primaryId, keys } = config.tokenKeys;
  const signed = `${primaryId}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  return { url: `${config.publicUrl}/portal/enter?token=${signed}.${mac(keys.get(primaryId)!, signed)}`, expiresAt: new Date(expiresSeconds * 1000) };
}

/** Checks a portal link's token; the signature is checked before anything in the payload is believed. */
export function verifyPortalToken(config: Pick<Config, "tokenKeys">, token: string, now: Date): PortalTokenCheck {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [keyId, encoded, given] = parts as [string, string, string];
  if (!ID.test(keyId) || !/^[A-Za-z0-9_-]{1,4096}$/.test(encoded) || !/^[A-Za-z0-9_-]{43}$/.test(given)) return { ok: false, reason: "malformed" };
  const key = config.tokenKeys.keys.get(keyId);
  if (key === undefined) return { ok: false, reason: "unknown_key" };
  // Compared as text: base64url decoding ignores the spare bits of the last character.
  if (!timingSafeEqual(Buffer.from(mac(key, `${keyId}.${encoded}`)), Buffer.from(given))) return { ok: false, reason: "bad_signature" };
  let payload: Payload;
  try {
    payload = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8")) as Payload;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (typeof payload !== "object" || payload === null || !Number.isSafeInteger(payload.e) || typeof payload.c !== "string") return { ok: false, reason: "malformed" };
  const expiresAt = new Date(payload.e * 1000);
  if (now.getTime() >= expiresAt.getTime()) return { ok: false, reason: "expired" };
  return {
    ok: true,
    entry: { customerId: payload.c, subscriptionId: payload.s ?? null, locale: payload.l ?? null, returnUrl: payload.r ?? null },
    expiresAt,
  };
}
