import { RETENTION_BATCH } from "../db/retention-batch.ts";
import type { Deps } from "../deps.ts";

/**
 * Deletes at most RETENTION_BATCH audit rows older than AUDIT_LOG_RETENTION (400 days by
 * default: a card token's decryptions outlive a yearly audit). Measured on the billing
 * clock like every retention (the same as the wall clock outside a sandbox's test clock).
 * Returns the rows deleted.
 */
export async function pruneAuditLog(deps: Pick<Deps, "db" | "config" | "clock">): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - deps.config.retention.auditLogMs);
  const { numDeletedRows } = await deps.db
    .deleteFrom("audit_log")
    .where("id", "in", (eb) => eb.selectFrom("audit_log").select("id").where("at", "<", cutoff).limit(RETENTION_BATCH))
    .executeTakeFirst();
  return Number(numDeletedRows);
}
