import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type InvoiceInfo,
  isValidCitizenCertificate,
  isValidMobileBarcode,
  isValidUbn,
  validateInvoiceInfo,
} from "../../src/billing/einvoice.ts";

// Reference for the 統一編號 rule, written from the Ministry of Finance's
// description rather than from the code: what each digit adds in its place
// (the digits of digit × weight, from tables), and a 7 in the seventh place
// adding "1 or 0" (28 → 2 + 8 = 10 → 1 + 0).
const ADDS_AT_WEIGHT_1 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const ADDS_AT_WEIGHT_2 = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
const ADDS_AT_WEIGHT_4 = [0, 4, 8, 3, 7, 2, 6, 10, 5, 9];
const ADDS = [ADDS_AT_WEIGHT_1, ADDS_AT_WEIGHT_2, ADDS_AT_WEIGHT_1, ADDS_AT_WEIGHT_2, ADDS_AT_WEIGHT_1, ADDS_AT_WEIGHT_2, ADDS_AT_WEIGHT_4, ADDS_AT_WEIGHT_1];

function seventhOptions(digit: number): number[] {
  return digit === 7 ? [1, 0] : [ADDS_AT_WEIGHT_4[digit] ?? Number.NaN];
}

function referenceUbn(ubn: string): boolean {
  if (ubn.length !== 8 || [...ubn].some((c) => !"0123456789".includes(c))) return false;
  const digits = [...ubn].map(Number);
  const rest = digits.reduce((sum, d, i) => (i === 6 ? sum : sum + (ADDS[i]?.[d] ?? Number.NaN)), 0);
  return seventhOptions(digits[6] ?? 0).some((adds) => (rest + adds) % 5 === 0);
}

// Single-digit changes the mod-5 rule cannot see, per weight: the two digits add
// the same modulo 5 in that place (derived by hand from the tables above; the
// seventh place leaves 7 out, it is the special case).
const BLIND_AT_WEIGHT_1 = ["05", "16", "27", "38", "49"];
const BLIND_AT_WEIGHT_2 = ["07", "35", "18", "46", "29"];
const BLIND_AT_WEIGHT_4 = ["08", "45", "23", "19"];
const BLIND = [BLIND_AT_WEIGHT_1, BLIND_AT_WEIGHT_2, BLIND_AT_WEIGHT_1, BLIND_AT_WEIGHT_2, BLIND_AT_WEIGHT_1, BLIND_AT_WEIGHT_2, BLIND_AT_WEIGHT_4, BLIND_AT_WEIGHT_1];
const isBlind = (place: number, a: string, b: string) => (BLIND[place] ?? []).some((pair) => pair === a + b || pair === b + a);

const digitArb = fc.integer({ min: 0, max: 9 });
// Valid by construction: seven digits, then a last digit (weight 1) that brings
// the sum to a multiple of 5; with a 7 in the seventh place either count of it works.
const validUbnArb = fc
  .record({
    first: fc.array(digitArb, { minLength: 6, maxLength: 6 }),
    seventh: fc.oneof(digitArb, fc.constant(7)),
    option: fc.nat(1),
    high: fc.boolean(),
  })
  .map(({ first, seventh, option, high }) => {
    const options = seventhOptions(seventh);
    const sum = first.reduce((total, d, i) => total + (ADDS[i]?.[d] ?? 0), 0) + (options[option % options.length] ?? 0);
    const last = ((5 - (sum % 5)) % 5) + (high ? 5 : 0);
    return [...first, seventh, last].join("");
  });
// Any 8 digits, with a 7 in the seventh place half of the time.
const eightDigitsArb = fc
  .record({ digits: fc.array(digitArb, { minLength: 8, maxLength: 8 }), seventhIsSeven: fc.boolean() })
  .map(({ digits, seventhIsSeven }) => digits.map((d, i) => (i === 6 && seventhIsSeven ? 7 : d)).join(""));
const RUNS = { numRuns: 2000 };

describe("isValidUbn", () => {
  it("accepts numbers checked by hand", () => {
    // 0 4 5 9 5 2 5 7 × 1 2 1 2 1 2 4 1 = 0 8 5 18 5 4 20 7 → 0+8+5+9+5+4+2+7 = 40.
    expect(isValidUbn("04595257")).toBe(true);
    // 2 2 0 9 9 1 3 1 → 2 4 0 18 9 2 12 1 → 2+4+0+9+9+2+3+1 = 30.
    expect(isValidUbn("22099131")).toBe(true);
    // Oen's own example. 1 2 3 4 5 6 7 5 → 1 4 3 8 5 12 28 5 → 1+4+3+8+5+3+10+5 = 39: valid only
    // because the seventh digit is 7 (39 + 1 = 40).
    expect(isValidUbn("12345675")).toBe(true);
    // The same prefix with 0, 1, 6: 34 + 1, 35, 40.
    expect(["12345670", "12345671", "12345676"].map(isValidUbn)).toEqual([true, true, true]);
  });

  it("accepts a sum divisible by 5 but not by 10 (the rule since 2023)", () => {
    // 04595257 with a last digit 2: 40 − 7 + 2 = 35.
    expect(isValidUbn("04595252")).toBe(true);
  });

  it("refuses wrong check digits checked by hand", () => {
    expect(isValidUbn("04595258")).toBe(false); // 41
    expect(isValidUbn("04595253")).toBe(false); // 36
    expect(isValidUbn("22099132")).toBe(false); // 31
    expect(isValidUbn("12345672")).toBe(false); // 36, or 37 with the 7 as 1
    expect(isValidUbn("12345674")).toBe(false); // 38 or 39
  });

  it("refuses anything but exactly 8 ASCII digits", () => {
    for (const bad of ["", "4595257", "045952570", " 04595257", "04595257 ", "0459525a", "0459-257", "０４５９５２５７", "٠٤٥٩٥٢٥٧"]) {
      expect(isValidUbn(bad)).toBe(false);
    }
    for (const bad of [4595257, 12345675, null, undefined, ["04595257"], { ubn: "04595257" }]) {
      expect(isValidUbn(bad)).toBe(false);
    }
  });

  it("accepts every number built to satisfy the rule", () => {
    fc.assert(
      fc.property(validUbnArb, (ubn) => {
        expect(isValidUbn(ubn)).toBe(true);
      }),
      RUNS,
    );
  });

  it("agrees with the reference on any 8 digits", () => {
    fc.assert(
      fc.property(eightDigitsArb, (ubn) => {
        expect(isValidUbn(ubn)).toBe(referenceUbn(ubn));
      }),
      RUNS,
    );
  });

  it("agrees with the reference on every number from 12000000 to 12999999, 22% of them valid", () => {
    let valid = 0;
    for (let n = 0; n < 1_000_000; n++) {
      const ubn = `12${String(n).padStart(6, "0")}`;
      const verdict = isValidUbn(ubn);
      if (verdict !== referenceUbn(ubn)) throw new Error(`isValidUbn(${ubn}) is ${verdict}, the reference says otherwise`);
      if (verdict) valid++;
    }
    // 2 last digits in 10 pass, 4 in 10 when the seventh digit is 7: 0.9 × 0.2 + 0.1 × 0.4.
    expect(valid).toBe(220_000);
  });

  it("catches a single-digit change unless modulo 5 cannot see it (no 7 in the seventh place)", () => {
    fc.assert(
      fc.property(
        validUbnArb.filter((ubn) => ubn[6] !== "7"),
        fc.integer({ min: 0, max: 7 }),
        digitArb,
        (ubn, place, digit) => {
          const from = ubn[place] ?? "";
          const to = String(digit);
          fc.pre(to !== from && !(place === 6 && to === "7"));
          const changed = ubn.slice(0, place) + to + ubn.slice(place + 1);
          expect(isValidUbn(changed)).toBe(isBlind(place, from, to));
        },
      ),
      RUNS,
    );
  });

  it("at a weight-1 place, misses only a change by exactly 5", () => {
    const changes = [0, 2, 4, 7].flatMap((place) =>
      Array.from({ length: 10 }, (_, d) => `04595257`.slice(0, place) + d + `04595257`.slice(place + 1)),
    );
    const passing = changes.filter((ubn) => ubn !== "04595257" && isValidUbn(ubn));
    expect(passing.sort()).toEqual(["04095257", "04590257", "04595252", "54595257"]);
  });

  it("putting a 7 in the seventh place keeps it valid only from 0, 6 or 8 there", () => {
    fc.assert(
      fc.property(
        validUbnArb.filter((ubn) => ubn[6] !== "7"),
        (ubn) => {
          const changed = `${ubn.slice(0, 6)}7${ubn.slice(7)}`;
          expect(isValidUbn(changed)).toBe(["0", "6", "8"].includes(ubn[6] ?? ""));
        },
      ),
      RUNS,
    );
  });
});

const BARCODE_CHARS = [..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.+-"];
const barcodeArb = fc.string({ unit: fc.constantFrom(...BARCODE_CHARS), minLength: 7, maxLength: 7 }).map((s) => `/${s}`);
const certificateArb = fc
  .record({
    letters: fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"), minLength: 2, maxLength: 2 }),
    digits: fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 14, maxLength: 14 }),
  })
  .map(({ letters, digits }) => letters + digits);
// A character none of the formats allow, at a random place.
const foreignCharArb = fc.constantFrom(..."abz/_ *#é。０\n");
const withCharAt = (code: string, place: number, char: string) => code.slice(0, place) + char + code.slice(place + 1);

describe("isValidMobileBarcode", () => {
  it("accepts Oen's example and the whole alphabet", () => {
    expect(isValidMobileBarcode("/ABC+123")).toBe(true);
    expect(isValidMobileBarcode("/.-+09AZ")).toBe(true);
  });

  it("refuses other shapes", () => {
    for (const bad of ["ABC+1234", "/ABC+12", "/ABC+1234", "/abc+123", "/ABC 123", "/ABC_123", "//ABC123", " /ABC+123", "/ABC+123\n", ""]) {
      expect(isValidMobileBarcode(bad)).toBe(false);
    }
    expect(isValidMobileBarcode(null)).toBe(false);
    expect(isValidMobileBarcode(1234567)).toBe(false);
  });

  it("accepts every '/' and 7 allowed characters, and nothing with a foreign character or another length", () => {
    fc.assert(
      fc.property(barcodeArb, fc.integer({ min: 1, max: 7 }), foreignCharArb, fc.integer({ min: 0, max: 12 }), (code, place, char, length) => {
        expect(isValidMobileBarcode(code)).toBe(true);
        expect(isValidMobileBarcode(withCharAt(code, place, char))).toBe(false);
        expect(isValidMobileBarcode(withCharAt(code, 0, "A"))).toBe(false);
        const resized = `/${code.slice(1).repeat(2).slice(0, length)}`;
        expect(isValidMobileBarcode(resized)).toBe(length === 7);
      }),
      RUNS,
    );
  });
});

describe("isValidCitizenCertificate", () => {
  it("accepts 2 uppercase letters and 14 digits", () => {
    expect(isValidCitizenCertificate("AB12345678901234")).toBe(true);
    expect(isValidCitizenCertificate("ZZ00000000000000")).toBe(true);
  });

  it("refuses other shapes", () => {
    for (const bad of ["ab12345678901234", "A123456789012345", "AB1234567890123", "AB123456789012345", "ABC2345678901234", "AB1234567890123X", ""]) {
      expect(isValidCitizenCertificate(bad)).toBe(false);
    }
    expect(isValidCitizenCertificate(undefined)).toBe(false);
  });

  it("accepts every 2 letters + 14 digits, and nothing with a character out of place", () => {
    fc.assert(
      fc.property(certificateArb, fc.integer({ min: 0, max: 15 }), foreignCharArb, (code, place, char) => {
        expect(isValidCitizenCertificate(code)).toBe(true);
        expect(isValidCitizenCertificate(withCharAt(code, place, char))).toBe(false);
        // A digit where a letter belongs, or a letter where a digit belongs.
        expect(isValidCitizenCertificate(withCharAt(code, place, place < 2 ? "5" : "Q"))).toBe(false);
        expect(isValidCitizenCertificate(code.slice(0, 15))).toBe(false);
        expect(isValidCitizenCertificate(`${code}0`)).toBe(false);
      }),
      RUNS,
    );
  });
});

function expectOk(input: unknown, value: InvoiceInfo): void {
  expect(validateInvoiceInfo(input)).toEqual({ ok: true, value });
}

function expectFailure(input: unknown, field: string, message?: RegExp): void {
  const result = validateInvoiceInfo(input);
  expect(result).toMatchObject({ ok: false, field });
  if (message !== undefined && !result.ok) expect(result.message).toMatch(message);
}

describe("validateInvoiceInfo", () => {
  it("accepts Oen's examples as they are", () => {
    expectOk({ invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC+123" }, { invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC+123" });
    expectOk(
      { invoiceType: "company", buyerIdentifier: "12345675", buyerName: "應援範例股份有限公司" },
      { invoiceType: "company", buyerIdentifier: "12345675", buyerName: "應援範例股份有限公司" },
    );
  });

  it("accepts a citizen certificate, the member carrier and an email", () => {
    expectOk({ invoiceType: "cloud", carrierType: "CQ0001", carrierId: "AB12345678901234" }, { invoiceType: "cloud", carrierType: "CQ0001", carrierId: "AB12345678901234" });
    expectOk({ invoiceType: "cloud", carrierType: "" }, { invoiceType: "cloud", carrierType: "" });
    expectOk({ invoiceType: "company", buyerIdentifier: "04595257", email: "ap@example.com" }, { invoiceType: "company", buyerIdentifier: "04595257", email: "ap@example.com" });
  });

  it("normalizes: trims, upper-cases carriers, drops blank optional fields, defaults to the member carrier", () => {
    expectOk({ invoiceType: "cloud", carrierType: " 3J0002 ", carrierId: " /abc+123 " }, { invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC+123" });
    expectOk({ invoiceType: "cloud", carrierType: "CQ0001", carrierId: "ab12345678901234" }, { invoiceType: "cloud", carrierType: "CQ0001", carrierId: "AB12345678901234" });
    expectOk({ invoiceType: "cloud" }, { invoiceType: "cloud", carrierType: "" });
    expectOk({ invoiceType: "cloud", carrierType: "", carrierId: "  ", email: "" }, { invoiceType: "cloud", carrierType: "" });
    expectOk(
      { invoiceType: "company", buyerIdentifier: " 04595257 ", buyerName: "  ", email: " ap@example.com ", carrierId: undefined },
      { invoiceType: "company", buyerIdentifier: "04595257", email: "ap@example.com" },
    );
  });

  it("names the field that is wrong", () => {
    expectFailure(null, "invoiceInfo", /object/);
    expectFailure("cloud", "invoiceInfo");
    expectFailure([{ invoiceType: "cloud" }], "invoiceInfo");
    expectFailure({}, "invoiceInfo.invoiceType", /"cloud" or "company"/);
    expectFailure({ invoiceType: "b2b" }, "invoiceInfo.invoiceType");
    expectFailure({ invoiceType: "cloud", carrierType: "3J0003", carrierId: "/ABC+123" }, "invoiceInfo.carrierType", /3J0002/);
    expectFailure({ invoiceType: "cloud", carrierType: 3 }, "invoiceInfo.carrierType", /string/);
    expectFailure({ invoiceType: "cloud", carrierType: "3J0002" }, "invoiceInfo.carrierId", /required/);
    expectFailure({ invoiceType: "cloud", carrierType: "3J0002", carrierId: "ABC+1234" }, "invoiceInfo.carrierId", /mobile barcode/);
    expectFailure({ invoiceType: "cloud", carrierType: "3J0002", carrierId: "AB12345678901234" }, "invoiceInfo.carrierId", /mobile barcode/);
    expectFailure({ invoiceType: "cloud", carrierType: "CQ0001", carrierId: "/ABC+123" }, "invoiceInfo.carrierId", /citizen certificate/);
    expectFailure({ invoiceType: "cloud", carrierType: "", carrierId: "/ABC+123" }, "invoiceInfo.carrierId", /member carrier/);
    expectFailure({ invoiceType: "cloud", carrierType: "3J0002", carrierId: "/ABC+123", email: "nobody" }, "invoiceInfo.email", /email/);
    expectFailure({ invoiceType: "cloud", email: `${"a".repeat(250)}@example.com` }, "invoiceInfo.email");
    expectFailure({ invoiceType: "company" }, "invoiceInfo.buyerIdentifier", /required/);
    expectFailure({ invoiceType: "company", buyerIdentifier: "1234567" }, "invoiceInfo.buyerIdentifier", /8 digits/);
    expectFailure({ invoiceType: "company", buyerIdentifier: 12345675 }, "invoiceInfo.buyerIdentifier", /string/);
    expectFailure({ invoiceType: "company", buyerIdentifier: "12345674" }, "invoiceInfo.buyerIdentifier", /check digit/);
    expectFailure({ invoiceType: "company", buyerIdentifier: "12345675", buyerName: "股".repeat(61) }, "invoiceInfo.buyerName", /60/);
    expectFailure({ invoiceType: "company", buyerIdentifier: "12345675", buyerName: 1 }, "invoiceInfo.buyerName", /string/);
  });

  it("refuses fields of the other invoice type and unknown fields", () => {
    expectFailure({ invoiceType: "company", buyerIdentifier: "12345675", carrierType: "3J0002" }, "invoiceInfo.carrierType", /only for invoiceType "cloud"/);
    expectFailure({ invoiceType: "company", buyerIdentifier: "12345675", carrierId: "/ABC+123" }, "invoiceInfo.carrierId", /cloud/);
    expectFailure({ invoiceType: "cloud", buyerIdentifier: "12345675" }, "invoiceInfo.buyerIdentifier", /only for invoiceType "company"/);
    expectFailure({ invoiceType: "cloud", buyerName: "應援" }, "invoiceInfo.buyerName", /company/);
    expectFailure({ invoiceType: "cloud", ubn: "12345675" }, "invoiceInfo.ubn", /not a field/);
  });

  it("allows a buyer name of 60 characters counted as characters, not UTF-16 units", () => {
    const name = "𠀋".repeat(60);
    expectOk({ invoiceType: "company", buyerIdentifier: "12345675", buyerName: name }, { invoiceType: "company", buyerIdentifier: "12345675", buyerName: name });
  });

  const emailArb = fc.option(fc.constantFrom("a@example.com", "帳務@例子.台灣", "x.y+z@sub.example.tw"), { nil: undefined });
  const padArb = fc.constantFrom("", " ", "\t", "  ");
  const caseArb = fc.constantFrom((s: string) => s, (s: string) => s.toLowerCase());
  const validInputArb = fc.oneof(
    fc.record({ pad: padArb, recase: caseArb, carrierId: barcodeArb, email: emailArb }).map(({ pad, recase, carrierId, email }) => ({
      input: { invoiceType: "cloud", carrierType: "3J0002", carrierId: pad + recase(carrierId) + pad, email },
      value: { invoiceType: "cloud", carrierType: "3J0002", carrierId, ...(email === undefined ? {} : { email }) } as InvoiceInfo,
    })),
    fc.record({ pad: padArb, recase: caseArb, carrierId: certificateArb, email: emailArb }).map(({ pad, recase, carrierId, email }) => ({
      input: { invoiceType: "cloud", carrierType: "CQ0001", carrierId: pad + recase(carrierId), email },
      value: { invoiceType: "cloud", carrierType: "CQ0001", carrierId, ...(email === undefined ? {} : { email }) } as InvoiceInfo,
    })),
    fc.record({ carrierType: fc.option(fc.constant(""), { nil: undefined }), email: emailArb }).map(({ carrierType, email }) => ({
      input: { invoiceType: "cloud", carrierType, email },
      value: { invoiceType: "cloud", carrierType: "", ...(email === undefined ? {} : { email }) } as InvoiceInfo,
    })),
    fc
      .record({ pad: padArb, buyerIdentifier: validUbnArb, buyerName: fc.option(fc.string({ minLength: 1, maxLength: 60 }).map((s) => s.trim()).filter((s) => s !== ""), { nil: undefined }), email: emailArb })
      .map(({ pad, buyerIdentifier, buyerName, email }) => ({
        input: { invoiceType: "company", buyerIdentifier: pad + buyerIdentifier, buyerName, email },
        value: {
          invoiceType: "company",
          buyerIdentifier,
          ...(buyerName === undefined ? {} : { buyerName }),
          ...(email === undefined ? {} : { email }),
        } as InvoiceInfo,
      })),
  );

  it("accepts every valid input, and its value is valid as it stands, survives JSON and uses only Oen's fields", () => {
    const OEN_FIELDS = ["invoiceType", "carrierType", "carrierId", "buyerIdentifier", "buyerName", "email"];
    fc.assert(
      fc.property(validInputArb, ({ input, value }) => {
        expectOk(input, value);
        expectOk(value, value);
        expect(JSON.parse(JSON.stringify(value))).toEqual(value);
        expect(Object.keys(value).every((key) => OEN_FIELDS.includes(key))).toBe(true);
      }),
      RUNS,
    );
  });

  it("names the one field that was spoiled", () => {
    const spoilers: Record<string, unknown[]> = {
      carrierId: ["/ABC+12", "AB1234567890123", 5, "/ABC_123"],
      buyerIdentifier: ["1234567", "1234567X", 12345675, "", null],
      buyerName: ["字".repeat(61), 42, false],
      email: ["a@b", "a b@c.tw", 7],
      carrierType: ["3J0003", "cq0002", {}],
      invoiceType: ["b2b", "Cloud", 1, null],
    };
    const spoiledArb = validInputArb.chain(({ input }) => {
      const present = Object.keys(spoilers).filter((field) => (input as Record<string, unknown>)[field] !== undefined);
      return fc.record({
        input: fc.constant(input),
        field: fc.constantFrom(...present),
        pick: fc.nat(),
      });
    });
    fc.assert(
      fc.property(spoiledArb, ({ input, field, pick }) => {
        const choices = spoilers[field] ?? [];
        const spoiled = { ...input, [field]: choices[pick % choices.length] };
        expectFailure(spoiled, `invoiceInfo.${field}`);
      }),
      RUNS,
    );
  });
});
