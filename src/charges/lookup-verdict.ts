import type { OenTransaction } from "../oen/types.ts";

export type LookupVerdict =
  | { kind: "succeeded"; transactionHid: string; authCode: string | null; duplicates: string[] }
  | { kind: "declined"; reason: string | null }
  | { kind: "pending" }
  | { kind: "not_found" };

// Money moved once for these, even if it later went back: never charge again on our own.
const PAID = new Set(["charged", "claimed", "refunding", "refunded", "refundedPostPayout"]);
const UNSETTLED = new Set(["initiated", "charging", "authorized"]);

/**
 * What Oen's order lookup proves about one attempt (docs: developers/errors.md,
 * "504、逾時、連線中斷"). An empty answer proves "never sent" only once the
 * attempt is old enough for Oen to have recorded anything it received.
 */
export function lookupVerdict(transactions: OenTransaction[], attemptAgeMs: number, settleMs: number): LookupVerdict {
  const paid = transactions.filter((t) => PAID.has(t.status));
  const first = paid[0];
  if (first !== undefined) {
    return { kind: "succeeded", transactionHid: first.id, authCode: first.authCode ?? null, duplicates: paid.slice(1).map((t) => t.id) };
  }
  if (transactions.some((t) => UNSETTLED.has(t.status))) return { kind: "pending" };
  const failed = transactions.find((t) => t.status === "failed" || t.status === "cancelled");
  if (failed !== undefined) return { kind: "declined", reason: failed.reason ?? null };
  if (transactions.length > 0) return { kind: "pending" }; // a status we do not know: ask a human, never resend
  return attemptAgeMs >= settleMs ? { kind: "not_found" } : { kind: "pending" };
}
