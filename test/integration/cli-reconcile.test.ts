import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taipeiDateOf } from "../../src/reconciliation/taipei-day.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { runCli } from "../support/run-cli.ts";

// `billing reconcile` run as the real binary against the service's database and the simulator:
// each kind of difference the simulator can be told to make is found, and acted on.
let h: Harness;
const paid: Record<"plain" | "crm" | "doubled", { subscriptionId: string; invoiceId: string; attemptId: string; hid: string }> = {} as never;
let date: string;
let foreignHid: string;
let duplicateHid: string;
let firstEventId: string;

async function paidCharge(subscriptionId: string) {
  return eventually(async () =>
    h.database.db
      .selectFrom("charge_attempts")
      .innerJoin("invoices", "invoices.id", "charge_attempts.invoice_id")
      .select(["charge_attempts.id as attemptId", "charge_attempts.invoice_id as invoiceId", "charge_attempts.oen_transaction_hid as hid"])
      .where("invoices.subscription_id", "=", subscriptionId)
      .where("invoices.status", "=", "paid")
      .where("charge_attempts.status", "=", "succeeded")
      .executeTakeFirst(),
  );
}

beforeAll(async () => {
  h = await startHarness({ simulator: { bindingAuthorisations: true } });
  await h.api("PUT", "/v1/plans/monthly", samplePlan);
  for (const [name, customer] of [["plain", "cus_plain"], ["crm", "cus_crm"], ["doubled", "cus_doubled"]] as const) {
    const subscription = await subscribeWithCard(h, "monthly", customer);
    const charge = await paidCharge(subscription.id);
    paid[name] = { subscriptionId: subscription.id, invoiceId: charge.invoiceId, attemptId: charge.attemptId, hid: charge.hid! };
  }
  date = taipeiDateOf(new Date(h.simulator.ledger.get(paid.plain.hid)!.createdAt));
  // What the simulator is told to make: a refund in Oen's CRM, a second charge of one of our orders, a charge we never made.
  expect(h.simulator.refundInCrm(paid.crm.hid, { amount: 300, reason: "goodwill" }).kind).toBe("refunded");
  duplicateHid = h.simulator.duplicateCharge(paid.doubled.hid).id;
  foreignHid = h.simulator.recordForeignCharge({ amount: 450, orderId: "SHOP-77" }).id;
});
afterAll(async () => {
  await h?.close();
});

describe("billing reconcile", () => {
  it("finds an unknown transaction, a CRM refund and a double charge; records the refund and refunds the double charge", async () => {
    const run = await runCli(["--json", "reconcile", "--date", date], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`reconcile ${date}: page 1, \\d+ transactions listed`));
    const result = run.json;
    expect(result).toMatchObject({ date, status: "completed", runs: 1, error: null, eventId: expect.stringMatching(/^evt_/) });
    expect(result.counts).toEqual({
      listed: 8, // 3 charges, 3 card-binding authorisations, the duplicate and the foreign charge
      pages: 1,
      matched: 2,
      bindingAuthorisations: 3,
      otherPayments: 0,
      unknownTransactions: 1,
      missingAtOen: 0,
      crmRefunds: 1,
      statusMismatches: 0,
      doubleCharges: 1,
    });
    const byKind = Object.fromEntries(result.differences.map((d: { kind: string }) => [d.kind, d]));
    expect(byKind.unknown_transaction).toMatchObject({ oenTransactionId: foreignHid, orderId: "SHOP-77", amount: 450, oen: "charged", action: "none" });
    expect(byKind.crm_refund).toMatchObject({ oenTransactionId: paid.crm.hid, invoiceId: paid.crm.invoiceId, amount: 300, action: "refund_recorded", refundId: expect.stringMatching(/^rf_/) });
    expect(byKind.double_charge).toMatchObject({ oenTransactionId: duplicateHid, invoiceId: paid.doubled.invoiceId, amount: 899, action: "refund_planned", refundId: expect.stringMatching(/^rf_/) });

    // The CRM refund is on the invoice, with its event; nothing was sent to Oen for it.
    const crmRefund = await h.database.db.selectFrom("refunds").selectAll().where("id", "=", byKind.crm_refund.refundId).executeTakeFirstOrThrow();
    expect(crmRefund).toMatchObject({ cause: "crm", status: "succeeded", amount: 300, oen_transaction_hid: paid.crm.hid, charge_attempt_id: paid.crm.attemptId, sent_at: null });
    const crmInvoice = await h.database.db.selectFrom("invoices").select(["status", "amount_refunded"]).where("id", "=", paid.crm.invoiceId).executeTakeFirstOrThrow();
    expect(crmInvoice).toEqual({ status: "paid", amount_refunded: 300 });
    expect(h.simulator.refundRequests.filter((r) => r.transactionHid === paid.crm.hid)).toHaveLength(0);

    // The double charge is refunded once, through the API, by the service's refund worker (invariant 8).
    await eventually(async () => (await h.database.db.selectFrom("refunds").select("status").where("id", "=", byKind.double_charge.refundId).executeTakeFirst())?.status === "succeeded", 20_000, "the double charge's refund");
    expect(h.simulator.ledger.refunds(duplicateHid)).toEqual([expect.objectContaining({ amount: 899, channel: "api" })]);
    expect(h.simulator.ledger.get(paid.doubled.hid)).toMatchObject({ status: "charged", refundAmount: 0 });
    const doubledInvoice = await h.database.db.selectFrom("invoices").select(["status", "amount_refunded"]).where("id", "=", paid.doubled.invoiceId).executeTakeFirstOrThrow();
    expect(doubledInvoice).toEqual({ status: "paid", amount_refunded: 0 });

    const events = await h.database.db.selectFrom("platform_events").select(["id", "type", "data"]).where("type", "in", ["reconciliation.differences_found", "invoice.refunded", "invoice.double_charge_refunded"]).execute();
    expect(events.map((e) => e.type).sort()).toEqual(["invoice.double_charge_refunded", "invoice.refunded", "reconciliation.differences_found"]);
    const found = events.find((e) => e.type === "reconciliation.differences_found")!;
    expect(found.id).toBe(result.eventId);
    firstEventId = result.eventId;
    expect(found.data).toMatchObject({ date, counts: result.counts, differencesTruncated: false });
    expect((found.data.differences as unknown[]).length).toBe(3);
  });

  it("the day's row is served by GET /v1/reconciliations/:date", async () => {
    const answer = await h.api("GET", `/v1/reconciliations/${date}`);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ date, status: "completed", counts: { doubleCharges: 1, crmRefunds: 1, unknownTransactions: 1 } });
    expect(answer.json().differences).toHaveLength(3);
    expect((await h.api("GET", "/v1/reconciliations/2001-01-01")).statusCode).toBe(404);
    const bad = await h.api("GET", "/v1/reconciliations/2026-02-30");
    expect([bad.statusCode, bad.json().field]).toEqual([400, "date"]);
    const anonymous = await h.service.app!.inject({ method: "GET", url: `/v1/reconciliations/${date}` });
    expect(anonymous.statusCode).toBe(401);
  });

  it("run again, finds the same differences handled, and changes nothing more", async () => {
    const run = await runCli(["--json", "reconcile", "--date", date], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ runs: 2, counts: { crmRefunds: 1, doubleCharges: 1, unknownTransactions: 1 } });
    const byKind = Object.fromEntries(run.json.differences.map((d: { kind: string }) => [d.kind, d]));
    expect(byKind.crm_refund).toMatchObject({ action: "refund_recorded" });
    expect(byKind.double_charge).toMatchObject({ action: "refunded" });
    expect(await h.database.db.selectFrom("refunds").select("id").where("oen_transaction_hid", "in", [paid.crm.hid, duplicateHid]).execute()).toHaveLength(2);
    expect(h.simulator.refundRequests.filter((r) => r.transactionHid === duplicateHid)).toHaveLength(1);
    // The same differences are the same fact: no second event.
    expect(await h.database.db.selectFrom("platform_events").select("id").where("type", "=", "reconciliation.differences_found").execute()).toHaveLength(1);
    expect(run.json.eventId).toBe(firstEventId);
  });

  it("speaks to a person without --json, and refuses a day that has not begun", async () => {
    const run = await runCli(["reconcile", "--date", date], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`reconciliation of ${date} (run 3): 8 transactions listed in 1 pages, 2 of ours agree`);
    expect(run.stdout).toMatch(/double_charge\s+P\w+\s+in_\w+\s+899\s+refunded/);
    const future = await runCli(["reconcile", "--date", "2999-01-01"], h.env);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain("--date 2999-01-01 has not begun in Taipei");
  });

  it("a day Oen cannot list is a failed run, reported, with exit status 1", async () => {
    h.simulator.faults.set([{ on: "list", kind: "error_5xx" }]);
    try {
      const run = await runCli(["--json", "reconcile", "--date", "2026-01-05"], h.env);
      expect(run.code).toBe(1);
      expect(run.json).toMatchObject({ error: "failed", message: expect.stringContaining("GET /transactions") });
    } finally {
      h.simulator.faults.clear();
    }
    expect(await h.database.db.selectFrom("reconciliations").select(["status", "error"]).where("date", "=", "2026-01-05").executeTakeFirst()).toMatchObject({ status: "failed", error: expect.stringContaining("F0001") });
  });
});
