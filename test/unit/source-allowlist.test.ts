import { describe, expect, it } from "vitest";
import { parseSourceAllowlist } from "../../src/webhooks/source-allowlist.ts";

describe("the Oen webhook source allowlist", () => {
  const list = parseSourceAllowlist("203.0.113.7, 198.51.100.0/24, 2001:db8::/32");

  it.each([
    ["203.0.113.7", true],
    ["203.0.113.8", false],
    ["198.51.100.255", true],
    ["198.51.101.1", false],
    ["::ffff:198.51.100.4", true],
    ["::ffff:10.0.0.1", false],
    ["2001:db8:1::5", true],
    ["2001:db9::1", false],
    ["not an address", false],
  ])("%s allowed: %s", (address, allowed) => {
    expect(list.allows(address)).toBe(allowed);
  });

  it.each(["", "203.0.113.0/33", "203.0.113.0/", "203.0.113.0/8/8", "2001:db8::/129", "oen.tw", "203.0.113.0/-1"])("refuses %j", (text) => {
    expect(() => parseSourceAllowlist(text)).toThrow();
  });
});
