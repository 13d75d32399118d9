import { pruneAuditLog } from "../audit/prune-audit-log.ts";
import type { Deps } from "../deps.ts";
import { prunePlatformEvents } from "../events/prune-platform-events.ts";
import { pruneIdempotencyKeys } from "../ingress/idempotency.ts";

/** Rows one retention step deleted, by table. */
export interface PrunedRows {
  platformEvents: number;
  auditLog: number;
  idempotencyKeys: number;
}

/**
 * The sweep's retention step: one bounded batch of each table's rows past its retention
 * (platform events, audit rows, idempotency keys; the webhook inbox's runs with its relay).
 * What the charge ledger holds is never deleted: charge attempts and refunds prove what was
 * charged and stay with their invoice.
 */
export async function pruneExpired(deps: Pick<Deps, "db" | "config" | "clock">): Promise<PrunedRows> {
  return {
    platformEvents: await prunePlatformEvents(deps),
    auditLog: await pruneAuditLog(deps),
    idempotencyKeys: await pruneIdempotencyKeys(deps.db),
  };
}
