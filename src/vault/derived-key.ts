import { hkdfSync } from "node:crypto";
import type { Keyring } from "./keyring.ts";

/**
 * A key for one purpose (a MAC, a digest), derived from a token key with
 * HKDF-SHA256 and the purpose as its info: never the encryption key itself, and
 * never the same for two purposes. Rotating TOKEN_ENCRYPTION_KEYS rotates it.
 * Undefined when the keyring has no key `keyId`.
 */
export function derivedKey(keyring: Keyring, keyId: string, purpose: string): Buffer | undefined {
  const key = keyring.keys.get(keyId);
  return key === undefined ? undefined : Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), purpose, 32));
}
