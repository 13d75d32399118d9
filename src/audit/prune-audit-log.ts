import { RETENTION_BATCH } from "../db/retention-batch.ts";
import type { Deps } from "../deps.ts";

/**
 * Deletes at most RETENTION_BATCH audit rows older, at `at`, than AUDIT_LOG_RETENTION (400
 * days by default: a card token's decryptions outlive a yearly audit). Returns the rows deleted.
 */
export async function pruneAuditLog(deps: Pick<Deps, "db" | "config">, at: Date): Promise<number> {
  const cutoff = new Date(at.getTime() - deps.config.retention.auditLogMs);
  const { numDeletedRows } = await deps.db
    .deleteFrom("audit_log")
    .where("id", "in", (eb) => eb.selectFrom("audit_log").select("id").where("at", "<", cutoff).limit(RETENTION_BATCH))
    .executeTakeFirst();
  return Number(numDeletedRows);
}
