import { sql, type Kysely } from "kysely";
import { writeAudit, type AuditEntry } from "../audit/audit-log.ts";
import type { Database, PaymentToken } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import type { Keyring } from "./keyring.ts";
import { BOUND_PREFIX, openStoredToken, openWebhookToken, sealStoredToken, TokenDecryptionError, type SealedToken, type TokenRow } from "./token-cipher.ts";

export interface RevealPurpose {
  actor: string;
  reason: string;
  detail?: Record<string, unknown>;
}

type StoredToken = Pick<PaymentToken, "id" | "subscription_id" | "checkout_session_id" | "key_id" | "ciphertext">;

// The vault's functions are the only ones that open a card token; each opening
// writes an audit row (who, why, which subscription) in the caller's transaction,
// or, for the charge claim, in the caller's statement (revealAudit, openAudited).

/** A stored card token in cleartext, for a charge. Throws TokenDecryptionError for a ciphertext moved from another row. */
export async function revealToken(db: Kysely<Database>, keyring: Keyring, token: StoredToken, purpose: RevealPurpose): Promise<string> {
  await audit(db, token, purpose);
  return openStoredToken(keyring, token);
}

/**
 * A token webhook's token, moved to the payment_tokens row about to be
 * inserted: opened for the checkout page it arrived for, sealed for `row`.
 * Null (nothing opened, nothing audited) when it was not sealed for that page:
 * a sealed value moved to another page's webhook.
 */
export async function bindWebhookToken(db: Kysely<Database>, keyring: Keyring, sealed: SealedToken, checkoutId: string, row: TokenRow, purpose: RevealPurpose): Promise<SealedToken | null> {
  let token: string;
  try {
    token = openWebhookToken(keyring, sealed, checkoutId);
  } catch (error) {
    if (error instanceof TokenDecryptionError) return null;
    throw error;
  }
  await audit(db, { ...row, key_id: sealed.keyId }, purpose);
  return sealStoredToken(keyring, token, row);
}

/**
 * Seals a stored token again under the first key, for its row (key rotation,
 * and tokens sealed before bindings). The update is guarded by the old
 * ciphertext, so a concurrent change wins: false then. Throws
 * TokenDecryptionError when the token does not open.
 */
export async function resealStoredToken(db: Kysely<Database>, keyring: Keyring, token: StoredToken, purpose: RevealPurpose): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const cleartext = await revealToken(tx, keyring, token, purpose);
    const sealed = sealStoredToken(keyring, cleartext, token);
    const { numUpdatedRows } = await tx
      .updateTable("payment_tokens")
      .set({ key_id: sealed.keyId, ciphertext: sealed.ciphertext })
      .where("id", "=", token.id)
      .where("ciphertext", "=", token.ciphertext)
      .executeTakeFirst();
    return numUpdatedRows > 0n;
  });
}

const RESEAL_BATCH = 200;

/**
 * Every stored token sealed before bindings (v1, which opens anywhere), sealed
 * again for its own row, in batches; for the sweep, so that rows an older
 * version wrote during a rolling deploy are bound too. Tokens that do not open
 * (a key no longer configured, a damaged row) are left as they are and logged.
 * Returns how many were re-sealed.
 */
export async function resealUnboundTokens(deps: Pick<Deps, "db" | "config" | "logger">): Promise<number> {
  const keyIds = [...deps.config.tokenKeys.keys.keys()];
  let resealed = 0;
  let after = "";
  for (;;) {
    const batch = await deps.db
      .selectFrom("payment_tokens")
      .select(["id", "subscription_id", "checkout_session_id", "key_id", "ciphertext"])
      // A literal, so that the partial index payment_tokens_unbound serves it.
      .where("ciphertext", "not like", sql.lit(`${BOUND_PREFIX}%`))
      .where("key_id", "in", keyIds)
      .where("id", ">", after)
      .orderBy("id")
      .limit(RESEAL_BATCH)
      .execute();
    for (const token of batch) {
      try {
        if (await resealStoredToken(deps.db, deps.config.tokenKeys, token, { actor: "sweep", reason: "seal a card token for its own row (sealed before bindings)" })) resealed++;
      } catch (error) {
        if (!(error instanceof TokenDecryptionError)) throw error;
        deps.logger.warn({ paymentTokenId: token.id, err: error.message }, "a stored card token sealed before bindings does not open; left as it is");
      }
    }
    if (batch.length < RESEAL_BATCH) return resealed;
    after = batch.at(-1)!.id;
  }
}

/** The audit entry of opening `token`, for a caller that writes it in the statement that needs the token. */
export function revealAudit(token: Pick<StoredToken, "id" | "subscription_id" | "key_id">, purpose: RevealPurpose): AuditEntry {
  return {
    actor: purpose.actor,
    action: "card_token.decrypt",
    subscriptionId: token.subscription_id,
    reason: purpose.reason,
    detail: { paymentTokenId: token.id, keyId: token.key_id, ...purpose.detail },
  };
}

/** A stored card token in cleartext, once the statement that wrote its revealAudit entry committed. */
export function openAudited(keyring: Keyring, token: StoredToken): string {
  return openStoredToken(keyring, token);
}

function audit(db: Kysely<Database>, token: Pick<StoredToken, "id" | "subscription_id" | "key_id">, purpose: RevealPurpose): Promise<void> {
  return writeAudit(db, revealAudit(token, purpose));
}
