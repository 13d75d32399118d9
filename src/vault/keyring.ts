/** Encryption keys for card tokens; the first one encrypts, all of them decrypt (rotation). */
export interface Keyring {
  readonly primaryId: string;
  readonly keys: ReadonlyMap<string, Buffer>;
}

/** Parses `keyId:base64key,keyId:base64key`; errors never include key material. */
export function parseKeyring(text: string): Keyring {
  const keys = new Map<string, Buffer>();
  let primaryId: string | null = null;
  for (const entry of text.split(",").map((e) => e.trim()).filter(Boolean)) {
    const separator = entry.indexOf(":");
    const id = entry.slice(0, separator);
    if (separator <= 0 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error("each entry needs a key id of letters, digits, _ or -");
    if (keys.has(id)) throw new Error(`key id "${id}" appears twice`);
    const key = Buffer.from(entry.slice(separator + 1), "base64");
    if (key.length !== 32) throw new Error(`key "${id}" is not 32 bytes of base64`);
    keys.set(id, key);
    primaryId ??= id;
  }
  if (primaryId === null) throw new Error("no keys");
  return { primaryId, keys };
}
