import { describe, expect, it } from "vitest";
import { newId } from "../../src/ids.ts";

describe("newId", () => {
  it("gives distinct ids of 20 base36 characters after the prefix, across many draws of random bytes", () => {
    const ids = Array.from({ length: 2_000 }, () => newId("ca"));
    for (const id of ids) expect(id).toMatch(/^ca_[0-9a-z]{20}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
