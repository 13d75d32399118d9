import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { metrics } from "../metrics/metrics.ts";
import { OenConfigError } from "../oen/errors.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { abandonedAfterMs } from "./abandoned-after.ts";
import { lookupBackoffMs } from "./lookup-backoff.ts";
import { lookupVerdict } from "./lookup-verdict.ts";
import { settleAttempt, type Settlement, type SettleResult } from "./settle-attempt.ts";

export type ResolveResult =
  | { kind: "settled"; verdict: "succeeded" | "declined" | "not_found"; settled: SettleResult }
  | { kind: "already_settled" }
  /** Not decidable yet: look again after `retryInMs`. */
  | { kind: "wait"; retryInMs: number; why: "in_flight" | "pending" | "oen_unavailable" };

/**
 * Settles an attempt whose outcome is unknown (timeout, 5xx, 504, C026, a
 * crash mid-call) by looking its orderId up at Oen. Only a lookup made long
 * enough after the attempt that finds nothing lets the invoice be charged again.
 */
export async function resolveAttempt(deps: Deps, attemptId: string): Promise<ResolveResult> {
  // The age comes from Postgres' clock, the one that stamped created_at: host clock skew cannot shorten it.
  const attempt = await deps.db
    .selectFrom("charge_attempts")
    .selectAll()
    .select(sql<string>`extract(epoch from now() - created_at) * 1000`.as("age_ms"))
    .where("id", "=", attemptId)
    .executeTakeFirst();
  if (attempt === undefined || (attempt.status !== "sending" && attempt.status !== "unknown")) return { kind: "already_settled" };
  const ageMs = Number(attempt.age_ms);
  if (attempt.status === "sending") {
    const abandonedAfter = abandonedAfterMs(deps.config);
    if (ageMs < abandonedAfter) return { kind: "wait", retryInMs: abandonedAfter - ageMs, why: "in_flight" };
  }
  let transactions;
  try {
    transactions = await deps.oen.listOrderTransactions(attempt.order_id);
  } catch (error) {
    if (error instanceof OenConfigError) throw error;
    deps.logger.warn({ orderId: attempt.order_id, err: (error as Error).message }, "order lookup failed; will look again");
    metrics.chargeLookedUp("oen_unavailable");
    return { kind: "wait", retryInMs: await noteLookup(deps, attemptId, lookupBackoffMs(attempt.lookup_count)), why: "oen_unavailable" };
  }
  const verdict = lookupVerdict(transactions, ageMs, deps.config.oen.lookupSettleMs);
  metrics.chargeLookedUp(verdict.kind);
  if (verdict.kind === "pending") {
    const backoff = lookupBackoffMs(attempt.lookup_count);
    // Nothing recorded yet: look again no later than the moment "nothing" becomes proof.
    const retryInMs = transactions.length === 0 ? Math.max(250, Math.min(backoff, deps.config.oen.lookupSettleMs - ageMs)) : backoff;
    return { kind: "wait", retryInMs: await noteLookup(deps, attemptId, retryInMs), why: "pending" };
  }
  const settlement: Settlement =
    verdict.kind === "succeeded"
      ? { kind: "succeeded", transactionHid: verdict.transactionHid, authCode: verdict.authCode, duplicates: verdict.duplicates }
      : verdict.kind === "declined"
        ? { kind: "declined", code: null, message: verdict.reason }
        : { kind: "not_found" };
  const effects = createSideEffects(deps);
  const settled = await deps.db.transaction().execute((tx) => settleAttempt(deps, tx, attemptId, settlement, effects));
  await effects.flush();
  if (!settled.applied) return { kind: "already_settled" };
  deps.logger.info({ orderId: attempt.order_id, verdict: verdict.kind }, "unknown charge attempt resolved by order lookup");
  return { kind: "settled", verdict: verdict.kind, settled };
}

/** Counts a lookup that decided nothing and records when the next one is due; returns the wait. */
async function noteLookup(deps: Pick<Deps, "db">, attemptId: string, retryInMs: number): Promise<number> {
  await deps.db
    .updateTable("charge_attempts")
    .set((eb) => ({
      lookup_count: eb("lookup_count", "+", 1),
      last_lookup_at: sql<Date>`now()`,
      next_lookup_at: sql<Date>`now() + make_interval(secs => ${retryInMs / 1000})`,
    }))
    .where("id", "=", attemptId)
    .execute();
  return retryInMs;
}
