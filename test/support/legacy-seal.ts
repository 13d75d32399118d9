import { createCipheriv, randomBytes } from "node:crypto";
import type { Keyring } from "../../src/vault/keyring.ts";
import type { SealedToken } from "../../src/vault/token-cipher.ts";

/** A token sealed the way versions before bindings did (one constant associated data): rows and jobs they left behind. */
export function sealLegacyToken(keyring: Keyring, token: string): SealedToken {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyring.keys.get(keyring.primaryId)!, iv);
  cipher.setAAD(Buffer.from("oen-card-token:v1"));
  const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return { keyId: keyring.primaryId, ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64") };
}
