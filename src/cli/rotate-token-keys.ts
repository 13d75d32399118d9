import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { writeAudit } from "../audit/audit-log.ts";
import type { Db } from "../db/connect.ts";
import type { Keyring } from "../vault/keyring.ts";
import { sealStoredToken } from "../vault/token-cipher.ts";
import { revealToken } from "../vault/token-vault.ts";

export interface RotationProgress {
  keyId: string;
  rotated: number;
  /** Tokens under another key when the run began. */
  total: number;
}

export interface RotationResult extends RotationProgress {
  /** Tokens still under another key (0 once done). */
  remaining: number;
  /** Webhooks received but not applied yet whose token is sealed under another key (the webhook worker applies them within seconds). */
  webhooksUnderOtherKeys: number;
}

const ACTOR = "cli rotate-keys";

/**
 * Re-encrypts every stored card token (active or not) under the keyring's first key, a batch
 * per transaction, while the service runs: each row is locked only for its batch, a charge that
 * read the old ciphertext still opens it (the old key stays in TOKEN_ENCRYPTION_KEYS until the
 * run is over), and a run stopped halfway resumes where it stopped, since it only ever picks
 * tokens under another key. Every decryption is audited (invariant 4), and the run itself.
 */
export async function rotateTokenKeys(
  db: Db,
  keyring: Keyring,
  options: { batchSize: number; pauseMs?: number; onProgress?: (progress: RotationProgress) => void },
): Promise<RotationResult> {
  const keyId = keyring.primaryId;
  const total = await countUnderOtherKeys(db, keyId);
  let rotated = 0;
  for (;;) {
    const batch = await db.transaction().execute(async (tx) => {
      const rows = await tx.selectFrom("payment_tokens").selectAll().where("key_id", "<>", keyId).orderBy("id").limit(options.batchSize).forUpdate().execute();
      for (const row of rows) {
        const token = await revealToken(tx, keyring, row, { actor: ACTOR, reason: `re-encrypt the card token under key ${keyId}`, detail: { toKeyId: keyId } });
        // Sealed again for the same row: revealToken opened it under the row's binding and the new one carries it too.
        const sealed = sealStoredToken(keyring, token, row);
        await tx.updateTable("payment_tokens").set({ key_id: sealed.keyId, ciphertext: sealed.ciphertext }).where("id", "=", row.id).execute();
      }
      return rows.length;
    });
    if (batch === 0) break;
    rotated += batch;
    options.onProgress?.({ keyId, rotated, total: Math.max(total, rotated) });
    if (options.pauseMs) await sleep(options.pauseMs);
  }
  const remaining = await countUnderOtherKeys(db, keyId);
  const webhooksUnderOtherKeys = Number(
    (
      await db
        .selectFrom("webhook_inbox")
        .select(sql<string>`count(*)`.as("n"))
        .where("processed_at", "is", null)
        .where(sql<string>`payload->'sealedToken'->>'keyId'`, "<>", keyId)
        .executeTakeFirstOrThrow()
    ).n,
  );
  await writeAudit(db, { actor: ACTOR, action: "card_token.rotate_keys", subscriptionId: null, reason: `every card token re-encrypted under key ${keyId}`, detail: { keyId, rotated, remaining } });
  return { keyId, rotated, total: Math.max(total, rotated), remaining, webhooksUnderOtherKeys };
}

async function countUnderOtherKeys(db: Db, keyId: string): Promise<number> {
  return Number((await db.selectFrom("payment_tokens").select(sql<string>`count(*)`.as("n")).where("key_id", "<>", keyId).executeTakeFirstOrThrow()).n);
}
