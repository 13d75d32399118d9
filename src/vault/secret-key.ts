import { createSecretKey, type KeyObject } from "node:crypto";

// Node turns a raw key Buffer into a key object on every cipher or MAC it is given to (a
// costly check that throws inside); the ingress seals and MACs per webhook, so each key is
// turned once. Keyed by the Buffer itself: a keyring's keys never change in place.
const keyObjects = new WeakMap<Buffer, KeyObject>();

/** The key object of a raw secret key, made once per key. */
export function secretKey(raw: Buffer): KeyObject {
  let key = keyObjects.get(raw);
  if (key === undefined) {
    key = createSecretKey(raw);
    keyObjects.set(raw, key);
  }
  return key;
}
