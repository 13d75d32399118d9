import { describe, expect, it } from "vitest";
import {
  classifyDecline,
  declineReason,
  HARD_DECLINE_CODES,
  SOFT_DECLINE_CODES,
} from "../../src/billing/declines.ts";
import { isAttentionCode, isConfigErrorCode } from "../../src/billing/charge-codes.ts";

const NOT_DECLINES = ["S0000", "K0001", "A0001", "V0001", "V0002", "V0003", "FORBIDDEN", "C026", "F0001", "R0001"];

describe("classifyDecline", () => {
  it.each([
    ["T0001", "soft"],
    ["T0002", "hard"],
    ["T0003", "hard"],
    ["T0004", "soft"],
    ["T0005", "soft"],
  ] as const)("classifies %s as %s", (code, expected) => {
    expect(classifyDecline(code)).toBe(expected);
  });

  it("treats an absent or undocumented code as soft", () => {
    expect(classifyDecline(null)).toBe("soft");
    expect(classifyDecline("T0099")).toBe("soft");
  });

  it.each(NOT_DECLINES)("refuses %s, which is not a card decline", (code) => {
    expect(() => classifyDecline(code)).toThrow(new RangeError(`Oen code "${code}" is not a card decline`));
  });

  it("follows a policy's own hard codes", () => {
    expect(classifyDecline("T0004", ["T0002", "T0003", "T0004"])).toBe("hard");
    expect(classifyDecline("T0002", ["T0003"])).toBe("soft");
    expect(classifyDecline(null, ["T0003"])).toBe("soft");
  });

  it("lists every documented decline code exactly once", () => {
    expect([...SOFT_DECLINE_CODES].sort()).toEqual(["T0001", "T0004", "T0005"]);
    expect([...HARD_DECLINE_CODES].sort()).toEqual(["T0002", "T0003"]);
    expect(Object.isFrozen(SOFT_DECLINE_CODES) && Object.isFrozen(HARD_DECLINE_CODES)).toBe(true);
  });
});

describe("isConfigErrorCode", () => {
  it.each(["A0001", "V0001", "V0002", "V0003", "FORBIDDEN"])("recognises %s", (code) => {
    expect(isConfigErrorCode(code)).toBe(true);
  });

  it.each([null, "T0001", "T0002", "T0003", "T0004", "T0005", "K0001", "C026", "F0001", "S0000", "R0001", "a0001"])(
    "does not count %s",
    (code) => {
      expect(isConfigErrorCode(code)).toBe(false);
    },
  );
});

describe("isAttentionCode", () => {
  it.each(["A0001", "V0001", "V0002", "V0003", "FORBIDDEN", "K0001"])("holds %s for ops: the merchant is refused, not the card", (code) => {
    expect(isAttentionCode(code)).toBe(true);
  });

  it.each([null, "T0001", "T0002", "T0003", "T0004", "T0005", "C026", "F0001", "S0000", "R0001", "k0001"])("does not hold %s", (code) => {
    expect(isAttentionCode(code)).toBe(false);
  });
});

describe("declineReason", () => {
  it.each([
    ["T0001", "交易未獲授權", "the payment was declined"],
    ["T0002", "安全碼錯誤", "the card security code (CVV) is incorrect"],
    ["T0003", "卡片已過期", "the card has expired"],
    ["T0004", "額度不足", "insufficient credit limit"],
    ["T0005", "發卡銀行拒絕授權", "the card issuer refused the payment"],
    [null, "交易失敗", "the payment failed"],
    ["T0099", "交易失敗", "the payment failed"],
  ])("explains %s", (code, zh, en) => {
    expect(declineReason(code)).toBe(zh);
    expect(declineReason(code, "zh-TW")).toBe(zh);
    expect(declineReason(code, "en")).toBe(en);
  });

  it.each(NOT_DECLINES)("refuses %s", (code) => {
    expect(() => declineReason(code, "en")).toThrow(RangeError);
  });
});
