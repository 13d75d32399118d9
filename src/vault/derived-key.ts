import { hkdfSync, type KeyObject } from "node:crypto";
import type { Keyring } from "./keyring.ts";
import { secretKey } from "./secret-key.ts";

// Derived once per (key, purpose): the ingress MACs every webhook, and HKDF cost more than the MAC.
const derivedKeys = new WeakMap<Buffer, Map<string, KeyObject>>();

/**
 * A key for one purpose (a MAC, a digest), derived from a token key with
 * HKDF-SHA256 and the purpose as its info: never the encryption key itself, and
 * never the same for two purposes. Rotating TOKEN_ENCRYPTION_KEYS rotates it.
 * Undefined when the keyring has no key `keyId`.
 */
export function derivedKey(keyring: Keyring, keyId: string, purpose: string): KeyObject | undefined {
  const key = keyring.keys.get(keyId);
  if (key === undefined) return undefined;
  let byPurpose = derivedKeys.get(key);
  if (byPurpose === undefined) {
    byPurpose = new Map();
    derivedKeys.set(key, byPurpose);
  }
  let derived = byPurpose.get(purpose);
  if (derived === undefined) {
    derived = secretKey(Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), purpose, 32)));
    byPurpose.set(purpose, derived);
  }
  return derived;
}
