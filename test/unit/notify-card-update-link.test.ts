import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CARD_UPDATE_LINK_TTL_MS, cardUpdateLink, verifyCardUpdateToken } from "../../src/checkout/card-update-link.ts";
import { parseKeyring } from "../../src/vault/keyring.ts";

const key = (fill: number) => Buffer.alloc(32, fill).toString("base64");
const config = { publicUrl: "https://billing.example.com", tokenKeys: parseKeyring(`k2:${key(2)},k1:${key(1)}`) };
const NOW = new Date("2026-11-26T12:00:00Z");
const DAY = 86_400_000;

const tokenOf = (link: string) => link.split("/").pop()!;
const link = (subscriptionId = "sub_abc123", now = NOW) => cardUpdateLink(config, subscriptionId, now);

describe("card-update links", () => {
  it("point to us, signed with the primary key, bound to the subscription, valid 14 days", () => {
    const url = link();
    expect(url).toMatch(/^https:\/\/billing\.example\.com\/billing\/card\/k2\.sub_abc123\.[0-9]+\.[A-Za-z0-9_-]{43}$/);
    const check = verifyCardUpdateToken(config, tokenOf(url), NOW);
    expect(check).toEqual({ ok: true, subscriptionId: "sub_abc123", expiresAt: new Date(NOW.getTime() + CARD_UPDATE_LINK_TTL_MS) });
    expect(CARD_UPDATE_LINK_TTL_MS).toBe(14 * DAY);
  });

  it("expire at their expiry, not a second later", () => {
    const token = tokenOf(cardUpdateLink(config, "sub_abc123", NOW, 2 * DAY));
    expect(verifyCardUpdateToken(config, token, new Date(NOW.getTime() + 2 * DAY - 1_000)).ok).toBe(true);
    expect(verifyCardUpdateToken(config, token, new Date(NOW.getTime() + 2 * DAY))).toEqual({ ok: false, reason: "expired" });
  });

  it("keep working after a key rotation while the old key stays in the ring, and stop once it is gone", () => {
    const oldRing = { ...config, tokenKeys: parseKeyring(`k1:${key(1)}`) };
    const token = tokenOf(cardUpdateLink(oldRing, "sub_abc123", NOW));
    expect(verifyCardUpdateToken(config, token, NOW).ok).toBe(true);
    expect(verifyCardUpdateToken({ tokenKeys: parseKeyring(`k3:${key(3)}`) }, token, NOW)).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("do not verify under another keyring with the same key id", () => {
    const other = { tokenKeys: parseKeyring(`k2:${key(9)}`) };
    expect(verifyCardUpdateToken(other, tokenOf(link()), NOW)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("cannot be moved to another subscription or given a later expiry", () => {
    const [keyId, , expires, mac] = tokenOf(link()).split(".");
    expect(verifyCardUpdateToken(config, `${keyId}.sub_other.${expires}.${mac}`, NOW)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifyCardUpdateToken(config, `${keyId}.sub_abc123.${Number(expires) + 86_400}.${mac}`, NOW)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("check the signature before the expiry, so a forged link never reads as merely expired", () => {
    const [keyId, subscriptionId, expires] = tokenOf(link()).split(".");
    const late = new Date(NOW.getTime() + 30 * DAY);
    expect(verifyCardUpdateToken(config, `${keyId}.${subscriptionId}.${expires}.${"A".repeat(43)}`, late)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it.each([["", "empty"], ["k2.sub_abc123.1800000000", "three parts"], ["k2.sub_abc123.soon." + "A".repeat(43), "a non-numeric expiry"], ["k2.sub abc.1800000000." + "A".repeat(43), "a space"], ["k2.sub_abc123.1800000000.short", "a short MAC"]])(
    "refuse %j (%s) as malformed",
    (token) => {
      expect(verifyCardUpdateToken(config, token, NOW)).toEqual({ ok: false, reason: "malformed" });
    },
  );

  it("refuse to sign a subscription id that could not be read back", () => {
    expect(() => cardUpdateLink(config, "sub.with.dots", NOW)).toThrow(RangeError);
  });

  it("property: any change to a genuine token is refused", () => {
    const token = tokenOf(link());
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...alphabet), (position, replacement) => {
        fc.pre(token[position] !== replacement);
        const tampered = token.slice(0, position) + replacement + token.slice(position + 1);
        expect(verifyCardUpdateToken(config, tampered, NOW).ok).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it("property: truncations, extensions and arbitrary strings are refused", () => {
    const token = tokenOf(link());
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: token.length - 1 }).map((n) => token.slice(0, n)), fc.string({ minLength: 1 }).map((s) => token + s), fc.string()), (candidate) => {
        expect(verifyCardUpdateToken(config, candidate, NOW).ok).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it("property: every subscription and time gets a link that verifies for that subscription only", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.date({ min: new Date("2020-01-01"), max: new Date("2040-01-01"), noInvalidDate: true }), (subscriptionId, now) => {
        const check = verifyCardUpdateToken(config, tokenOf(cardUpdateLink(config, subscriptionId, now)), now);
        expect(check).toMatchObject({ ok: true, subscriptionId });
      }),
      { numRuns: 300 },
    );
  });
});
