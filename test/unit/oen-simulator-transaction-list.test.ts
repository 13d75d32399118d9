import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOenClient } from "../../src/oen/client.ts";
import { TEST_CARDS, type OenSimulator } from "../../src/oen/simulator/index.ts";
import { transactionPages } from "../../src/oen/transaction-pages.ts";
import type { OenTransaction } from "../../src/oen/types.ts";
import { API_TOKEN, MERCHANT_ID, boundToken, callApi, chargeBody, startTestSimulator } from "../oen/sim-fixtures.ts";

// GET /transactions as api/list-transactions.md and developers/querying.md describe it.
let sim: OenSimulator;
let now: Date;
let token: string;
let seq = 0;

beforeEach(async () => {
  now = new Date("2026-09-01T04:00:00Z"); // 12:00 in Taipei
  sim = await startTestSimulator({ now: () => now, bindingAuthorisations: true });
  token = await boundToken(sim, TEST_CARDS.success);
});
afterEach(() => sim.close());

async function charge(amount = 1200): Promise<string> {
  const answer = await callApi(sim, "POST", "/token/transactions", chargeBody(token, `TL-${++seq}`, amount));
  return answer.json.data.id as string;
}
const list = async (query: string) => callApi(sim, "GET", `/transactions${query}`);
const ids = (answer: { json: { data: { transactions: OenTransaction[] } } }) => answer.json.data.transactions.map((t) => t.id);
const client = () => createOenClient({ apiUrl: sim.url, apiToken: API_TOKEN, merchantId: MERCHANT_ID, retryMinDelayMs: 5, retryMaxDelayMs: 10 });

describe("the period", () => {
  it("start and end go together: one alone is 500 F0001 Invalid date", async () => {
    for (const query of ["?start=2026-09-01", "?end=2026-09-01"]) {
      const answer = await list(query);
      expect([answer.status, answer.json]).toEqual([500, { code: "F0001", data: {}, message: "Invalid date" }]);
    }
  });

  it("a date is YYYY-MM-DD (a real day) or Unix milliseconds; anything else is F0001", async () => {
    for (const bad of ["2026/09/01", "2026-02-30", "1.7e12", "yesterday", "2026-9-1", ""]) {
      const answer = await list(`?start=${bad}&end=2026-09-01`);
      expect([bad, answer.status, answer.json.code]).toEqual([bad, 500, "F0001"]);
    }
    const hid = await charge();
    const byMs = await list(`?start=${Date.parse("2026-09-01T10:00:00+08:00")}&end=${Date.parse("2026-09-01T23:00:00+08:00")}`);
    expect(byMs.status).toBe(200);
    expect(ids(byMs)).toContain(hid);
  });

  it("whole Taipei days by creation time: start's 00:00 to end's 23:59:59", async () => {
    now = new Date("2026-09-01T15:59:59.500Z"); // 23:59:59.5 on Sept 1 in Taipei
    const lateFirst = await charge();
    now = new Date("2026-09-01T16:00:00.000Z"); // 00:00 on Sept 2 in Taipei
    const earlySecond = await charge();
    expect(ids(await list("?start=2026-09-01&end=2026-09-01"))).toContain(lateFirst);
    expect(ids(await list("?start=2026-09-01&end=2026-09-01"))).not.toContain(earlySecond);
    expect(ids(await list("?start=2026-09-02&end=2026-09-02"))).toEqual([earlySecond]);
    expect(ids(await list("?start=2026-09-01&end=2026-09-02")).slice(0, 2)).toEqual([earlySecond, lateFirst]);
    // A millisecond timestamp stands for its whole Taipei day too.
    expect(ids(await list(`?start=${Date.parse("2026-09-02T12:00:00+08:00")}&end=${Date.parse("2026-09-02T12:00:00+08:00")}`))).toEqual([earlySecond]);
  });

  it("without start and end, every payment", async () => {
    const hid = await charge();
    now = new Date("2027-01-01T00:00:00Z");
    const later = await charge();
    expect(ids(await list(""))).toEqual(expect.arrayContaining([hid, later]));
  });
});

describe("paging", () => {
  it("50 a page, newest first, each page's marker leading to the next until it is null", async () => {
    const made: string[] = [];
    for (let i = 0; i < 120; i++) {
      now = new Date(now.getTime() + 1_000);
      made.push(await charge(100 + i));
    }
    const first = await list("?start=2026-09-01&end=2026-09-01");
    expect(first.json.data.transactions).toHaveLength(50);
    expect(first.json.data.page).toEqual(expect.any(String));
    const second = await list(`?start=2026-09-01&end=2026-09-01&page=${encodeURIComponent(first.json.data.page)}`);
    const third = await list(`?start=2026-09-01&end=2026-09-01&page=${encodeURIComponent(second.json.data.page)}`);
    expect(third.json.data.page).toBeNull();
    const all = [...ids(first), ...ids(second), ...ids(third)];
    // The binding's 1-TWD authorisation came first, so it is listed last.
    expect(all).toHaveLength(121);
    expect(all.slice(0, 120)).toEqual([...made].reverse());
    expect(third.json.data.transactions.at(-1)).toMatchObject({ amount: 1, status: "refunded", refundAmount: 1 });
  });

  it("a full last page still carries a marker; the page after it is empty", async () => {
    for (let i = 0; i < 49; i++) await charge(); // with the binding authorisation: 50
    const first = await list("?start=2026-09-01&end=2026-09-01");
    expect(first.json.data.transactions).toHaveLength(50);
    const next = await list(`?start=2026-09-01&end=2026-09-01&page=${encodeURIComponent(first.json.data.page)}`);
    expect(next.json.data).toEqual({ transactions: [], page: null });
  });

  it("a marker Oen did not give is 500 F0001", async () => {
    for (const page of ["not-a-marker", Buffer.from("{}").toString("base64")]) {
      const answer = await list(`?start=2026-09-01&end=2026-09-01&page=${page}`);
      expect([answer.status, answer.json.code]).toEqual([500, "F0001"]);
    }
  });
});

describe("what is listed", () => {
  it("charges without productDetails, failed ones, refunds' effect, and a refund after payout's negative C… adjustment", async () => {
    const refunded = await charge(900);
    await callApi(sim, "POST", `/refunds/${refunded}`, { merchantId: MERCHANT_ID, amount: 300 });
    const paidOut = await charge(500);
    sim.payOut(paidOut);
    sim.refundInCrm(paidOut);
    const declining = await boundToken(sim, TEST_CARDS.declineInsufficientCredit);
    await callApi(sim, "POST", "/token/transactions", chargeBody(declining, "TL-declined", 700));

    const listed: OenTransaction[] = (await list("?start=2026-09-01&end=2026-09-01")).json.data.transactions;
    expect(listed.every((t) => !("productDetails" in t))).toBe(true);
    expect(listed.find((t) => t.id === refunded)).toMatchObject({ status: "refunded", refundAmount: 300, amount: 900 });
    expect(listed.find((t) => t.id === paidOut)).toMatchObject({ status: "refundedPostPayout", refundAmount: 500 });
    expect(listed.find((t) => t.orderId === "TL-declined")).toMatchObject({ status: "failed", amount: 700 });
    const adjustment = listed.find((t) => t.id.startsWith("C"));
    expect(adjustment).toMatchObject({ amount: -500 });
    expect(adjustment?.orderId).toBeUndefined();
    expect(listed.filter((t) => t.amount === 1 && t.orderId === undefined)).toHaveLength(2); // one per bound card
  });

  it("a charge made elsewhere and a duplicate of an order's charge", async () => {
    const hid = await charge(800);
    const foreign = sim.recordForeignCharge({ amount: 450 });
    const duplicate = sim.duplicateCharge(hid);
    const listed: OenTransaction[] = (await list("?start=2026-09-01&end=2026-09-01")).json.data.transactions;
    expect(listed.find((t) => t.id === foreign.id)).toMatchObject({ amount: 450, status: "charged", orderId: foreign.orderId });
    const sameOrder = listed.filter((t) => t.orderId === `TL-${seq}`);
    expect(sameOrder.map((t) => t.id).sort()).toEqual([hid, duplicate.id].sort());
    expect(sameOrder.every((t) => t.status === "charged" && t.amount === 800)).toBe(true);
    expect(sim.ledger.successfulCharges(`TL-${seq}`)).toHaveLength(2);
    expect(() => sim.duplicateCharge("P20260901NOTTHERE")).toThrow(/no successful charge/);
  });

  it("the admin API makes the same, for a simulator in another process", async () => {
    const hid = await charge(800);
    const foreign = await fetch(`${sim.url}/__sim/foreign-charges`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ amount: 300, orderId: "OTHER-1" }) });
    expect(foreign.status).toBe(201);
    expect(((await foreign.json()) as { transaction: OenTransaction }).transaction).toMatchObject({ orderId: "OTHER-1", amount: 300, status: "charged" });
    const duplicate = await fetch(`${sim.url}/__sim/transactions/${hid}/duplicate`, { method: "POST" });
    expect(duplicate.status).toBe(201);
    expect(sim.ledger.byOrder(`TL-${seq}`)).toHaveLength(2);
    expect((await fetch(`${sim.url}/__sim/transactions/P20260901NOTTHERE/duplicate`, { method: "POST" })).status).toBe(409);
  });
});

describe("the client", () => {
  it("listTransactions reads one page; transactionPages follows every marker", async () => {
    for (let i = 0; i < 60; i++) await charge();
    const first = await client().listTransactions({ start: "2026-09-01", end: "2026-09-01" });
    expect(first.transactions).toHaveLength(50);
    const pages: OenTransaction[][] = [];
    for await (const page of transactionPages(client(), { start: "2026-09-01", end: "2026-09-01" })) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([50, 11]);
    expect(new Set(pages.flat().map((t) => t.id)).size).toBe(61);
  });

  it("retries a 5xx of the list; refuses a date that is not YYYY-MM-DD before asking", async () => {
    await charge();
    sim.faults.set([{ on: "list", kind: "error_5xx", times: 1 }]);
    expect((await client().listTransactions({ start: "2026-09-01", end: "2026-09-01" })).transactions).toHaveLength(2);
    await expect(client().listTransactions({ start: "2026-9-1", end: "2026-09-01" })).rejects.toThrow(/start must be a date YYYY-MM-DD/);
  });
});
