import { describe, expect, it } from "vitest";
import { createAuthFailureCounter } from "../../src/ingress/auth-failure-counter.ts";

describe("auth failure counter", () => {
  it("blocks an address for a window once it failed `limit` times within it", () => {
    const counter = createAuthFailureCounter({ limit: 3, windowMs: 1_000 });
    counter.recordFailure("a", 0);
    counter.recordFailure("a", 100);
    expect(counter.blockedForMs("a", 150)).toBe(0);
    counter.recordFailure("a", 200);
    expect(counter.blockedForMs("a", 200)).toBe(1_000);
    expect(counter.blockedForMs("a", 1_100)).toBe(100);
    expect(counter.blockedForMs("b", 300)).toBe(0);
    expect(counter.blockedForMs("a", 1_200)).toBe(0);
  });

  it("forgets failures older than the window", () => {
    const counter = createAuthFailureCounter({ limit: 2, windowMs: 1_000 });
    counter.recordFailure("a", 0);
    counter.recordFailure("a", 1_000);
    expect(counter.blockedForMs("a", 1_001)).toBe(0);
    counter.recordFailure("a", 1_500);
    expect(counter.blockedForMs("a", 1_501)).toBe(999);
  });

  it("keeps at most maxAddresses, dropping the address that failed longest ago", () => {
    const counter = createAuthFailureCounter({ limit: 1, windowMs: 1_000, maxAddresses: 2 });
    counter.recordFailure("a", 0);
    counter.recordFailure("b", 1);
    counter.recordFailure("a", 2);
    counter.recordFailure("c", 3);
    expect([counter.blockedForMs("a", 4) > 0, counter.blockedForMs("b", 4) > 0, counter.blockedForMs("c", 4) > 0]).toEqual([true, false, true]);
  });
});
