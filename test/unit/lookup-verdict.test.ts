import { describe, expect, it } from "vitest";
import { lookupVerdict } from "../../src/charges/lookup-verdict.ts";
import { orderIdFor } from "../../src/charges/order-id.ts";
import type { OenTransaction, OenTransactionStatus } from "../../src/oen/types.ts";

const tx = (status: OenTransactionStatus, id = "P20261126AAAAAAAA"): OenTransaction => ({
  id,
  transactionId: "x".repeat(27),
  amount: 899,
  status,
  orderId: "in_abc-1",
  createdAt: "2026-11-26T00:00:00.000Z",
});
const SETTLE = 60_000;

describe("lookupVerdict", () => {
  it.each(["charged", "claimed", "refunded", "refunding", "refundedPostPayout"] as const)("%s means the money moved: succeeded", (status) => {
    expect(lookupVerdict([tx(status)], 0, SETTLE)).toMatchObject({ kind: "succeeded", transactionHid: "P20261126AAAAAAAA" });
  });

  it.each(["charging", "initiated", "authorized"] as const)("%s is not settled yet: pending, never resend", (status) => {
    expect(lookupVerdict([tx(status)], SETTLE * 10, SETTLE)).toEqual({ kind: "pending" });
  });

  it("a failed transaction is a decline (the lookup carries no decline code)", () => {
    expect(lookupVerdict([{ ...tx("failed"), reason: "insufficient" }], 0, SETTLE)).toEqual({ kind: "declined", reason: "insufficient" });
  });

  it("success wins over failures, and duplicates are reported for refunds", () => {
    const verdict = lookupVerdict([tx("failed", "P1"), tx("charged", "P2"), tx("claimed", "P3")], 0, SETTLE);
    expect(verdict).toEqual({ kind: "succeeded", transactionHid: "P2", authCode: null, duplicates: ["P3"] });
  });

  it("nothing found proves 'not sent' only after the settle time", () => {
    expect(lookupVerdict([], SETTLE - 1, SETTLE)).toEqual({ kind: "pending" });
    expect(lookupVerdict([], SETTLE, SETTLE)).toEqual({ kind: "not_found" });
  });

  it("an unexpected status is never taken as 'not sent'", () => {
    expect(lookupVerdict([tx("mystery" as OenTransactionStatus)], SETTLE * 10, SETTLE)).toEqual({ kind: "pending" });
  });
});

describe("orderIdFor", () => {
  it("is unique per attempt and derived from the invoice", () => {
    expect(orderIdFor("in_abc", 1)).toBe("in_abc-1");
    expect(orderIdFor("in_abc", 2)).not.toBe(orderIdFor("in_abc", 1));
    expect(() => orderIdFor("in_abc", 0)).toThrow(RangeError);
  });
});
