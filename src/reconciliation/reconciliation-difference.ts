// What a daily reconciliation reports (stored in `reconciliations`, served by
// GET /v1/reconciliations/:date, sent in `reconciliation.differences_found`).

export const DIFFERENCE_KINDS = ["unknown_transaction", "missing_at_oen", "crm_refund", "status_mismatch", "double_charge"] as const;

/**
 * unknown_transaction: Oen lists a transaction no charge of ours made.
 * missing_at_oen: an attempt of ours succeeded (its invoice paid) with a transaction Oen does not have.
 * crm_refund: a transaction of ours was refunded outside this service (Oen's CRM): recorded on the invoice.
 * status_mismatch: Oen and we disagree on a transaction's state, amount or refund.
 * double_charge: money taken twice for one order, or on an attempt we settled as not charged: refunded (invariant 8).
 */
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

/** What the reconciliation did about a difference. */
export type DifferenceAction =
  | "none"
  /** An order lookup of our unresolved attempt was enqueued: it settles the attempt (and any double charge). */
  | "lookup_enqueued"
  /** A refund was planned by this run and is being sent. */
  | "refund_planned"
  /** A refund of ours stands for the transaction and is not settled yet. */
  | "refund_in_progress"
  /** A refund of ours stands for the transaction and succeeded. */
  | "refunded"
  /** Oen shows the transaction refunded outside this service: the refund is recorded here. */
  | "refund_recorded"
  /** Nothing can be refunded here (the refund engine refused): a person must look. */
  | "refund_not_possible";

export interface ReconciliationDifference {
  kind: DifferenceKind;
  /** One sentence for the on-call engineer. */
  detail: string;
  /** The P-number at Oen. */
  oenTransactionId: string | null;
  orderId: string | null;
  invoiceId: string | null;
  chargeAttemptId: string | null;
  /** The transaction's amount (TWD), or the refunded amount for a crm_refund. */
  amount: number | null;
  /** What Oen shows (a status, an amount), when the two sides disagree. */
  oen: string | null;
  /** What we hold. */
  ours: string | null;
  action: DifferenceAction;
  refundId: string | null;
}

export interface ReconciliationCounts {
  /** Every payment GET /transactions listed for the day, of whatever source. */
  listed: number;
  pages: number;
  /** Transactions of ours that agree with Oen. */
  matched: number;
  /** 1-TWD card-binding authorisations, skipped. */
  bindingAuthorisations: number;
  /** `C…` payments not made through the API (shop orders, donations, adjustments), skipped. */
  otherPayments: number;
  unknownTransactions: number;
  missingAtOen: number;
  crmRefunds: number;
  statusMismatches: number;
  doubleCharges: number;
}
