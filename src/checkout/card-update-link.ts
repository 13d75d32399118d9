import { createHash, createHmac, timingSafeEqual, type KeyObject } from "node:crypto";
import type { Config } from "../config.ts";
import { derivedKey } from "../vault/derived-key.ts";

/** How long an emailed link works: past the whole default dunning schedule (7 days). */
export const CARD_UPDATE_LINK_TTL_MS = 14 * 86_400_000;

// The MAC's key is derived from the token keyring for this purpose only: it can never
// double as anything the vault computes, and rotating TOKEN_ENCRYPTION_KEYS rotates it.
const PURPOSE = "card-update-link";
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const SECONDS = /^[0-9]{1,12}$/;

export type CardUpdateTokenCheck =
  /** linkId: which link this is (a digest of it), for the pages it may open; issuedAt: a card bound after it makes the link stale. */
  | { ok: true; subscriptionId: string; issuedAt: Date; expiresAt: Date; linkId: string }
  /** malformed: not a link we make; unknown_key: signed with a key no longer configured; bad_signature: altered or forged. */
  | { ok: false; reason: "malformed" | "unknown_key" | "bad_signature" | "expired" };

function mac(key: KeyObject, signed: string): string {
  return createHmac("sha256", key).update(signed).digest("base64url");
}

const seconds = (at: Date) => Math.floor(at.getTime() / 1000);

/**
 * The link an email carries to replace a subscription's card:
 * `{publicUrl}/billing/card/{keyId}.{subscriptionId}.{issuedAtSeconds}.{expiresAtSeconds}.{mac}`.
 * It points to us, not to Oen, whose page dies 10 minutes after it is opened;
 * the signature is the only authorization, bound to one subscription and expiring.
 */
export function cardUpdateLink(config: Pick<Config, "publicUrl" | "tokenKeys">, subscriptionId: string, now: Date, ttlMs = CARD_UPDATE_LINK_TTL_MS): string {
  if (!ID.test(subscriptionId)) throw new RangeError(`cannot sign a card-update link for subscription id "${subscriptionId}"`);
  const { primaryId } = config.tokenKeys;
  const signed = `${primaryId}.${subscriptionId}.${seconds(now)}.${seconds(new Date(now.getTime() + ttlMs))}`;
  return `${config.publicUrl}/billing/card/${signed}.${mac(derivedKey(config.tokenKeys, primaryId, PURPOSE)!, signed)}`;
}

/**
 * Checks a card-update token (the link's last path segment); the signature is
 * checked before the expiry. Links sent before they carried their issue time
 * (`{keyId}.{subscriptionId}.{expiresAtSeconds}.{mac}`) were all issued
 * CARD_UPDATE_LINK_TTL_MS before their expiry, and are read so.
 */
export function verifyCardUpdateToken(config: Pick<Config, "tokenKeys">, token: string, now: Date): CardUpdateTokenCheck {
  const parts = token.split(".");
  if (parts.length !== 4 && parts.length !== 5) return { ok: false, reason: "malformed" };
  const [keyId, subscriptionId] = parts as [string, string];
  const given = parts.at(-1)!;
  const times = parts.slice(2, -1);
  if (!ID.test(keyId) || !ID.test(subscriptionId) || !times.every((t) => SECONDS.test(t)) || !/^[A-Za-z0-9_-]{43}$/.test(given)) {
    return { ok: false, reason: "malformed" };
  }
  const key = derivedKey(config.tokenKeys, keyId, PURPOSE);
  if (key === undefined) return { ok: false, reason: "unknown_key" };
  // Compared as text, not decoded bytes: base64url decoding ignores the spare bits
  // of the last character, which would let two different tokens pass.
  const expected = Buffer.from(mac(key, parts.slice(0, -1).join(".")));
  if (!timingSafeEqual(expected, Buffer.from(given))) return { ok: false, reason: "bad_signature" };
  const expiresAt = new Date(Number(times.at(-1)) * 1000);
  if (now.getTime() >= expiresAt.getTime()) return { ok: false, reason: "expired" };
  const issuedAt = times.length === 2 ? new Date(Number(times[0]) * 1000) : new Date(expiresAt.getTime() - CARD_UPDATE_LINK_TTL_MS);
  return { ok: true, subscriptionId, issuedAt, expiresAt, linkId: createHash("sha256").update(token).digest("hex") };
}
