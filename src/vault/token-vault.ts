import type { Kysely } from "kysely";
import { writeAudit } from "../audit/audit-log.ts";
import type { Database, PaymentToken } from "../db/database.ts";
import type { Keyring } from "./keyring.ts";
import { openToken } from "./token-cipher.ts";

export interface RevealPurpose {
  actor: string;
  reason: string;
  detail?: Record<string, unknown>;
}

/**
 * The only way to read a card token in cleartext: every call writes an audit
 * row (who, why, which subscription) in the caller's transaction.
 */
export async function revealToken(
  db: Kysely<Database>,
  keyring: Keyring,
  token: Pick<PaymentToken, "id" | "subscription_id" | "key_id" | "ciphertext">,
  purpose: RevealPurpose,
): Promise<string> {
  await writeAudit(db, {
    actor: purpose.actor,
    action: "card_token.decrypt",
    subscriptionId: token.subscription_id,
    reason: purpose.reason,
    detail: { paymentTokenId: token.id, keyId: token.key_id, ...purpose.detail },
  });
  return openToken(keyring, { keyId: token.key_id, ciphertext: token.ciphertext });
}
