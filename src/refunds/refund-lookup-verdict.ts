import type { OenTransaction } from "../oen/types.ts";

export type RefundLookupVerdict =
  /** The transaction shows our refund. */
  | { kind: "refunded" }
  /** Refunded for another amount (in the CRM): ours cannot have been made, Oen refunds once. */
  | { kind: "refunded_elsewhere"; refundAmount: number }
  /** Still refundable, long enough after the request for Oen to show anything it did. */
  | { kind: "not_refunded" }
  /** Not decidable yet. */
  | { kind: "pending" };

const REFUNDED = new Set(["refunded", "refundedPostPayout"]);
const REFUNDABLE = new Set(["charged", "claimed"]);

/**
 * What `GET /transactions/{P…}` proves about one refund request (developers/refunds.md:
 * after a timeout, read `status` and `refundAmount` before sending again). "Not refunded"
 * proves the request was never carried out only once it is `settleMs` old; any status we do
 * not expect waits for a person rather than allowing a resend.
 */
export function refundLookupVerdict(
  transaction: Pick<OenTransaction, "status" | "refundAmount">,
  amount: number,
  sentAgeMs: number,
  settleMs: number,
): RefundLookupVerdict {
  const refundAmount = transaction.refundAmount ?? 0;
  if (refundAmount > 0) return refundAmount === amount ? { kind: "refunded" } : { kind: "refunded_elsewhere", refundAmount };
  if (REFUNDED.has(transaction.status)) return { kind: "pending" }; // refunded, amount not shown yet
  if (REFUNDABLE.has(transaction.status)) return sentAgeMs >= settleMs ? { kind: "not_refunded" } : { kind: "pending" };
  return { kind: "pending" };
}
