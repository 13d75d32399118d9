import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../src/subscriptions/subscription-cursor.ts";

const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

describe("subscription cursor", () => {
  it("round-trips every position, as URL-safe text", () => {
    const createdAt = fc
      .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true })
      .chain((d) => fc.integer({ min: 0, max: 999 }).map((micros) => `${d.toISOString().slice(0, 23)}${String(micros).padStart(3, "0")}Z`));
    const id = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789_-"), minLength: 1, maxLength: 64 });
    fc.assert(
      fc.property(createdAt, id, (at, anId) => {
        const text = encodeCursor({ createdAt: at, id: anId });
        expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeCursor(text)).toEqual({ createdAt: at, id: anId });
      }),
    );
  });

  it.each([
    ["not base64 JSON", "not-a-cursor"],
    ["empty", ""],
    ["an object", b64({ createdAt: "2026-12-01T04:00:00.000000Z", id: "sub_1" })],
    ["three parts", b64(["2026-12-01T04:00:00.000000Z", "sub_1", 3])],
    ["milliseconds only", b64(["2026-12-01T04:00:00.000Z", "sub_1"])],
    ["a day that does not exist", b64(["2026-02-30T04:00:00.000000Z", "sub_1"])],
    ["hour 25", b64(["2026-12-01T25:00:00.000000Z", "sub_1"])],
    ["an id with a quote", b64(["2026-12-01T04:00:00.000000Z", "sub'1"])],
    ["a numeric id", b64(["2026-12-01T04:00:00.000000Z", 1])],
  ])("refuses %s", (_what, text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });
});
