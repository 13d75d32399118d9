import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";

export interface AuditEntry {
  actor: string;
  action: string;
  subscriptionId: string | null;
  reason: string;
  detail?: Record<string, unknown>;
}

/** Appends one audit row; pass a transaction so the row commits with what it records. */
export async function writeAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto("audit_log")
    .values({
      actor: entry.actor,
      action: entry.action,
      subscription_id: entry.subscriptionId,
      reason: entry.reason,
      detail: JSON.stringify(entry.detail ?? {}),
    })
    .execute();
}
