import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { TEST_CARDS } from "../../src/oen/simulator/cards.ts";
import { createLedger, type LedgerEntry } from "../../src/oen/simulator/ledger.ts";
import { boundToken, callApi, chargeBody, startTestSimulator } from "../oen/sim-fixtures.ts";

const entry = (id: string, orderId: string): LedgerEntry => ({
  id,
  transactionId: `T${id}`,
  merchantId: "testshop",
  orderId,
  amount: 300,
  status: "initiated",
  productDetails: [{ productionCode: "p", description: "d", quantity: 1, unit: "月", unitPrice: 300 }],
  token: "tok",
  createdAt: "2026-12-01T00:00:00.000Z",
  refundAmount: 0,
});

// The simulator's ledger kept in a journal file: what a restarted simulator replays.
describe("the simulator's ledger journal", () => {
  const dirs: string[] = [];
  const journal = () => {
    const dir = mkdtempSync(join(tmpdir(), "oen-ledger-"));
    dirs.push(dir);
    return join(dir, "nested", "ledger.jsonl");
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("a new ledger on the same file holds every charge, change, refund and listed payment, in order", () => {
    const file = journal();
    const first = createLedger(file);
    first.add(entry("P1", "in_1-1"));
    first.add(entry("P2", "in_2-1"));
    first.update("P1", { status: "charged", paidAt: "2026-12-01T00:00:01.000Z", authCode: "123456" });
    first.update("TP2", { status: "failed", declineCode: "T0004" });
    first.addRefund({ transactionHid: "P1", orderId: "in_1-1", amount: 100, channel: "api", refundedAt: "2026-12-02T00:00:00.000Z" });
    first.update("P1", { refundAmount: 100, refundedAt: "2026-12-02T00:00:00.000Z" });
    first.addListedPayment({ kind: "binding_authorisation", id: "P3", transactionId: "TP3", amount: 1, status: "refunded", createdAt: "2026-12-01T00:00:00.000Z" });

    const again = createLedger(file);
    expect(again.all()).toEqual(first.all());
    expect(again.get("P1")).toMatchObject({ status: "charged", authCode: "123456", refundAmount: 100 });
    expect(again.byOrder("in_2-1")).toMatchObject([{ status: "failed", declineCode: "T0004" }]);
    expect(again.successfulCharges()).toHaveLength(1);
    expect(again.refunds("P1")).toEqual(first.refunds("P1"));
    expect(again.listedPayments()).toEqual(first.listedPayments());
    // An update of no entry is refused, and leaves nothing in the file that a replay would trip on.
    expect(() => again.update("P9", { status: "charged" })).toThrow(/no ledger entry P9/);
    // And it goes on appending where the first left off.
    again.add(entry("P4", "in_4-1"));
    expect(createLedger(file).all().map((e) => e.id)).toEqual(["P1", "P2", "P4"]);
  });

  it("a last line cut short by a crash is cut off, and the next change starts a line of its own", () => {
    const file = journal();
    createLedger(file).add(entry("P1", "in_1-1"));
    appendFileSync(file, '{"op":"add","entry":{"id":"P2"');
    const restarted = createLedger(file);
    expect(restarted.all().map((e) => e.id)).toEqual(["P1"]);
    restarted.add(entry("P3", "in_3-1"));
    expect(createLedger(file).all().map((e) => e.id)).toEqual(["P1", "P3"]);
  });

  it("a damaged line before the last is an error, not a silent loss", () => {
    const file = journal();
    createLedger(file).add(entry("P1", "in_1-1"));
    appendFileSync(file, `{"op":"add"\n${readFileSync(file, "utf8")}`);
    expect(() => createLedger(file)).toThrow(SyntaxError);
  });

  it("without a file, nothing is written and a new ledger starts empty", () => {
    createLedger().add(entry("P1", "in_1-1"));
    expect(createLedger().all()).toEqual([]);
  });
});

describe("a simulator restarted on its kept cards and ledger", () => {
  const dir = mkdtempSync(join(tmpdir(), "oen-sim-restart-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const files = () => ({ ledgerFile: join(dir, `ledger-${n}.jsonl`), cardsFile: join(dir, `cards-${n++}.json`) });

  it("refuses a seed, whose ids would repeat the kept ones", async () => {
    const kept = files();
    const first = await startTestSimulator({ ...kept, seed: undefined });
    await boundToken(first, TEST_CARDS.success);
    await first.close();
    await expect(startTestSimulator({ ...kept, seed: 7 })).rejects.toThrow(/SIM_SEED/);
    const unseeded = await startTestSimulator({ ...kept, seed: undefined });
    await unseeded.close();
  });

  it("settles a C026 charge that was still charging when it stopped", async () => {
    const kept = files();
    let sim = await startTestSimulator({ ...kept, seed: undefined, faults: [{ on: "charge", kind: "c026_after_charge", settleAfterMs: 300, times: 1 }] });
    const token = await boundToken(sim, TEST_CARDS.success);
    expect((await callApi(sim, "POST", "/token/transactions", chargeBody(token, "order-c026"))).status).toBe(409);
    await sim.close();
    sim = await startTestSimulator({ ...kept, seed: undefined });
    try {
      expect(sim.ledger.byOrder("order-c026").map((e) => e.status)).toEqual(["charging"]);
      await vi.waitFor(() => expect(sim.ledger.byOrder("order-c026")).toMatchObject([{ status: "charged", paidAt: expect.any(String), authCode: expect.any(String) }]), { timeout: 3_000 });
    } finally {
      await sim.close();
    }
  });
});
