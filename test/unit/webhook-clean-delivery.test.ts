import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanTokenDelivery, MAX_MESSAGE_CHARS } from "../../src/webhooks/clean-token-delivery.ts";
import { postgresSafe } from "../../src/webhooks/postgres-safe.ts";

// What Postgres refuses in text and jsonb: NUL, and a lone surrogate's \u escape.
// JSON.stringify writes a well-formed pair as is, so any \\udXXX escape it writes is a lone surrogate.
const REFUSED = /\\u0000|\\ud[89a-f][0-9a-f]{2}/i;

describe("postgresSafe", () => {
  it("leaves nothing Postgres refuses, in values or keys, at any depth", () => {
    fc.assert(
      fc.property(fc.jsonValue({ depthSize: "small", stringUnit: "binary" }), fc.string({ unit: "binary" }), (value, key) => {
        const json = JSON.stringify(postgresSafe({ [key]: value, nested: [{ [`${key}\u0000`]: `${key}\u0000\ud800` }] }));
        expect(json).not.toMatch(REFUSED);
      }),
    );
  });

  it("changes nothing else", () => {
    const value = { a: "plain 中文 😀", b: [1, true, null, { c: "x" }] };
    expect(postgresSafe(value)).toEqual(value);
    expect(postgresSafe({ "k\u0000ey": "v\u0000al" })).toEqual({ key: "val" });
  });
});

describe("cleanTokenDelivery", () => {
  const sealedToken = { keyId: "k1", ciphertext: "c2VhbGVk" };

  it("bounds the message, turns odd types into what the worker expects, and never throws", () => {
    const job = cleanTokenDelivery({ kind: "token", checkoutId: "abc", merchantId: 42, customId: { x: 1 }, success: "true", last4: 4242, message: `😀${"m".repeat(5_000)}`, sealedToken, receivedAt: 7 });
    expect(job).toEqual({
      kind: "token",
      checkoutId: "abc",
      merchantId: "42",
      customId: null,
      success: true,
      last4: "4242",
      message: expect.stringMatching(/^😀m+$/),
      sealedToken,
      receivedAt: "7",
    });
    expect((job as { message: string }).message).toHaveLength(MAX_MESSAGE_CHARS);
  });

  it("reads a token without `success` as a binding, and anything but true as a failure otherwise", () => {
    expect(cleanTokenDelivery({ kind: "token", checkoutId: "a", sealedToken })).toMatchObject({ success: true });
    expect(cleanTokenDelivery({ kind: "token", checkoutId: "a", success: "yes", sealedToken })).toMatchObject({ success: false });
    expect(cleanTokenDelivery({ kind: "token", checkoutId: "a", sealedToken: "not sealed" })).toMatchObject({ success: false, sealedToken: null });
  });

  it("keeps a cut surrogate pair well-formed", () => {
    const job = cleanTokenDelivery({ kind: "token", checkoutId: "a", message: `${"m".repeat(MAX_MESSAGE_CHARS - 1)}😀` });
    expect(JSON.stringify(job)).not.toMatch(REFUSED);
  });

  it("fc: whatever a delivery holds, the result stores", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("kind", "checkoutId", "merchantId", "customId", "success", "last4", "message", "sealedToken", "receivedAt"), fc.jsonValue({ stringUnit: "binary" })), (raw) => {
        expect(JSON.stringify(cleanTokenDelivery(raw))).not.toMatch(REFUSED);
      }),
    );
  });
});
