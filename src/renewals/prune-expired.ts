import { pruneAuditLog } from "../audit/prune-audit-log.ts";
import type { Deps } from "../deps.ts";
import { prunePlatformEvents } from "../events/prune-platform-events.ts";
import { RETENTION_BATCH } from "../db/retention-batch.ts";
import { pruneIdempotencyKeys } from "../ingress/idempotency.ts";
import { pruneWebhookRecords } from "../webhooks/prune-webhook-records.ts";

/** Rows one retention step deleted, by table. */
export interface PrunedRows {
  platformEvents: number;
  auditLog: number;
  idempotencyKeys: number;
  /** Applied webhook inbox rows, webhook events and tallies. */
  webhookRecords: number;
}

/**
 * The sweep's retention step: one bounded batch of each table's rows past its retention at
 * `at` (platform events, audit rows, idempotency keys), and applied webhooks and webhook records
 * past theirs (those by the database's clock). Retention is real time, not the billing clock: a sandbox whose test clock jumps a
 * year deletes nothing (Stripe's test clocks keep events the same way); the memory benchmark
 * passes a later `at`. What the charge ledger holds is never deleted: charge attempts and
 * refunds prove what was charged and stay with their invoice.
 */
export async function pruneExpired(deps: Pick<Deps, "db" | "config">, at: Date = new Date()): Promise<PrunedRows> {
  return {
    platformEvents: await prunePlatformEvents(deps, at),
    auditLog: await pruneAuditLog(deps, at),
    idempotencyKeys: await pruneIdempotencyKeys(deps.db, at),
    webhookRecords: await pruneWebhookRecords(deps),
  };
}

// Retention need not run on every tick (its deletes would double an idle tick's time): at most
// this often per process, and again on the next tick while a backlog fills whole batches.
const RETENTION_EVERY_MS = 10 * 60_000;
const nextRun = new WeakMap<object, number>();

/** pruneExpired, when this process last ran it RETENTION_EVERY_MS ago or left a full batch; null when not due. */
export async function pruneExpiredWhenDue(deps: Pick<Deps, "db" | "config">): Promise<PrunedRows | null> {
  const now = Date.now();
  if (now < (nextRun.get(deps.db) ?? 0)) return null;
  const pruned = await pruneExpired(deps);
  const backlog = Object.values(pruned).some((deleted) => deleted >= RETENTION_BATCH);
  nextRun.set(deps.db, backlog ? 0 : now + RETENTION_EVERY_MS);
  return pruned;
}
