import { createServer } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createOenClient, type OenClientOptions } from "../../src/oen/client.ts";
import { OenConfigError, OenError, OenUnavailableError } from "../../src/oen/errors.ts";
import { TEST_CARDS, flakyCardNumber, type OenSimulator } from "../../src/oen/simulator/index.ts";
import type { ChargeOutcome, TokenChargeRequest } from "../../src/oen/types.ts";
import { API_TOKEN, MERCHANT_ID, boundToken, productLine, startTestSimulator } from "../oen/sim-fixtures.ts";

let sim: OenSimulator;
let logLines: string[];

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(() => sim.close());
afterEach(() => sim.faults.clear());

/** A client against the simulator, logging at debug level into `logLines`. */
function client(overrides: Partial<OenClientOptions> = {}) {
  logLines = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  return createOenClient({
    apiUrl: sim.url,
    apiToken: API_TOKEN,
    merchantId: MERCHANT_ID,
    timeoutMs: 2_000,
    lookupTimeoutMs: 1_000,
    retryMinDelayMs: 5,
    retryMaxDelayMs: 20,
    logger: pino({ level: "debug" }, sink),
    ...overrides,
  });
}

let orderSeq = 0;
function charge(token: string, amount = 1200, orderId = `ORD-${++orderSeq}`): TokenChargeRequest {
  return { amount, token, orderId, productDetails: [productLine(amount)] };
}

describe("createCheckoutToken", () => {
  it("returns the 27-char id of a new binding page", async () => {
    const { id } = await client().createCheckoutToken({ successUrl: "https://shop.example.com/ok", failureUrl: null, customId: "M1" });
    expect(id).toMatch(/^[0-9A-Za-z]{27}$/);
    expect(sim.bindCard(id, { cardNumber: TEST_CARDS.success }).kind).toBe("bound");
  });

  it("throws OenConfigError V0001 when Oen refuses the fields", async () => {
    const error = await client().createCheckoutToken({ successUrl: "not a url", failureUrl: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OenConfigError);
    expect(error).toMatchObject({ code: "V0001", httpStatus: 400 });
  });

  it("retries a 5xx and succeeds", async () => {
    sim.faults.set([{ on: "checkout", kind: "error_5xx", times: 2 }]);
    const { id } = await client().createCheckoutToken({ successUrl: null, failureUrl: null });
    expect(id).toHaveLength(27);
  });
});

describe("chargeToken", () => {
  it("maps 200 S0000 to succeeded with the P-number and auth code", async () => {
    const token = await boundToken(sim, TEST_CARDS.success);
    const outcome = await client().chargeToken(charge(token));
    expect(outcome).toEqual({ kind: "succeeded", transactionHid: expect.stringMatching(/^P\d{8}[0-9A-Z]{8}$/), authCode: expect.stringMatching(/^\d{6}$/) });
  });

  it.each([
    ["T0001", TEST_CARDS.declineGeneral],
    ["T0002", TEST_CARDS.declineCvv],
    ["T0003", TEST_CARDS.declineExpired],
    ["T0004", TEST_CARDS.declineInsufficientCredit],
    ["T0005", TEST_CARDS.declineIssuerRefused],
  ])("maps 400 %s to declined", async (code, card) => {
    const token = await boundToken(sim, card);
    const outcome = await client().chargeToken(charge(token));
    expect(outcome).toMatchObject({ kind: "declined", code });
  });

  it("declines a flaky card K times, then succeeds", async () => {
    const token = await boundToken(sim, flakyCardNumber("T0004", 2));
    const kinds = [];
    for (let i = 0; i < 3; i++) kinds.push((await client().chargeToken(charge(token))).kind);
    expect(kinds).toEqual(["declined", "declined", "succeeded"]);
  });

  it("maps 400 K0001 (risk control refusing the merchant) to refused, not to a card decline", async () => {
    const token = await boundToken(sim, TEST_CARDS.declineRisk);
    expect(await client().chargeToken(charge(token))).toMatchObject({ kind: "refused", code: "K0001", httpStatus: 400 });
  });

  describe("config errors", () => {
    it("maps 401 to A0001", async () => {
      const token = await boundToken(sim, TEST_CARDS.success);
      const outcome = await client({ apiToken: "wrong-token" }).chargeToken(charge(token));
      expect(outcome).toMatchObject({ kind: "refused", code: "A0001", httpStatus: 401 });
    });

    it("maps 400 V0001 (another merchant, unknown token, amount not matching the products)", async () => {
      const token = await boundToken(sim, TEST_CARDS.success);
      const otherMerchant = await client({ merchantId: "someone-else" }).chargeToken(charge(token));
      const unknownToken = await client().chargeToken(charge("X".repeat(27)));
      const mismatch = await client().chargeToken({ ...charge(token), productDetails: [productLine(100)] });
      for (const outcome of [otherMerchant, unknownToken, mismatch]) {
        expect(outcome).toMatchObject({ kind: "refused", code: "V0001", httpStatus: 400 });
      }
      expect(mismatch).toMatchObject({ message: expect.stringContaining("PRODUCT_AMOUNT_NOT_MATCH") });
    });

    it("maps 400 V0002 (payments not activated)", async () => {
      const inactive = await startTestSimulator({ paymentsActivated: false });
      try {
        const outcome = await client({ apiUrl: inactive.url }).chargeToken(charge("X".repeat(27)));
        expect(outcome).toMatchObject({ kind: "refused", code: "V0002", httpStatus: 400 });
      } finally {
        await inactive.close();
      }
    });

    it("maps 400 V0003 (200,000 or more without high-value activation)", async () => {
      const token = await boundToken(sim, TEST_CARDS.success);
      const outcome = await client().chargeToken(charge(token, 200_000));
      expect(outcome).toMatchObject({ kind: "refused", code: "V0003", httpStatus: 400 });
    });

    it("maps 403 without a code (IP allowlist) to FORBIDDEN", async () => {
      const guarded = await startTestSimulator({ ipAllowlist: ["203.0.113.7"] });
      try {
        const outcome = await client({ apiUrl: guarded.url }).chargeToken(charge("X".repeat(27)));
        expect(outcome).toMatchObject({ kind: "refused", code: "FORBIDDEN", httpStatus: 403 });
      } finally {
        await guarded.close();
      }
    });
  });

  describe("unknown outcomes", () => {
    it("times out (and the charge was made meanwhile)", async () => {
      const token = await boundToken(sim, TEST_CARDS.success);
      sim.faults.set([{ on: "charge", kind: "latency", latencyMs: 500 }]);
      const request = charge(token);
      const outcome = await client({ timeoutMs: 100 }).chargeToken(request);
      expect(outcome).toMatchObject({ kind: "unknown", reason: "timeout" });
      expect(sim.ledger.byOrder(request.orderId).map((entry) => entry.status)).toEqual(["charged"]);
    });

    it("cannot connect (connection refused)", async () => {
      const outcome = await client({ apiUrl: `http://127.0.0.1:${await closedPort()}` }).chargeToken(charge("X".repeat(27)));
      expect(outcome).toMatchObject({ kind: "unknown", reason: "connection", message: expect.stringContaining("ECONNREFUSED") });
    });

    it.each([
      ["drop", "connection", undefined, 0],
      ["drop_after_charge", "connection", undefined, 1],
      ["error_5xx", "F0001", 500, 0],
      ["bad_gateway", "http_5xx", 502, 0],
      ["gateway_timeout", "gateway_timeout", 504, 0],
      ["gateway_timeout_after_charge", "gateway_timeout", 504, 1],
      ["c026_after_charge", "C026", 409, 1],
    ] as const)("fault %s → unknown %s", async (kind, reason, httpStatus, recorded) => {
      const token = await boundToken(sim, TEST_CARDS.success);
      sim.faults.set([{ on: "charge", kind }]);
      const request = charge(token);
      const outcome = await client().chargeToken(request);
      expect(outcome).toMatchObject({ kind: "unknown", reason });
      expect((outcome as { httpStatus?: number }).httpStatus).toBe(httpStatus);
      expect(sim.ledger.byOrder(request.orderId)).toHaveLength(recorded);
    });

    it("treats an undocumented answer (plain-text 404) as unknown, never as a failure", async () => {
      const outcome = await client({ apiUrl: `${sim.url}/wrong-prefix` }).chargeToken(charge("X".repeat(27)));
      expect(outcome).toMatchObject({ kind: "unknown", reason: "unexpected_response", httpStatus: 404 });
    });
  });

  it("never lets the API token or the card token into outcomes or logs", async () => {
    const token = await boundToken(sim, TEST_CARDS.success);
    const outcomes: ChargeOutcome[] = [];
    const c = client();
    outcomes.push(await client({ apiToken: `${API_TOKEN}-old` }).chargeToken(charge(token)));
    const logs = [...logLines];
    for (const kind of ["error_5xx", "gateway_timeout_after_charge", "c026_after_charge", "drop"] as const) {
      sim.faults.set([{ on: "charge", kind }]);
      outcomes.push(await c.chargeToken(charge(token)));
    }
    sim.faults.clear();
    outcomes.push(await c.chargeToken(charge(token)));
    outcomes.push(await c.chargeToken(charge(token, 1200, "")));
    const seen = JSON.stringify(outcomes) + logs.join("") + logLines.join("");
    expect(logLines.length).toBeGreaterThan(0);
    expect(seen).not.toContain(API_TOKEN);
    expect(seen).not.toContain(token);
  });
});

describe("reads", () => {
  it("lists an order's transactions (failed ones too, without productDetails); [] for none", async () => {
    const c = client();
    expect(await c.listOrderTransactions("NO-SUCH-ORDER")).toEqual([]);
    const flaky = await boundToken(sim, flakyCardNumber("T0001", 1));
    await c.chargeToken(charge(flaky, 1200, "ORD/with?odd#chars"));
    await c.chargeToken(charge(flaky, 1200, "ORD/with?odd#chars"));
    const transactions = await c.listOrderTransactions("ORD/with?odd#chars");
    expect(transactions.map((t) => t.status).sort()).toEqual(["charged", "failed"]);
    expect(transactions[0]).not.toHaveProperty("productDetails");
  });

  it("gets one transaction by 27-char id (with productDetails) or by P-number", async () => {
    const c = client();
    const outcome = await c.chargeToken(charge(await boundToken(sim, TEST_CARDS.success)));
    if (outcome.kind !== "succeeded") throw new Error(outcome.kind);
    const byHid = await c.getTransaction(outcome.transactionHid);
    const byId = await c.getTransaction(byHid.transactionId);
    expect(byHid).toMatchObject({ id: outcome.transactionHid, status: "charged", amount: 1200 });
    expect(byHid).not.toHaveProperty("productDetails");
    expect(byId.productDetails).toEqual([productLine(1200)]);
  });

  it("throws OenConfigError V0001 for an unknown transaction (Oen's answer)", async () => {
    await expect(client().getTransaction("P20260101AAAAAAAA")).rejects.toMatchObject({ name: "OenConfigError", code: "V0001" });
  });

  it("retries 5xx, dropped connections and timeouts, then succeeds", async () => {
    sim.faults.set([
      { on: "lookup", kind: "lookup_5xx", times: 1 },
      { on: "lookup", kind: "drop", times: 1 },
    ]);
    expect(await client().listOrderTransactions("NOTHING")).toEqual([]);
    sim.faults.set([{ on: "lookup", kind: "slow_lookup", latencyMs: 300, times: 1 }]);
    expect(await client({ lookupTimeoutMs: 100 }).listOrderTransactions("NOTHING")).toEqual([]);
  });

  it("gives up with OenUnavailableError after 1 + retries tries", async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls += 1;
      return fetch(input, init);
    };
    sim.faults.set([{ on: "lookup", kind: "gateway_timeout" }]);
    const error = await client({ fetch: counting, retries: 3 }).listOrderTransactions("X").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OenUnavailableError);
    expect(error).toMatchObject({ reason: "gateway_timeout", httpStatus: 504 });
    expect(calls).toBe(4);
  });

  it("does not retry config errors, and keeps the API token out of them", async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls += 1;
      return fetch(input, init);
    };
    const wrongToken = `${API_TOKEN}-rotated`;
    const error = await client({ fetch: counting, apiToken: wrongToken }).listOrderTransactions("X").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OenConfigError);
    expect(error).toMatchObject({ code: "A0001", httpStatus: 401 });
    expect(calls).toBe(1);
    const everything = JSON.stringify({ ...(error as object), message: (error as Error).message, stack: (error as Error).stack });
    expect(everything).not.toContain(wrongToken);
    expect(logLines.join("")).not.toContain(wrongToken);
  });

  it("throws a plain OenError for an undocumented answer, without retrying", async () => {
    const error = await client({ apiUrl: `${sim.url}/wrong-prefix` }).getTransaction("X").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OenError);
    expect(error).not.toBeInstanceOf(OenUnavailableError);
    expect(error).toMatchObject({ httpStatus: 404 });
  });
});

describe("refund", () => {
  async function paidTransaction(amount = 1200): Promise<string> {
    const outcome = await client().chargeToken(charge(await boundToken(sim, TEST_CARDS.success), amount));
    if (outcome.kind !== "succeeded") throw new Error(outcome.kind);
    return outcome.transactionHid;
  }

  it("maps 200 S0000 to succeeded with the new status and refundAmount; getTransaction then shows them", async () => {
    const hid = await paidTransaction();
    const c = client();
    const outcome = await c.refund(hid, { amount: 500, reason: "unused days", productDetails: [productLine(500)] });
    expect(outcome).toEqual({ kind: "succeeded", transactionHid: hid, status: "refunded", refundAmount: 500, refundedAt: expect.any(String) });
    expect(await c.getTransaction(hid)).toMatchObject({ id: hid, status: "refunded", amount: 1200, refundAmount: 500, refundedAt: expect.any(String) });
    expect(sim.ledger.refunds(hid)).toMatchObject([{ amount: 500, reason: "unused days", channel: "api" }]);
  });

  it("maps Oen's documented refusals to refused with their code", async () => {
    const hid = await paidTransaction();
    const c = client();
    expect(await c.refund(hid, { amount: 1201 })).toMatchObject({ kind: "refused", code: "V0001", httpStatus: 400, message: expect.stringContaining("REFUND_AMOUNT_EXCEED_CHARGE_AMOUNT") });
    sim.faults.set([{ on: "refund", kind: "refund_failed", times: 1 }]);
    expect(await c.refund(hid, { amount: 100 })).toMatchObject({ kind: "refused", code: "R0001", httpStatus: 400 });
    sim.faults.set([{ on: "refund", kind: "charged_amount_too_low", times: 1 }]);
    expect(await c.refund(hid, { amount: 100 })).toMatchObject({ kind: "refused", code: "F0001", httpStatus: 500 });
    expect(await c.refund(hid, { amount: 100 })).toMatchObject({ kind: "succeeded" });
    expect(await c.refund(hid, { amount: 100 })).toMatchObject({ kind: "refused", code: "V0002", httpStatus: 400 });
  });

  it("maps 401 to config_error A0001", async () => {
    const hid = await paidTransaction();
    expect(await client({ apiToken: "wrong" }).refund(hid, { amount: 1 })).toMatchObject({ kind: "config_error", code: "A0001", httpStatus: 401 });
  });

  it.each([
    ["drop", "connection", undefined, 0],
    ["drop_after_refund", "connection", undefined, 1],
    ["error_5xx", "F0001", 500, 0],
    ["bad_gateway", "http_5xx", 502, 0],
    ["gateway_timeout", "gateway_timeout", 504, 0],
    ["gateway_timeout_after_refund", "gateway_timeout", 504, 1],
  ] as const)("fault %s → unknown %s, sent once", async (kind, reason, httpStatus, made) => {
    const hid = await paidTransaction();
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls += 1;
      return fetch(input, init);
    };
    sim.faults.set([{ on: "refund", kind }]);
    const outcome = await client({ fetch: counting }).refund(hid, { amount: 1200 });
    expect(outcome).toMatchObject({ kind: "unknown", reason });
    expect((outcome as { httpStatus?: number }).httpStatus).toBe(httpStatus);
    expect(calls).toBe(1);
    expect(sim.ledger.refunds(hid)).toHaveLength(made);
  });

  it("times out (and the refund was made meanwhile)", async () => {
    const hid = await paidTransaction();
    sim.faults.set([{ on: "refund", kind: "latency", latencyMs: 500 }]);
    expect(await client({ timeoutMs: 100 }).refund(hid, { amount: 1200 })).toMatchObject({ kind: "unknown", reason: "timeout" });
    expect(sim.ledger.refunds(hid)).toHaveLength(1);
  });
});

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
