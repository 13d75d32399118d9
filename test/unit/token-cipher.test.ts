import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseKeyring } from "../../src/vault/keyring.ts";
import { openToken, sealToken, TokenDecryptionError } from "../../src/vault/token-cipher.ts";

const key = (byte: number) => Buffer.alloc(32, byte).toString("base64");

describe("token cipher", () => {
  const keyring = parseKeyring(`new:${key(2)},old:${key(1)}`);

  it("round-trips any token and never shows it in the ciphertext", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), (token) => {
        const sealed = sealToken(keyring, token);
        expect(sealed.keyId).toBe("new");
        expect(openToken(keyring, sealed)).toBe(token);
        if (token.length >= 8) expect(sealed.ciphertext).not.toContain(token);
      }),
    );
  });

  it("decrypts with a retired key after rotation", () => {
    const before = parseKeyring(`old:${key(1)}`);
    const sealed = sealToken(before, "2HhnhWm8Qe0sPz4LbXv9KdYt1Ra");
    expect(openToken(keyring, sealed)).toBe("2HhnhWm8Qe0sPz4LbXv9KdYt1Ra");
  });

  it("rejects tampering, unknown keys and truncation", () => {
    const sealed = sealToken(keyring, "secret-token");
    const raw = Buffer.from(sealed.ciphertext, "base64");
    raw[14] = raw[14]! ^ 1;
    expect(() => openToken(keyring, { ...sealed, ciphertext: raw.toString("base64") })).toThrow(TokenDecryptionError);
    expect(() => openToken(keyring, { ...sealed, keyId: "gone" })).toThrow(/no key with id "gone"/);
    expect(() => openToken(keyring, { ...sealed, ciphertext: "AAAA" })).toThrow(/truncated/);
    // The same bytes under another key id fail authentication.
    const other = parseKeyring(`new:${key(3)}`);
    expect(() => openToken(other, sealed)).toThrow(TokenDecryptionError);
  });

  it("uses a fresh IV each time", () => {
    expect(sealToken(keyring, "same").ciphertext).not.toBe(sealToken(keyring, "same").ciphertext);
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
