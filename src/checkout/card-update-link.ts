import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { Config } from "../config.ts";

/** How long an emailed link works: past the whole default dunning schedule (7 days). */
export const CARD_UPDATE_LINK_TTL_MS = 14 * 86_400_000;

// Keys for this purpose only, derived from the token keyring: a link's MAC can never
// double as anything the vault computes, and rotating TOKEN_ENCRYPTION_KEYS rotates them.
const LABEL = "card-update-link";
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export type CardUpdateTokenCheck =
  | { ok: true; subscriptionId: string; expiresAt: Date }
  /** malformed: not a link we make; unknown_key: signed with a key no longer configured; bad_signature: altered or forged. */
  | { ok: false; reason: "malformed" | "unknown_key" | "bad_signature" | "expired" };

function mac(key: Buffer, signed: string): string {
  const derived = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), LABEL, 32));
  return createHmac("sha256", derived).update(signed).digest("base64url");
}

/**
 * The link an email carries to replace a subscription's card:
 * `{publicUrl}/billing/card/{keyId}.{subscriptionId}.{expiresAtSeconds}.{mac}`.
 * It points to us, not to Oen, whose page dies 10 minutes after it is opened;
 * the signature is the only authorization, bound to one subscription and expiring.
 */
export function cardUpdateLink(config: Pick<Config, "publicUrl" | "tokenKeys">, subscriptionId: string, now: Date, ttlMs = CARD_UPDATE_LINK_TTL_MS): string {
  if (!ID.test(subscriptionId)) throw new RangeError(`cannot sign a card-update link for subscription id "${subscriptionId}"`);
  const { primaryId, keys } = config.tokenKeys;
  const signed = `${primaryId}.${subscriptionId}.${Math.floor((now.getTime() + ttlMs) / 1000)}`;
  return `${config.publicUrl}/billing/card/${signed}.${mac(keys.get(primaryId)!, signed)}`;
}

/** Checks a card-update token (the link's last path segment); the signature is checked before the expiry. */
export function verifyCardUpdateToken(config: Pick<Config, "tokenKeys">, token: string, now: Date): CardUpdateTokenCheck {
  const parts = token.split(".");
  if (parts.length !== 4) return { ok: false, reason: "malformed" };
  const [keyId, subscriptionId, expires, given] = parts as [string, string, string, string];
  if (!ID.test(keyId) || !ID.test(subscriptionId) || !/^[0-9]{1,12}$/.test(expires) || !/^[A-Za-z0-9_-]{43}$/.test(given)) {
    return { ok: false, reason: "malformed" };
  }
  const key = config.tokenKeys.keys.get(keyId);
  if (key === undefined) return { ok: false, reason: "unknown_key" };
  // Compared as text, not decoded bytes: base64url decoding ignores the spare bits
  // of the last character, which would let two different tokens pass.
  const expected = Buffer.from(mac(key, `${keyId}.${subscriptionId}.${expires}`));
  if (!timingSafeEqual(expected, Buffer.from(given))) return { ok: false, reason: "bad_signature" };
  const expiresAt = new Date(Number(expires) * 1000);
  if (now.getTime() >= expiresAt.getTime()) return { ok: false, reason: "expired" };
  return { ok: true, subscriptionId, expiresAt };
}
