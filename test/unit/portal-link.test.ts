import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { portalLink, verifyPortalToken, type PortalEntry } from "../../src/portal/portal-link.ts";
import { parseKeyring } from "../../src/vault/keyring.ts";

const NOW = new Date("2026-12-01T00:00:00Z");
const HOUR = 3_600_000;
const keyring = parseKeyring(`k2:${Buffer.alloc(32, 2).toString("base64")},k1:${Buffer.alloc(32, 1).toString("base64")}`);
const config = { publicUrl: "https://billing.example.com", tokenKeys: keyring };
const entry: PortalEntry = { customerId: "cus_1", subscriptionId: null, locale: "en", returnUrl: "https://platform.example.com/account?tab=billing&x=1" };
const tokenOf = (url: string) => new URL(url).searchParams.get("token")!;

describe("portal links", () => {
  it("carry the entry, signed, for an hour by default", () => {
    const { url, expiresAt } = portalLink(config, entry, NOW);
    expect(url.startsWith("https://billing.example.com/portal/enter?token=k2.")).toBe(true);
    expect(expiresAt).toEqual(new Date(NOW.getTime() + HOUR));
    expect(verifyPortalToken(config, tokenOf(url), new Date(NOW.getTime() + HOUR - 1000))).toEqual({ ok: true, entry, expiresAt });
    expect(verifyPortalToken(config, tokenOf(url), expiresAt)).toEqual({ ok: false, reason: "expired" });
  });

  it("an email's entry lands on one subscription, in the customer's own language, for as long as it is given", () => {
    const email: PortalEntry = { customerId: "cus_1", subscriptionId: "sub_9", locale: null, returnUrl: null };
    const { url } = portalLink(config, email, NOW, 14 * 24 * HOUR);
    expect(verifyPortalToken(config, tokenOf(url), new Date(NOW.getTime() + 13 * 24 * HOUR))).toMatchObject({ ok: true, entry: email });
  });

  it("refuses any altered character, a key no longer configured, and what is not a token", () => {
    const token = tokenOf(portalLink(config, entry, NOW).url);
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(..."ABCxyz019-_."), (at, char) => {
        fc.pre(token[at] !== char);
        const altered = token.slice(0, at) + char + token.slice(at + 1);
        expect(verifyPortalToken(config, altered, NOW).ok).toBe(false);
      }),
    );
    const onlyK1 = { tokenKeys: parseKeyring(`k1:${Buffer.alloc(32, 1).toString("base64")}`) };
    expect(verifyPortalToken(onlyK1, token, NOW)).toEqual({ ok: false, reason: "unknown_key" });
    for (const junk of ["", "a.b", "a.b.c.d", `k2.${"!".repeat(10)}.${"a".repeat(43)}`]) expect(verifyPortalToken(config, junk, NOW)).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("cannot be signed for an id that would not survive the URL", () => {
    expect(() => portalLink(config, { ...entry, customerId: "cus.1" }, NOW)).toThrow(RangeError);
    expect(() => portalLink(config, { ...entry, returnUrl: `https://x.example/${"a".repeat(2100)}` }, NOW)).toThrow(RangeError);
  });
});
