import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Keyring } from "./keyring.ts";
import { secretKey } from "./secret-key.ts";

/** A card token at rest: AES-256-GCM, with the id of the key that sealed it. */
export interface SealedToken {
  keyId: string;
  /** `v2.` then base64 of iv (12 bytes) | ciphertext | auth tag (16 bytes); without `v2.`, sealed before bindings (v1). */
  ciphertext: string;
}

/** The stored row a token is sealed for: it opens for that row only. */
export interface TokenRow {
  id: string;
  subscription_id: string;
  checkout_session_id: string;
}

// The associated data says where a ciphertext belongs, so one moved anywhere else
// fails authentication: v2 names the webhook's checkout page, or the stored row.
// v1 (a constant) is what versions before bindings sealed; it still opens.
/** How the ciphertext of a bound (v2) token starts; base64 never holds a ".". */
export const BOUND_PREFIX = "v2.";
const LEGACY_AAD = Buffer.from("oen-card-token:v1");
const webhookAad = (checkoutId: string) => Buffer.from(`oen-webhook-token:v2:${JSON.stringify(checkoutId)}`);
const rowAad = (row: TokenRow) => Buffer.from(`oen-card-token:v2:${JSON.stringify([row.id, row.subscription_id, row.checkout_session_id])}`);

export class TokenDecryptionError extends Error {
  override name = "TokenDecryptionError";
}

/** A token webhook's token, sealed for the checkout page it claims to be about. */
export function sealWebhookToken(keyring: Keyring, token: string, checkoutId: string): SealedToken {
  return seal(keyring, token, webhookAad(checkoutId));
}

/** Opens a webhook's token for `checkoutId`; throws TokenDecryptionError when it was sealed for another page. */
export function openWebhookToken(keyring: Keyring, sealed: SealedToken, checkoutId: string): string {
  return open(keyring, sealed, webhookAad(checkoutId));
}

/** A card token sealed for its payment_tokens row (id, subscription, checkout page). */
export function sealStoredToken(keyring: Keyring, token: string, row: TokenRow): SealedToken {
  return seal(keyring, token, rowAad(row));
}

/** Opens a stored card token; throws TokenDecryptionError when the ciphertext was sealed for another row. */
export function openStoredToken(keyring: Keyring, row: TokenRow & { key_id: string; ciphertext: string }): string {
  return open(keyring, { keyId: row.key_id, ciphertext: row.ciphertext }, rowAad(row));
}

/** Sealed before bindings (v1): it opens anywhere, so the sweep seals it again for its row. */
function isUnbound(sealed: Pick<SealedToken, "ciphertext">): boolean {
  return !sealed.ciphertext.startsWith(BOUND_PREFIX);
}

// Each IV is 12 fresh random bytes, used once; drawn from a pool filled 4 KiB at a time: a
// randomBytes call per seal was a quarter of the seal's cost on the ingress.
const IV_BYTES = 12;
const IV_POOL_BYTES = IV_BYTES * 341;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;

function freshIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_POOL_BYTES);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

function seal(keyring: Keyring, token: string, aad: Buffer): SealedToken {
  const key = keyring.keys.get(keyring.primaryId)!;
  const iv = freshIv();
  const cipher = createCipheriv("aes-256-gcm", secretKey(key), iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return { keyId: keyring.primaryId, ciphertext: BOUND_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64") };
}

function open(keyring: Keyring, sealed: SealedToken, aad: Buffer): string {
  const key = keyring.keys.get(sealed.keyId);
  if (key === undefined) throw new TokenDecryptionError(`no key with id "${sealed.keyId}" in TOKEN_ENCRYPTION_KEYS`);
  const unbound = isUnbound(sealed);
  const raw = Buffer.from(unbound ? sealed.ciphertext : sealed.ciphertext.slice(BOUND_PREFIX.length), "base64");
  if (raw.length < 12 + 16 + 1) throw new TokenDecryptionError("sealed token is truncated");
  const decipher = createDecipheriv("aes-256-gcm", secretKey(key), raw.subarray(0, 12));
  decipher.setAAD(unbound ? LEGACY_AAD : aad);
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  try {
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new TokenDecryptionError(`sealed token failed authentication with key "${sealed.keyId}" (altered, or sealed for another page or row)`);
  }
}
