import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseKeyring } from "../../src/vault/keyring.ts";
import { openStoredToken, openWebhookToken, sealStoredToken, sealWebhookToken, TokenDecryptionError } from "../../src/vault/token-cipher.ts";
import { sealLegacyToken } from "../support/legacy-seal.ts";

const key = (byte: number) => Buffer.alloc(32, byte).toString("base64");
const row = (id = "pm_1", subscription = "sub_1", checkout = "2HhngP9sVb3mK1xYdQe7Wc0RtUi") => ({ id, subscription_id: subscription, checkout_session_id: checkout });
const stored = (sealed: { keyId: string; ciphertext: string }, at = row()) => ({ ...at, key_id: sealed.keyId, ciphertext: sealed.ciphertext });

describe("token cipher", () => {
  const keyring = parseKeyring(`new:${key(2)},old:${key(1)}`);

  it("round-trips any token for its row and its webhook page, and never shows it in the ciphertext", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.stringMatching(/^[A-Za-z0-9]{1,40}$/), (token, checkoutId) => {
        const sealed = sealStoredToken(keyring, token, row("pm_1", "sub_1", checkoutId));
        expect(sealed.keyId).toBe("new");
        expect(sealed.ciphertext.startsWith("v2.")).toBe(true);
        expect(openStoredToken(keyring, stored(sealed, row("pm_1", "sub_1", checkoutId)))).toBe(token);
        expect(openWebhookToken(keyring, sealWebhookToken(keyring, token, checkoutId), checkoutId)).toBe(token);
        if (token.length >= 8) expect(sealed.ciphertext).not.toContain(token);
      }),
    );
  });

  it("a ciphertext copied to another row, subscription or page does not open", () => {
    const sealed = sealStoredToken(keyring, "2HhnhWm8Qe0sPz4LbXv9KdYt1Ra", row());
    for (const other of [row("pm_2"), row("pm_1", "sub_2"), row("pm_1", "sub_1", "OtherCheckoutPage000000000")]) {
      expect(() => openStoredToken(keyring, stored(sealed, other))).toThrow(TokenDecryptionError);
    }
    const delivered = sealWebhookToken(keyring, "2HhnhWm8Qe0sPz4LbXv9KdYt1Ra", "PageA");
    expect(() => openWebhookToken(keyring, delivered, "PageB")).toThrow(TokenDecryptionError);
    // A webhook's sealing is not a row's, nor the other way round.
    expect(() => openStoredToken(keyring, stored(delivered, row("pm_1", "sub_1", "PageA")))).toThrow(TokenDecryptionError);
    expect(() => openWebhookToken(keyring, sealed, row().checkout_session_id)).toThrow(TokenDecryptionError);
  });

  it("still opens a token sealed before bindings (v1), wherever it is", () => {
    const legacy = sealLegacyToken(parseKeyring(`old:${key(1)}`), "2HhnhWm8Qe0sPz4LbXv9KdYt1Ra");
    expect(openStoredToken(keyring, stored(legacy))).toBe("2HhnhWm8Qe0sPz4LbXv9KdYt1Ra");
    expect(openWebhookToken(keyring, legacy, "AnyPage")).toBe("2HhnhWm8Qe0sPz4LbXv9KdYt1Ra");
  });

  it("decrypts with a retired key after rotation", () => {
    const sealed = sealStoredToken(parseKeyring(`old:${key(1)}`), "2HhnhWm8Qe0sPz4LbXv9KdYt1Ra", row());
    expect(openStoredToken(keyring, stored(sealed))).toBe("2HhnhWm8Qe0sPz4LbXv9KdYt1Ra");
  });

  it("rejects tampering, unknown keys and truncation", () => {
    const sealed = sealStoredToken(keyring, "secret-token", row());
    const raw = Buffer.from(sealed.ciphertext.slice(3), "base64");
    raw[14] = raw[14]! ^ 1;
    expect(() => openStoredToken(keyring, stored({ ...sealed, ciphertext: `v2.${raw.toString("base64")}` }))).toThrow(TokenDecryptionError);
    expect(() => openStoredToken(keyring, stored({ ...sealed, keyId: "gone" }))).toThrow(/no key with id "gone"/);
    expect(() => openStoredToken(keyring, stored({ ...sealed, ciphertext: "v2.AAAA" }))).toThrow(/truncated/);
    // Stripping the version does not make it open as an unbound token.
    expect(() => openStoredToken(keyring, stored({ ...sealed, ciphertext: sealed.ciphertext.slice(3) }))).toThrow(TokenDecryptionError);
    // The same bytes under another key id fail authentication.
    expect(() => openStoredToken(parseKeyring(`new:${key(3)}`), stored(sealed))).toThrow(TokenDecryptionError);
  });

  it("uses a fresh IV each time, also across refills of its pool of random bytes", () => {
    expect(sealStoredToken(keyring, "same", row()).ciphertext).not.toBe(sealStoredToken(keyring, "same", row()).ciphertext);
    const ivs = Array.from({ length: 2_000 }, () => Buffer.from(sealWebhookToken(keyring, "same", "page").ciphertext.slice(3), "base64").subarray(0, 12).toString("hex"));
    expect(new Set(ivs).size).toBe(ivs.length);
  });
});

describe("parseKeyring", () => {
  it.each([
    ["", /no keys/],
    ["nokey", /key id/],
    [`a:${Buffer.alloc(16).toString("base64")}`, /not 32 bytes/],
    [`a:${key(1)},a:${key(2)}`, /appears twice/],
    [`bad id:${key(1)}`, /key id/],
  ])("refuses %j", (text, message) => {
    expect(() => parseKeyring(text)).toThrow(message);
  });

  it("never echoes key material in its errors", () => {
    const secret = Buffer.alloc(31, 9).toString("base64");
    try {
      parseKeyring(`k:${secret}`);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });
});
