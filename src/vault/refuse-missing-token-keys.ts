import { sql } from "kysely";
import { ConfigError } from "../config.ts";
import type { Db } from "../db/connect.ts";
import type { Keyring } from "./keyring.ts";

/**
 * Refuses a keyring that lacks a key still sealing an active card token or a webhook
 * not applied yet: every charge of those cards would fail. One ConfigError line per key.
 */
export async function refuseMissingTokenKeys(db: Db, keyring: Keyring): Promise<void> {
  const ids = [...keyring.keys.keys()];
  const inboxKeyId = sql<string>`payload->'sealedToken'->>'keyId'`;
  const [tokens, webhooks] = await Promise.all([
    db.selectFrom("payment_tokens").select(["key_id", sql<string>`count(*)`.as("n")]).where("status", "=", "active").where("key_id", "not in", ids).groupBy("key_id").execute(),
    db.selectFrom("webhook_inbox").select([inboxKeyId.as("key_id"), sql<string>`count(*)`.as("n")]).where("processed_at", "is", null).where(inboxKeyId, "not in", ids).groupBy(inboxKeyId).execute(),
  ]);
  const missing = new Map<string, { tokens: number; webhooks: number }>();
  for (const row of tokens) missing.set(row.key_id, { tokens: Number(row.n), webhooks: 0 });
  for (const row of webhooks) missing.set(row.key_id, { tokens: missing.get(row.key_id)?.tokens ?? 0, webhooks: Number(row.n) });
  if (missing.size === 0) return;
  throw new ConfigError(
    [...missing].map(([keyId, { tokens, webhooks }]) => {
      const needs = [tokens > 0 ? `${tokens} stored card token${tokens === 1 ? "" : "s"}` : null, webhooks > 0 ? `${webhooks} webhook${webhooks === 1 ? "" : "s"} not applied yet` : null];
      return `TOKEN_ENCRYPTION_KEYS lacks key "${keyId}", which ${needs.filter(Boolean).join(" and ")} need${tokens + webhooks === 1 ? "s" : ""}: put it back after the first key (a key may leave only once no token is sealed with it)`;
    }),
  );
}
