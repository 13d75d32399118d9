import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Keyring } from "./keyring.ts";

/** A card token at rest: AES-256-GCM, with the id of the key that sealed it. */
export interface SealedToken {
  keyId: string;
  /** base64 of iv (12 bytes) | ciphertext | auth tag (16 bytes) */
  ciphertext: string;
}

// The additional data binds a ciphertext to its purpose, so a sealed value
// copied into another column or context fails authentication.
const AAD = Buffer.from("oen-card-token:v1");

export function sealToken(keyring: Keyring, token: string): SealedToken {
  const key = keyring.keys.get(keyring.primaryId)!;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return { keyId: keyring.primaryId, ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64") };
}

export class TokenDecryptionError extends Error {
  override name = "TokenDecryptionError";
}

export function openToken(keyring: Keyring, sealed: SealedToken): string {
  const key = keyring.keys.get(sealed.keyId);
  if (key === undefined) throw new TokenDecryptionError(`no key with id "${sealed.keyId}" in TOKEN_ENCRYPTION_KEYS`);
  const raw = Buffer.from(sealed.ciphertext, "base64");
  if (raw.length < 12 + 16 + 1) throw new TokenDecryptionError("sealed token is truncated");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAAD(AAD);
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  try {
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new TokenDecryptionError(`sealed token failed authentication with key "${sealed.keyId}"`);
  }
}
