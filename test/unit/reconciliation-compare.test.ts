import { describe, expect, it } from "vitest";
import { compareTransactions, type AttemptFacts, type ComparisonInput, type RefundFacts } from "../../src/reconciliation/compare-transactions.ts";
import type { OenTransaction } from "../../src/oen/types.ts";

// The daily reconciliation's decisions (developers/querying.md "建議的對帳流程"), on facts alone.
let seq = 0;
function transaction(fields: Partial<OenTransaction> = {}): OenTransaction {
  seq += 1;
  return { id: `P20260901${String(seq).padStart(8, "0")}`, transactionId: `t${seq}`, amount: 899, status: "charged", createdAt: "2026-09-01T04:00:00.000Z", refundAmount: 0, ...fields };
}
function attempt(t: OenTransaction, fields: Partial<AttemptFacts> = {}): AttemptFacts {
  return { id: `ca_${t.id}`, invoiceId: `in_${t.id}`, orderId: t.orderId!, status: "succeeded", amount: t.amount, oenTransactionHid: t.id, ...fields };
}
const compare = (input: Partial<ComparisonInput>) => compareTransactions({ listed: [], lookedUp: new Map(), attempts: [], refunds: [], ...input });

describe("what is not ours", () => {
  it("skips a card binding's 1-TWD authorisation and the payments not made through the API", () => {
    const binding = transaction({ amount: 1, status: "refunded", refundAmount: 1, orderId: undefined });
    const adjustment = transaction({ id: "C20260901ABCDEFGH", amount: -500, orderId: undefined });
    const { findings, counts } = compare({ listed: [binding, adjustment] });
    expect(findings).toEqual([]);
    expect(counts).toMatchObject({ listed: 2, bindingAuthorisations: 1, otherPayments: 1, unknownTransactions: 0, matched: 0 });
  });

  it("reports a transaction no attempt of ours made, whatever its status", () => {
    const foreign = transaction({ orderId: "EXT-1", amount: 450 });
    const failed = transaction({ orderId: "EXT-2", status: "failed" });
    const { findings, counts } = compare({ listed: [foreign, failed] });
    expect(findings.map((f) => [f.difference.kind, f.difference.oenTransactionId, f.difference.oen, f.action])).toEqual([
      ["unknown_transaction", foreign.id, "charged", undefined],
      ["unknown_transaction", failed.id, "failed", undefined],
    ]);
    expect(counts.unknownTransactions).toBe(2);
  });
});

describe("our charges", () => {
  it("an order charged once, as we know it, matches; a failed try of it too", () => {
    const paid = transaction({ orderId: "in_a-1" });
    const declined = transaction({ orderId: "in_a-2", status: "failed" });
    const { findings, counts } = compare({ listed: [paid, declined], attempts: [attempt(paid), attempt(declined, { status: "declined", oenTransactionHid: null })] });
    expect(findings).toEqual([]);
    expect(counts.matched).toBe(2);
  });

  it("a list that repeats a transaction across pages counts it once", () => {
    const paid = transaction({ orderId: "in_a-1" });
    expect(compare({ listed: [paid, paid], attempts: [attempt(paid)] }).counts).toMatchObject({ listed: 2, matched: 1 });
  });

  it("a refund made in Oen's CRM is recorded on the invoice", () => {
    const refunded = transaction({ orderId: "in_b-1", status: "refunded", refundAmount: 300 });
    const { findings, counts } = compare({ listed: [refunded], attempts: [attempt(refunded)] });
    expect(findings).toEqual([
      {
        difference: expect.objectContaining({ kind: "crm_refund", oenTransactionId: refunded.id, invoiceId: `in_${refunded.id}`, amount: 300, action: "refund_recorded" }),
        action: { kind: "record_refund_at_oen", invoiceId: `in_${refunded.id}`, chargeAttemptId: `ca_${refunded.id}`, oenTransactionHid: refunded.id, amount: 300, doubleCharge: false },
      },
    ]);
    expect(counts.crmRefunds).toBe(1);
  });

  it("a CRM refund recorded by an earlier run is still reported, with nothing to do", () => {
    const refunded = transaction({ orderId: "in_b-1", status: "refunded", refundAmount: 300 });
    const recorded: RefundFacts = { id: "rf_crm", oenTransactionHid: refunded.id, amount: 300, status: "succeeded", cause: "crm" };
    const [finding] = compare({ listed: [refunded], attempts: [attempt(refunded)], refunds: [recorded] }).findings;
    expect(finding).toEqual({ difference: expect.objectContaining({ kind: "crm_refund", refundId: "rf_crm", action: "refund_recorded" }) });
  });

  it("our own refund that Oen shows is no difference; one Oen shows for another amount is", () => {
    const refunded = transaction({ orderId: "in_c-1", status: "refunded", refundAmount: 899 });
    const ours: RefundFacts = { id: "rf_1", oenTransactionHid: refunded.id, amount: 899, status: "succeeded", cause: "requested" };
    expect(compare({ listed: [refunded], attempts: [attempt(refunded)], refunds: [ours] }).findings).toEqual([]);
    const [finding] = compare({ listed: [refunded], attempts: [attempt(refunded)], refunds: [{ ...ours, amount: 500 }] }).findings;
    expect(finding?.difference).toMatchObject({ kind: "status_mismatch", oen: "refunded 899", ours: "refunded 500", refundId: "rf_1" });
    expect(finding?.action).toBeUndefined();
  });

  it("paid here, not at Oen; and another amount at Oen: status differences, reported only", () => {
    const failed = transaction({ orderId: "in_d-1", status: "failed" });
    const other = transaction({ orderId: "in_e-1", amount: 900 });
    const { findings, counts } = compare({ listed: [failed, other], attempts: [attempt(failed), attempt(other, { amount: 899 })] });
    expect(findings.map((f) => [f.difference.kind, f.difference.oen, f.difference.ours, f.action])).toEqual([
      ["status_mismatch", "failed", "succeeded", undefined],
      ["status_mismatch", "900", "899", undefined],
    ]);
    expect(counts.statusMismatches).toBe(2);
  });

  it("an attempt still unresolved here is looked up, never refunded from the reconciliation", () => {
    const paid = transaction({ orderId: "in_f-1" });
    const duplicate = transaction({ orderId: "in_f-1" });
    const unknown = attempt(paid, { status: "unknown", oenTransactionHid: null });
    const { findings } = compare({ listed: [paid, duplicate], attempts: [unknown] });
    expect(findings.map((f) => [f.difference.kind, f.difference.action, f.action])).toEqual([
      ["status_mismatch", "lookup_enqueued", { kind: "resolve_attempt", attemptId: unknown.id }],
      ["status_mismatch", "lookup_enqueued", { kind: "resolve_attempt", attemptId: unknown.id }],
    ]);
  });
});

describe("double charges (invariant 8)", () => {
  it("a second successful transaction of an order is refunded", () => {
    const paid = transaction({ orderId: "in_g-1" });
    const second = transaction({ orderId: "in_g-1" });
    const { findings, counts } = compare({ listed: [second, paid], attempts: [attempt(paid)] });
    expect(findings).toEqual([
      {
        difference: expect.objectContaining({ kind: "double_charge", oenTransactionId: second.id, invoiceId: `in_${paid.id}`, amount: 899, action: "refund_planned" }),
        action: { kind: "refund_double_charge", invoiceId: `in_${paid.id}`, oenTransactionHid: second.id, amount: 899, why: expect.stringContaining("a second transaction for order in_g-1") },
      },
    ]);
    expect(counts).toMatchObject({ doubleCharges: 1, matched: 1 });
  });

  it("money taken on an attempt settled as declined or not found is refunded too", () => {
    const late = transaction({ orderId: "in_h-1" });
    const [finding] = compare({ listed: [late], attempts: [attempt(late, { status: "not_found", oenTransactionHid: null })] }).findings;
    expect(finding?.difference).toMatchObject({ kind: "double_charge", ours: "not_found", action: "refund_planned" });
    expect(finding?.action).toMatchObject({ kind: "refund_double_charge", oenTransactionHid: late.id, why: expect.stringContaining("settled here as not_found") });
  });

  it("a double charge a refund already stands for is reported with that refund, and nothing more is sent", () => {
    const paid = transaction({ orderId: "in_i-1" });
    const second = transaction({ orderId: "in_i-1", status: "refunded", refundAmount: 899 });
    const refund: RefundFacts = { id: "rf_dc", oenTransactionHid: second.id, amount: 899, status: "succeeded", cause: "double_charge" };
    const [finding] = compare({ listed: [paid, second], attempts: [attempt(paid)], refunds: [refund] }).findings;
    expect(finding).toEqual({ difference: expect.objectContaining({ kind: "double_charge", action: "refunded", refundId: "rf_dc" }) });
    const [pending] = compare({ listed: [paid, { ...second, status: "charged", refundAmount: 0 }], attempts: [attempt(paid)], refunds: [{ ...refund, status: "unknown" }] }).findings;
    expect(pending?.difference).toMatchObject({ action: "refund_in_progress" });
  });

  it("an invoice's own charge that came after it was void is reported with the refund its settling planned", () => {
    const late = transaction({ orderId: "in_v-1", status: "refunded", refundAmount: 899 });
    const refund: RefundFacts = { id: "rf_void", oenTransactionHid: late.id, amount: 899, status: "succeeded", cause: "double_charge" };
    const { findings, counts } = compare({ listed: [late], attempts: [attempt(late)], refunds: [refund] });
    expect(findings).toEqual([{ difference: expect.objectContaining({ kind: "double_charge", action: "refunded", refundId: "rf_void", detail: expect.stringContaining("after it was void or paid otherwise") }) }]);
    expect(counts).toMatchObject({ doubleCharges: 1, crmRefunds: 0, matched: 0 });
  });

  it("a double charge refunded outside this service is recorded as the double charge's refund", () => {
    const paid = transaction({ orderId: "in_j-1" });
    const second = transaction({ orderId: "in_j-1", status: "refunded", refundAmount: 899 });
    const [finding] = compare({ listed: [paid, second], attempts: [attempt(paid)] }).findings;
    expect(finding?.action).toEqual({ kind: "record_refund_at_oen", invoiceId: `in_${paid.id}`, chargeAttemptId: null, oenTransactionHid: second.id, amount: 899, doubleCharge: true });
  });
});

describe("our charges the list lacks", () => {
  it("one Oen does not have is missing at Oen; one it has on the next day is compared like the rest", () => {
    const gone = "P20260901GONEGONE";
    const nextDay = transaction({ orderId: "in_k-1", createdAt: "2026-09-01T16:00:00.200Z" });
    const { findings, counts } = compare({
      lookedUp: new Map([
        [gone, null],
        [nextDay.id, nextDay],
      ]),
      attempts: [{ id: "ca_gone", invoiceId: "in_gone", orderId: "in_gone-1", status: "succeeded", amount: 899, oenTransactionHid: gone }, attempt(nextDay)],
    });
    expect(findings.map((f) => f.difference)).toEqual([
      expect.objectContaining({ kind: "missing_at_oen", oenTransactionId: gone, invoiceId: "in_gone", chargeAttemptId: "ca_gone", orderId: "in_gone-1", amount: 899, ours: "succeeded", action: "none" }),
    ]);
    expect(counts).toMatchObject({ missingAtOen: 1, matched: 1, listed: 0 });
  });
});
