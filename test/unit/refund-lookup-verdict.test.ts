import { describe, expect, it } from "vitest";
import { refundLookupVerdict } from "../../src/refunds/refund-lookup-verdict.ts";
import { refundProductDetails } from "../../src/refunds/refund-product-details.ts";

const SETTLE = 5_000;

describe("refundLookupVerdict", () => {
  it.each(["refunded", "refundedPostPayout"] as const)("%s with our amount: refunded", (status) => {
    expect(refundLookupVerdict({ status, refundAmount: 300 }, 300, 0, SETTLE)).toEqual({ kind: "refunded" });
  });

  it("a refundAmount other than ours: someone else refunded, ours cannot have been made", () => {
    expect(refundLookupVerdict({ status: "refunded", refundAmount: 100 }, 300, 0, SETTLE)).toEqual({ kind: "refunded_elsewhere", refundAmount: 100 });
  });

  it("still charged or claimed: pending until the settle time, then not refunded", () => {
    for (const status of ["charged", "claimed"] as const) {
      expect(refundLookupVerdict({ status, refundAmount: 0 }, 300, SETTLE - 1, SETTLE)).toEqual({ kind: "pending" });
      expect(refundLookupVerdict({ status, refundAmount: 0 }, 300, SETTLE, SETTLE)).toEqual({ kind: "not_refunded" });
      expect(refundLookupVerdict({ status }, 300, SETTLE, SETTLE)).toEqual({ kind: "not_refunded" });
    }
  });

  it.each(["refunding", "refunded", "charging", "failed", "cancelled", "authorized"] as const)("%s without a refund amount: waits (never a resend)", (status) => {
    expect(refundLookupVerdict({ status, refundAmount: 0 }, 300, 10 * SETTLE, SETTLE)).toEqual({ kind: "pending" });
  });
});

describe("refundProductDetails", () => {
  const lines = [
    { productionCode: "A", description: "Plan", quantity: 1, unit: "month", unitPrice: 800 },
    { productionCode: "B", description: "Add-on", quantity: 2, unit: "seat", unitPrice: 50 },
  ];

  it("a full refund repeats the invoice's lines", () => {
    expect(refundProductDetails(lines, 900)).toEqual(lines);
  });

  it("a partial refund is one line of the first product, summing to the amount", () => {
    expect(refundProductDetails(lines, 123)).toEqual([{ productionCode: "A", description: "Plan", quantity: 1, unit: "month", unitPrice: 123 }]);
  });
});
