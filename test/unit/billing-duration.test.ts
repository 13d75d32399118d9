import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration, parseDurationList } from "../../src/billing/duration.ts";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["1w", 604_800_000],
    ["0s", 0],
    ["1h30m", 5_400_000],
    ["1w2d3h4m5s6ms", 788_645_006],
    [" 10s ", 10_000],
  ])("reads %j as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "  ", "10", "s", "1.5h", "-1s", "1y", "1M", "1 d", "1d 2h", "30m1h", "1h1h", "1d,2d", "9007199254740992ms", "1e3ms"])(
    "rejects %j, naming it",
    (text) => {
      expect(() => parseDuration(text)).toThrow(`invalid duration ${JSON.stringify(text)}:`);
    },
  );
});

describe("parseDurationList", () => {
  it("reads a comma-separated schedule", () => {
    expect(parseDurationList("1d,3d,5d,7d")).toEqual([1, 3, 5, 7].map((d) => d * 86_400_000));
    expect(parseDurationList("2s, 4s ,6s")).toEqual([2_000, 4_000, 6_000]);
  });

  it("reads an empty string as no durations", () => {
    expect(parseDurationList("")).toEqual([]);
    expect(parseDurationList(" ")).toEqual([]);
  });

  it("names the list and the bad item", () => {
    expect(() => parseDurationList("1d,3x,5d")).toThrow(/invalid duration list "1d,3x,5d": invalid duration "3x"/);
    expect(() => parseDurationList("1d,,5d")).toThrow(/invalid duration list "1d,,5d": invalid duration ""/);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0ms"],
    [500, "500ms"],
    [30_000, "30s"],
    [5_400_000, "1h30m"],
    [604_800_000, "7d"],
    [90_061_001, "1d1h1m1s1ms"],
    [-1_500, "-1s500ms"],
    [1.6, "2ms"],
  ])("formats %d as %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("refuses what is not a finite number", () => {
    expect(() => formatDuration(Number.NaN)).toThrow(RangeError);
    expect(() => formatDuration(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("is read back by parseDuration for any whole number of milliseconds", () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 10 * 86_400_000 }), fc.maxSafeNat()), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
      { numRuns: 1000 },
    );
  });
});
