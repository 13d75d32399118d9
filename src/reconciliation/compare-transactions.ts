import type { AttemptStatus, RefundCause, RefundStatus } from "../db/database.ts";
import type { OenTransaction } from "../oen/types.ts";
import type { DifferenceAction, DifferenceKind, ReconciliationCounts, ReconciliationDifference } from "./reconciliation-difference.ts";

export interface AttemptFacts {
  id: string;
  invoiceId: string;
  orderId: string;
  status: AttemptStatus;
  amount: number;
  oenTransactionHid: string | null;
}

/** A refund of ours that is not proven failed (Oen refunds a transaction once). */
export interface RefundFacts {
  id: string;
  oenTransactionHid: string;
  amount: number;
  status: Exclude<RefundStatus, "failed">;
  cause: RefundCause;
}

export interface ComparisonInput {
  /** Every payment GET /transactions listed for the day. */
  listed: readonly OenTransaction[];
  /**
   * Our succeeded attempts of the day whose transaction the list lacks, by P-number: the
   * transaction as GET /transactions/{id} shows it (created on a neighbouring day), or null
   * when Oen does not have it.
   */
  lookedUp: ReadonlyMap<string, OenTransaction | null>;
  /** Our attempts of every order listed, and of every P-number looked up. */
  attempts: readonly AttemptFacts[];
  /** Our live refunds of every transaction involved. */
  refunds: readonly RefundFacts[];
}

/** What the reconciliation should do about a finding; its outcome completes the difference. */
export type ReconcileAction =
  | { kind: "record_refund_at_oen"; invoiceId: string; chargeAttemptId: string | null; oenTransactionHid: string; amount: number; doubleCharge: boolean }
  | { kind: "refund_double_charge"; invoiceId: string; oenTransactionHid: string; amount: number; why: string }
  | { kind: "resolve_attempt"; attemptId: string };

export interface Finding {
  difference: ReconciliationDifference;
  action?: ReconcileAction;
}

export interface Comparison {
  findings: Finding[];
  counts: Omit<ReconciliationCounts, "pages">;
}

// Money moved for these, even if it went back later.
const MONEY_TAKEN: ReadonlySet<string> = new Set(["charged", "claimed", "refunding", "refunded", "refundedPostPayout"]);
const UNRESOLVED: ReadonlySet<AttemptStatus> = new Set(["sending", "unknown"]);

/**
 * Compares one Taipei day of Oen's transaction list with our charge attempts and refunds
 * (developers/querying.md "建議的對帳流程"), and says what to do about each difference. Pure: the
 * caller loads the facts and carries out the actions. Only `P…` transactions are API charges;
 * a 1-TWD transaction of no order of ours is a card binding's authorisation.
 */
export function compareTransactions(input: ComparisonInput): Comparison {
  const attemptsByOrder = new Map(input.attempts.map((attempt) => [attempt.orderId, attempt]));
  const attemptsByHid = new Map(input.attempts.filter((a) => a.oenTransactionHid !== null).map((a) => [a.oenTransactionHid!, a]));
  const refundsByHid = new Map(input.refunds.map((refund) => [refund.oenTransactionHid, refund]));
  const findings: Finding[] = [];
  const counts = { listed: input.listed.length, matched: 0, bindingAuthorisations: 0, otherPayments: 0, unknownTransactions: 0, missingAtOen: 0, crmRefunds: 0, statusMismatches: 0, doubleCharges: 0 };
  const COUNTER: Record<DifferenceKind, keyof typeof counts> = {
    unknown_transaction: "unknownTransactions",
    missing_at_oen: "missingAtOen",
    crm_refund: "crmRefunds",
    status_mismatch: "statusMismatches",
    double_charge: "doubleCharges",
  };
  const found = (finding: Finding) => {
    findings.push(finding);
    counts[COUNTER[finding.difference.kind]] += 1;
  };

  const transactions = [...input.listed, ...[...input.lookedUp.values()].filter((t): t is OenTransaction => t !== null)];
  const seen = new Set<string>();
  for (const transaction of transactions) {
    if (seen.has(transaction.id)) continue; // a list that shifted between pages
    seen.add(transaction.id);
    if (!transaction.id.startsWith("P")) {
      counts.otherPayments += 1;
      continue;
    }
    const attempt = transaction.orderId === undefined ? undefined : attemptsByOrder.get(transaction.orderId);
    if (attempt === undefined) {
      if (transaction.amount === 1) {
        counts.bindingAuthorisations += 1;
        continue;
      }
      found({ difference: unknownTransaction(transaction) });
      continue;
    }
    const before = findings.length;
    for (const finding of compareOurs(transaction, attempt, refundsByHid.get(transaction.id))) found(finding);
    if (findings.length === before) counts.matched += 1;
  }

  for (const [hid, transaction] of input.lookedUp) {
    const attempt = attemptsByHid.get(hid);
    if (transaction !== null || attempt === undefined) continue;
    found({
      difference: difference("missing_at_oen", `invoice ${attempt.invoiceId} is paid by ${hid} (order ${attempt.orderId}), which Oen does not have`, {
        oenTransactionId: hid,
        orderId: attempt.orderId,
        invoiceId: attempt.invoiceId,
        chargeAttemptId: attempt.id,
        amount: attempt.amount,
        ours: "succeeded",
      }),
    });
  }
  return { findings, counts };
}

/** One transaction of an order of ours. */
function compareOurs(transaction: OenTransaction, attempt: AttemptFacts, refund: RefundFacts | undefined): Finding[] {
  const ids = { oenTransactionId: transaction.id, orderId: attempt.orderId, invoiceId: attempt.invoiceId, chargeAttemptId: attempt.id };
  const took = MONEY_TAKEN.has(transaction.status);

  if (UNRESOLVED.has(attempt.status)) {
    // The order lookup settles it, double charges included; nothing is refunded from here.
    return [
      {
        difference: difference("status_mismatch", `order ${attempt.orderId} is ${transaction.status} at Oen and unresolved here: looking it up`, {
          ...ids,
          amount: transaction.amount,
          oen: transaction.status,
          ours: attempt.status,
          action: "lookup_enqueued",
        }),
        action: { kind: "resolve_attempt", attemptId: attempt.id },
      },
    ];
  }

  const own = attempt.status === "succeeded" && attempt.oenTransactionHid === transaction.id;
  if (!own) {
    if (!took) return []; // a failed try of an order, as we know it
    const why =
      attempt.status === "succeeded"
        ? `a second transaction for order ${attempt.orderId}, found by the daily reconciliation`
        : `charged on attempt ${attempt.orderId}, settled here as ${attempt.status}; found by the daily reconciliation`;
    return [doubleCharge(transaction, ids, attempt, refund, why)];
  }

  if (!took) {
    return [
      {
        difference: difference("status_mismatch", `invoice ${attempt.invoiceId} is paid by ${transaction.id} here, but Oen shows it ${transaction.status}`, {
          ...ids,
          amount: transaction.amount,
          oen: transaction.status,
          ours: attempt.status,
        }),
      },
    ];
  }
  if (refund?.cause === "double_charge") {
    // Charged for an invoice that was void or paid by then: settling it planned the refund.
    return [doubleCharge(transaction, ids, attempt, refund, `charged for invoice ${attempt.invoiceId} after it was void or paid otherwise`)];
  }
  const findings: Finding[] = [];
  if (transaction.amount !== attempt.amount) {
    findings.push({
      difference: difference("status_mismatch", `${transaction.id} is ${transaction.amount} TWD at Oen, ${attempt.amount} TWD here`, {
        ...ids,
        amount: transaction.amount,
        oen: String(transaction.amount),
        ours: String(attempt.amount),
      }),
    });
  }
  const refunded = transaction.refundAmount ?? 0;
  if (refund === undefined && refunded > 0) {
    findings.push({
      difference: difference("crm_refund", `${transaction.id} was refunded ${refunded} TWD outside this service (Oen's CRM): recorded on invoice ${attempt.invoiceId}`, {
        ...ids,
        amount: refunded,
        oen: `refunded ${refunded}`,
        ours: "not refunded",
        action: "refund_recorded",
      }),
      action: { kind: "record_refund_at_oen", invoiceId: attempt.invoiceId, chargeAttemptId: attempt.id, oenTransactionHid: transaction.id, amount: refunded, doubleCharge: false },
    });
  } else if (refund?.cause === "crm") {
    // Recorded by an earlier run: still a fact of the day.
    findings.push({
      difference: difference("crm_refund", `${transaction.id} was refunded ${refund.amount} TWD outside this service (Oen's CRM): recorded on invoice ${attempt.invoiceId}`, {
        ...ids,
        amount: refund.amount,
        oen: `refunded ${refunded}`,
        ours: `refunded ${refund.amount}`,
        action: "refund_recorded",
        refundId: refund.id,
      }),
    });
  } else if (refund?.status === "succeeded" && refund.amount !== refunded) {
    findings.push({
      difference: difference("status_mismatch", `${transaction.id}: our refund ${refund.id} of ${refund.amount} TWD succeeded, Oen shows ${refunded} TWD refunded`, {
        ...ids,
        amount: transaction.amount,
        oen: `refunded ${refunded}`,
        ours: `refunded ${refund.amount}`,
        refundId: refund.id,
      }),
    });
  }
  return findings;
}

/** Money taken that no invoice keeps: refunded, unless a refund stands for it already. */
function doubleCharge(
  transaction: OenTransaction,
  ids: Pick<ReconciliationDifference, "oenTransactionId" | "orderId" | "invoiceId" | "chargeAttemptId">,
  attempt: AttemptFacts,
  refund: RefundFacts | undefined,
  why: string,
): Finding {
  const detail = `${transaction.id} took ${transaction.amount} TWD: ${why}`;
  const fields = { ...ids, amount: transaction.amount, oen: transaction.status, ours: attempt.status };
  if (refund !== undefined) {
    const action: DifferenceAction = refund.status === "succeeded" ? "refunded" : "refund_in_progress";
    return { difference: difference("double_charge", detail, { ...fields, action, refundId: refund.id }) };
  }
  const refunded = transaction.refundAmount ?? 0;
  if (refunded > 0) {
    // Given back already, outside this service: recorded, so nothing is sent.
    return {
      difference: difference("double_charge", detail, { ...fields, action: "refund_recorded" }),
      // No attempt row stands for this transaction (as for any double charge's refund).
      action: { kind: "record_refund_at_oen", invoiceId: attempt.invoiceId, chargeAttemptId: null, oenTransactionHid: transaction.id, amount: refunded, doubleCharge: true },
    };
  }
  return {
    difference: difference("double_charge", detail, { ...fields, action: "refund_planned" }),
    action: { kind: "refund_double_charge", invoiceId: attempt.invoiceId, oenTransactionHid: transaction.id, amount: transaction.amount, why },
  };
}

function unknownTransaction(transaction: OenTransaction): ReconciliationDifference {
  return difference("unknown_transaction", `Oen lists ${transaction.id} (${transaction.amount} TWD, ${transaction.status}, order ${transaction.orderId ?? "none"}) that no charge of ours made`, {
    oenTransactionId: transaction.id,
    orderId: transaction.orderId ?? null,
    amount: transaction.amount,
    oen: transaction.status,
  });
}

function difference(kind: DifferenceKind, detail: string, fields: Partial<Omit<ReconciliationDifference, "kind" | "detail">>): ReconciliationDifference {
  return {
    kind,
    detail,
    oenTransactionId: null,
    orderId: null,
    invoiceId: null,
    chargeAttemptId: null,
    amount: null,
    oen: null,
    ours: null,
    action: "none",
    refundId: null,
    ...fields,
  };
}
