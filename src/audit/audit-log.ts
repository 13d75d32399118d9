import type { Insertable, Kysely } from "kysely";
import type { AuditLogTable, Database } from "../db/database.ts";

export interface AuditEntry {
  actor: string;
  action: string;
  subscriptionId: string | null;
  reason: string;
  detail?: Record<string, unknown>;
}

/** The row of an entry, for a statement that writes it beside what it records (the charge claim). */
export function auditRow(entry: AuditEntry): Insertable<AuditLogTable> {
  return { actor: entry.actor, action: entry.action, subscription_id: entry.subscriptionId, reason: entry.reason, detail: JSON.stringify(entry.detail ?? {}) };
}

/** Appends one audit row; pass a transaction so the row commits with what it records. */
export async function writeAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db.insertInto("audit_log").values(auditRow(entry)).execute();
}
