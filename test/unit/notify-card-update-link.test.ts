import { createHmac, hkdfSync } from "node:crypto";
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
  it("point to us, signed with the primary key, bound to the subscription and the time they were made, valid 14 days", () => {
    const url = link();
    expect(url).toMatch(/^https:\/\/billing\.example\.com\/billing\/card\/k2\.sub_abc123\.[0-9]+\.[0-9]+\.[A-Za-z0-9_-]{43}$/);
    const check = verifyCardUpdateToken(config, tokenOf(url), NOW);
    expect(check).toEqual({ ok: true, subscriptionId: "sub_abc123", issuedAt: NOW, expiresAt: new Date(NOW.getTime() + CARD_UPDATE_LINK_TTL_MS), linkId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(CARD_UPDATE_LINK_TTL_MS).toBe(14 * DAY);
  });

  it("tell one link from another by a digest, not by the link itself", () => {
    const first = verifyCardUpdateToken(config, tokenOf(link()), NOW);
    const later = verifyCardUpdateToken(config, tokenOf(link("sub_abc123", new Date(NOW.getTime() + 1_000))), NOW);
    expect(first.ok && later.ok && first.linkId !== later.linkId).toBe(true);
    expect(JSON.stringify(first)).not.toContain(tokenOf(link()).split(".").pop()!);
  });

  it("still accept a link sent before links carried their issue time, read as issued 14 days before its expiry", () => {
    const key = Buffer.from(hkdfSync("sha256", config.tokenKeys.keys.get("k2")!, Buffer.alloc(0), "card-update-link", 32));
    const expires = Math.floor(NOW.getTime() / 1000) + 3 * 86_400;
    const signed = `k2.sub_abc123.${expires}`;
    const legacy = `${signed}.${createHmac("sha256", key).update(signed).digest("base64url")}`;
    expect(verifyCardUpdateToken(config, legacy, NOW)).toMatchObject({ ok: true, subscriptionId: "sub_abc123", issuedAt: new Date(expires * 1000 - CARD_UPDATE_LINK_TTL_MS) });
  });

  it("derive their MAC key from the keyring for this purpose, not the encryption key itself", () => {
    const [keyId, subscriptionId, issued, expires, given] = tokenOf(link()).split(".");
    const withRawKey = createHmac("sha256", config.tokenKeys.keys.get("k2")!).update(`${keyId}.${subscriptionId}.${issued}.${expires}`).digest("base64url");
    expect(given).not.toBe(withRawKey);
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

  it("cannot be moved to another subscription, given a later expiry or a later issue time, or lose its issue time", () => {
    const [keyId, , issued, expires, mac] = tokenOf(link()).split(".");
    expect(verifyCardUpdateToken(config, `${keyId}.sub_other.${issued}.${expires}.${mac}`, NOW)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifyCardUpdateToken(config, `${keyId}.sub_abc123.${issued}.${Number(expires) + 86_400}.${mac}`, NOW)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifyCardUpdateToken(config, `${keyId}.sub_abc123.${Number(issued) + 86_400}.${expires}.${mac}`, NOW)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifyCardUpdateToken(config, `${keyId}.sub_abc123.${expires}.${mac}`, NOW)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("check the signature before the expiry, so a forged link never reads as merely expired", () => {
    const [keyId, subscriptionId, issued, expires] = tokenOf(link()).split(".");
    const late = new Date(NOW.getTime() + 30 * DAY);
    expect(verifyCardUpdateToken(config, `${keyId}.${subscriptionId}.${issued}.${expires}.${"A".repeat(43)}`, late)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it.each([["", "empty"], ["k2.sub_abc123.1800000000", "three parts"], ["k2.sub_abc123.1.2.3." + "A".repeat(43), "six parts"], ["k2.sub_abc123.1.soon." + "A".repeat(43), "a non-numeric expiry"], ["k2.sub abc.1.1800000000." + "A".repeat(43), "a space"], ["k2.sub_abc123.1.1800000000.short", "a short MAC"]])(
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
