import { sql } from "kysely";
import { abandonedAfterMs } from "../charges/abandoned-after.ts";
import { lookupBackoffMs } from "../charges/lookup-backoff.ts";
import type { Refund } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { OenConfigError } from "../oen/errors.ts";
import type { OenTransaction } from "../oen/types.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { refundLookupVerdict } from "./refund-lookup-verdict.ts";
import { settleRefund, type RefundSettlement } from "./settle-refund.ts";

export type ResolveRefundResult =
  | { kind: "settled"; verdict: "succeeded" | "failed"; refund: Refund }
  | { kind: "already_settled"; refund: Refund | undefined }
  /** Planned but never sent: sendRefund's work, not a lookup's. */
  | { kind: "not_sent"; refund: Refund }
  /** Not decidable yet: look again after `retryInMs`. */
  | { kind: "wait"; retryInMs: number; why: "in_flight" | "pending" | "oen_unavailable" };

/**
 * Settles a refund whose outcome is unknown (timeout, 5xx, 504, dropped connection, R0001),
 * or whose worker died mid-call (`pending`, sent longer ago than a request can take), by
 * reading the transaction at Oen. It never sends: only a lookup made `lookupSettleMs` after
 * the request that still shows the transaction unrefunded lets it fail, so it may be planned again.
 */
export async function resolveRefund(deps: Deps, refundId: string): Promise<ResolveRefundResult> {
  // The age comes from Postgres' clock, the one that stamped sent_at.
  const row = await deps.db
    .selectFrom("refunds")
    .selectAll()
    .select(sql<string | null>`extract(epoch from now() - sent_at) * 1000`.as("sent_age_ms"))
    .where("id", "=", refundId)
    .executeTakeFirst();
  if (row === undefined || (row.status !== "pending" && row.status !== "unknown")) return { kind: "already_settled", refund: row && withoutAge(row) };
  if (row.sent_at === null) return { kind: "not_sent", refund: withoutAge(row) };
  const ageMs = Number(row.sent_age_ms);
  if (row.status === "pending") {
    const abandonedAfter = abandonedAfterMs(deps.config);
    if (ageMs < abandonedAfter) return { kind: "wait", retryInMs: abandonedAfter - ageMs, why: "in_flight" };
  }

  let transaction: OenTransaction;
  try {
    transaction = await deps.oen.getTransaction(row.oen_transaction_hid);
  } catch (error) {
    if (error instanceof OenConfigError) throw error;
    deps.logger.warn({ refundId, oenTransactionId: row.oen_transaction_hid, err: (error as Error).message }, "transaction lookup failed; will look again");
    await noteLookup(deps, refundId);
    return { kind: "wait", retryInMs: lookupBackoffMs(row.lookup_count), why: "oen_unavailable" };
  }
  const settleMs = deps.config.oen.lookupSettleMs;
  const verdict = refundLookupVerdict(transaction, row.amount, ageMs, settleMs);
  if (verdict.kind === "pending") {
    await noteLookup(deps, refundId);
    const backoff = lookupBackoffMs(row.lookup_count);
    if (transaction.status !== "charged" && transaction.status !== "claimed") {
      deps.logger.error({ refundId, oenTransactionId: row.oen_transaction_hid, status: transaction.status }, "refund lookup shows an unexpected transaction state: ask Oen (聯絡應援)");
      return { kind: "wait", retryInMs: backoff, why: "pending" };
    }
    // Nothing shown yet: look again no later than the moment "nothing" becomes proof.
    return { kind: "wait", retryInMs: Math.max(250, Math.min(backoff, settleMs - ageMs)), why: "pending" };
  }
  if (verdict.kind === "refunded_elsewhere") {
    deps.logger.error({ refundId, oenTransactionId: row.oen_transaction_hid, amount: row.amount, oenRefundAmount: verdict.refundAmount }, "the transaction was refunded another amount (in the CRM?): ours was not made; reconcile");
  }
  const settlement: RefundSettlement =
    verdict.kind === "refunded"
      ? { kind: "succeeded" }
      : { kind: "failed", code: verdict.kind, message: row.code === null ? null : `after ${row.code}: ${row.message ?? ""}`.trim() };
  const effects = createSideEffects(deps);
  const settled = await deps.db.transaction().execute((tx) => settleRefund(deps, tx, refundId, settlement, effects));
  await effects.flush();
  if (!settled.applied) return { kind: "already_settled", refund: settled.refund };
  deps.logger.info({ refundId, oenTransactionId: row.oen_transaction_hid, verdict: verdict.kind }, "unknown refund resolved by transaction lookup");
  return { kind: "settled", verdict: settlement.kind, refund: settled.refund };
}

async function noteLookup(deps: Pick<Deps, "db">, refundId: string): Promise<void> {
  await deps.db
    .updateTable("refunds")
    .set((eb) => ({ lookup_count: eb("lookup_count", "+", 1), last_lookup_at: new Date() }))
    .where("id", "=", refundId)
    .execute();
}

function withoutAge({ sent_age_ms: _, ...refund }: Refund & { sent_age_ms: string | null }): Refund {
  return refund;
}
