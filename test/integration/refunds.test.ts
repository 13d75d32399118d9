import { Worker } from "bullmq";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps.ts";
import { newId } from "../../src/ids.ts";
import type { ProductDetail } from "../../src/oen/types.ts";
import { createSideEffects } from "../../src/outbox/side-effects.ts";
import { QUEUE_NAMES } from "../../src/queues/queue-names.ts";
import type { RefundJob } from "../../src/queues/jobs.ts";
import { createRedis } from "../../src/queues/redis.ts";
import { enqueueRefund } from "../../src/refunds/enqueue-refund.ts";
import { pendingRefunds } from "../../src/refunds/pending-refunds.ts";
import { planRefund, type PlanRefundInput } from "../../src/refunds/plan-refund.ts";
import { processRefundJob } from "../../src/refunds/process-refund-job.ts";
import { recordCrmRefund } from "../../src/refunds/record-crm-refund.ts";
import { resolveRefund } from "../../src/refunds/resolve-refund.ts";
import { sendRefund } from "../../src/refunds/send-refund.ts";
import { eventually, startHarness, type Harness } from "../support/harness.ts";
import { seedSubscription } from "../support/notification-rig.ts";

// Invariant 7 against a real Postgres and the simulator over HTTP: a refund leaves at most
// once per Oen transaction, never for more than was charged, and an unknown outcome is
// settled by GET /transactions/{id}, never by sending again.
let h: Harness;
let deps: Deps;

beforeAll(async () => {
  // No service workers: these tests drive the refund engine themselves.
  h = await startHarness({ env: { ROLES: "ingress", OEN_REQUEST_TIMEOUT: "2s", OEN_LOOKUP_SETTLE: "2s" } });
  deps = h.service.deps;
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => h.simulator.faults.clear());

const AMOUNT = 899;
const LINES: ProductDetail[] = [{ productionCode: "PREMIUM-M", description: "Premium", quantity: 1, unit: "month", unitPrice: AMOUNT }];

interface Paid {
  invoiceId: string;
  subscriptionId: string;
  attemptId: string;
  hid: string;
  token: string;
  orderId: string;
}

/** A paid invoice whose charge is a real simulator transaction (rows seeded, the charge made over HTTP). */
async function paidInvoice(status: "paid" | "open" | "void" = "paid"): Promise<Paid> {
  const db = h.database.db;
  const subscriptionId = await seedSubscription(db);
  const { id: checkoutId } = await deps.oen.createCheckoutToken({ successUrl: null, failureUrl: null });
  const bound = h.simulator.bindCard(checkoutId, { cardNumber: "4242424242424242", expiry: "12/39", cvc: "123", email: "ming@example.com" });
  if (bound.kind !== "bound") throw new Error(bound.kind);
  await db
    .insertInto("checkout_sessions")
    .values({ id: checkoutId, subscription_id: subscriptionId, purpose: "subscribe", custom_id: checkoutId, status: "completed", failure_message: null, expires_at: new Date(Date.now() + 600_000), completed_at: new Date() })
    .execute();
  const tokenId = newId("pt");
  await db.insertInto("payment_tokens").values({ id: tokenId, subscription_id: subscriptionId, checkout_session_id: checkoutId, key_id: "k1", ciphertext: "sealed", last4: "4242", status: "active", deactivated_at: null }).execute();
  const invoiceId = newId("in");
  await db
    .insertInto("invoices")
    .values({
      id: invoiceId,
      subscription_id: subscriptionId,
      cycle: 1,
      status,
      amount: AMOUNT,
      product_details: JSON.stringify(LINES),
      period_start: new Date("2026-11-01T00:00:00Z"),
      period_end: new Date("2026-12-01T00:00:00Z"),
      next_attempt_at: null,
      first_failed_at: null,
      paid_at: status === "paid" ? new Date() : null,
    })
    .execute();
  const orderId = `${invoiceId}-1`;
  const outcome = await deps.oen.chargeToken({ amount: AMOUNT, token: bound.token, orderId, productDetails: LINES });
  if (outcome.kind !== "succeeded") throw new Error(outcome.kind);
  const attemptId = newId("ca");
  await db
    .insertInto("charge_attempts")
    .values({
      id: attemptId,
      invoice_id: invoiceId,
      attempt_no: 1,
      order_id: orderId,
      payment_token_id: tokenId,
      amount: AMOUNT,
      status: "succeeded",
      code: null,
      message: null,
      oen_transaction_hid: outcome.transactionHid,
      auth_code: outcome.authCode ?? null,
      last_lookup_at: null,
      resolved_at: new Date(),
      clock_at: new Date(),
    })
    .execute();
  return { invoiceId, subscriptionId, attemptId, hid: outcome.transactionHid, token: bound.token, orderId };
}

/** Oen charges the same orderId again (no idempotency): a duplicate no attempt row stands for. */
async function duplicateOf(paid: Paid): Promise<string> {
  const outcome = await deps.oen.chargeToken({ amount: AMOUNT, token: paid.token, orderId: paid.orderId, productDetails: LINES });
  if (outcome.kind !== "succeeded") throw new Error(outcome.kind);
  return outcome.transactionHid;
}

function plan(paid: Paid, overrides: Partial<PlanRefundInput> = {}) {
  const input = { invoiceId: paid.invoiceId, chargeAttemptId: paid.attemptId, oenTransactionHid: paid.hid, amount: 300, reason: "unused days", cause: "requested", ...overrides } as PlanRefundInput;
  return h.database.db.transaction().execute((tx) => planRefund(tx, input));
}

async function planned(paid: Paid, overrides: Partial<PlanRefundInput> = {}) {
  const result = await plan(paid, overrides);
  if (result.kind !== "planned") throw new Error(`not planned: ${result.kind}`);
  return result.refund;
}

const refundRow = (id: string) => h.database.db.selectFrom("refunds").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const invoiceRow = (id: string) => h.database.db.selectFrom("invoices").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const requestsFor = (hid: string) => h.simulator.refundRequests.filter((r) => r.transactionHid === hid);
const eventsOf = (type: string) => h.database.db.selectFrom("platform_events").selectAll().where("type", "=", type).execute();

describe("a refund planned and sent", () => {
  it("succeeds once: the ledger shows one refund, the invoice its amount, the platform an event", async () => {
    const paid = await paidInvoice();
    const refund = await planned(paid);
    expect(refund).toMatchObject({ status: "pending", sent_at: null, amount: 300, cause: "requested", charge_attempt_id: paid.attemptId, oen_transaction_hid: paid.hid });
    const sent = await sendRefund(deps, refund.id);
    expect(sent).toMatchObject({ kind: "sent", outcome: "succeeded", settled: { applied: true, refund: { status: "succeeded" }, invoice: { amount_refunded: 300 } } });
    expect(h.simulator.ledger.refunds(paid.hid)).toMatchObject([{ amount: 300, reason: "unused days", channel: "api", productDetails: [{ productionCode: "PREMIUM-M", quantity: 1, unitPrice: 300 }] }]);
    expect(requestsFor(paid.hid)).toHaveLength(1);
    const row = await refundRow(refund.id);
    expect(row.sent_at).not.toBeNull();
    expect(row.resolved_at).not.toBeNull();
    expect((await invoiceRow(paid.invoiceId)).amount_refunded).toBe(300);
    const events = (await eventsOf("invoice.refunded")).filter((e) => e.dedupe_key === `invoice.refunded:${refund.id}`);
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ invoiceId: paid.invoiceId, subscriptionId: paid.subscriptionId, refund: { id: refund.id, amount: 300, status: "succeeded", oenTransactionId: paid.hid }, invoice: { amountRefunded: 300 } });

    // Sending again does nothing: the row says it left.
    expect(await sendRefund(deps, refund.id)).toMatchObject({ kind: "not_sendable", refund: { status: "succeeded" } });
    expect(requestsFor(paid.hid)).toHaveLength(1);
  });

  it("a second plan on the same transaction is refused before anything is sent (pending or succeeded)", async () => {
    const paid = await paidInvoice();
    const first = await planned(paid, { amount: 100 });
    expect(await plan(paid, { amount: 100 })).toMatchObject({ kind: "already_refunded", refund: { id: first.id, status: "pending" } });
    await sendRefund(deps, first.id);
    expect(await plan(paid, { amount: 100, cause: "terminate" })).toMatchObject({ kind: "already_refunded", refund: { id: first.id, status: "succeeded" } });
    expect(requestsFor(paid.hid)).toHaveLength(1);
    expect(await h.database.db.selectFrom("refunds").select("id").where("oen_transaction_hid", "=", paid.hid).execute()).toHaveLength(1);
  });

  it("concurrent plans on one transaction: exactly one is planned", async () => {
    const paid = await paidInvoice();
    const results = await Promise.all(Array.from({ length: 5 }, () => plan(paid, { amount: 200 })));
    expect(results.filter((r) => r.kind === "planned")).toHaveLength(1);
    expect(results.filter((r) => r.kind === "already_refunded")).toHaveLength(4);
  });

  it("through the queue: enqueueRefund and processRefundJob send it", async () => {
    const paid = await paidInvoice();
    const connection = createRedis(h.config.redisUrl, "worker");
    const worker = new Worker<RefundJob>(QUEUE_NAMES.charges, (job) => processRefundJob(deps, job.data.refundId), { connection, prefix: h.config.queuePrefix });
    try {
      const refund = await planned(paid, { amount: AMOUNT });
      await enqueueRefund(deps, refund.id);
      await enqueueRefund(deps, refund.id);
      await eventually(async () => (await refundRow(refund.id)).status === "succeeded", 10_000, "the refund to succeed");
      expect(requestsFor(paid.hid)).toHaveLength(1);

      // A dropped answer: the job settles it by lookup on its next step, without a second POST.
      const other = await paidInvoice();
      h.simulator.faults.set([{ on: "refund", kind: "drop_after_refund", times: 1 }]);
      const unknown = await planned(other, { amount: 500 });
      await enqueueRefund(deps, unknown.id);
      await eventually(async () => (await refundRow(unknown.id)).status === "succeeded", 15_000, "the unknown refund to be resolved");
      expect(requestsFor(other.hid)).toHaveLength(1);
      expect((await refundRow(unknown.id)).lookup_count).toBe(0);
      expect((await invoiceRow(other.invoiceId)).amount_refunded).toBe(500);
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });
});

describe("an answer lost", () => {
  it.each(["drop_after_refund", "gateway_timeout_after_refund"] as const)("%s: unknown, then settled succeeded by lookup without a second POST", async (kind) => {
    const paid = await paidInvoice();
    const refund = await planned(paid, { amount: 400 });
    h.simulator.faults.set([{ on: "refund", kind, times: 1 }]);
    expect(await sendRefund(deps, refund.id)).toMatchObject({ kind: "sent", outcome: "unknown", settled: { refund: { status: "unknown" } } });
    expect((await invoiceRow(paid.invoiceId)).amount_refunded).toBe(0);
    expect(await sendRefund(deps, refund.id)).toMatchObject({ kind: "not_sendable" });
    expect(await resolveRefund(deps, refund.id)).toMatchObject({ kind: "settled", verdict: "succeeded", refund: { status: "succeeded" } });
    expect(requestsFor(paid.hid)).toHaveLength(1);
    expect(h.simulator.ledger.refunds(paid.hid)).toHaveLength(1);
    expect((await invoiceRow(paid.invoiceId)).amount_refunded).toBe(400);
    expect((await eventsOf("invoice.refunded")).filter((e) => e.dedupe_key === `invoice.refunded:${refund.id}`)).toHaveLength(1);
    expect(await resolveRefund(deps, refund.id)).toMatchObject({ kind: "already_settled" });
  });

  it("504 before Oen did anything: waits until the settle time, then failed; it may then be planned again", async () => {
    const paid = await paidInvoice();
    const refund = await planned(paid, { amount: 250 });
    h.simulator.faults.set([{ on: "refund", kind: "gateway_timeout", times: 1 }]);
    expect(await sendRefund(deps, refund.id)).toMatchObject({ outcome: "unknown", settled: { refund: { status: "unknown", code: "gateway_timeout" } } });
    const early = await resolveRefund(deps, refund.id);
    expect(early).toMatchObject({ kind: "wait", why: "pending" });
    expect(early.kind === "wait" && early.retryInMs).toBeLessThanOrEqual(2_000);
    expect(await plan(paid, { amount: 250 })).toMatchObject({ kind: "already_refunded" });
    await eventually(async () => {
      const resolved = await resolveRefund(deps, refund.id);
      return resolved.kind === "settled" && resolved;
    }, 10_000, "the lookup to prove nothing was refunded");
    expect(await refundRow(refund.id)).toMatchObject({ status: "failed", code: "not_refunded", lookup_count: expect.any(Number) });
    expect((await refundRow(refund.id)).lookup_count).toBeGreaterThan(0);
    const again = await planned(paid, { amount: 250 });
    expect(await sendRefund(deps, again.id)).toMatchObject({ outcome: "succeeded" });
    expect(requestsFor(paid.hid)).toHaveLength(2);
    expect(h.simulator.ledger.refunds(paid.hid)).toHaveLength(1);
    expect((await invoiceRow(paid.invoiceId)).amount_refunded).toBe(250);
  });

  it("R0001: Oen asks for a lookup first; the lookup settles it", async () => {
    const paid = await paidInvoice();
    const refund = await planned(paid, { amount: 100 });
    h.simulator.faults.set([{ on: "refund", kind: "refund_failed", times: 1 }]);
    expect(await sendRefund(deps, refund.id)).toMatchObject({ outcome: "refused", settled: { refund: { status: "unknown", code: "R0001" } } });
    await h.database.db.updateTable("refunds").set({ sent_at: sql<Date>`now() - interval '1 minute'` }).where("id", "=", refund.id).execute();
    expect(await resolveRefund(deps, refund.id)).toMatchObject({ kind: "settled", verdict: "failed", refund: { status: "failed", code: "not_refunded", message: expect.stringContaining("R0001") } });
  });

  it("refusals are final: V0002 after a CRM refund, and the CRM refund is then recorded", async () => {
    const paid = await paidInvoice();
    expect(h.simulator.refundInCrm(paid.hid, { amount: 150 })).toMatchObject({ kind: "refunded" });
    const refund = await planned(paid, { amount: 100 });
    expect(await sendRefund(deps, refund.id)).toMatchObject({ outcome: "refused", settled: { refund: { status: "failed", code: "V0002" } } });
    expect(h.simulator.ledger.refunds(paid.hid).map((r) => r.channel)).toEqual(["crm"]);

    const effects = createSideEffects(deps);
    const input = { invoiceId: paid.invoiceId, chargeAttemptId: paid.attemptId, oenTransactionHid: paid.hid, amount: 150, reason: null };
    const recorded = await h.database.db.transaction().execute((tx) => recordCrmRefund(deps, tx, input, effects));
    await effects.flush();
    expect(recorded).toMatchObject({ kind: "recorded", refund: { status: "succeeded", cause: "crm", sent_at: null, amount: 150 } });
    expect((await invoiceRow(paid.invoiceId)).amount_refunded).toBe(150);
    expect(await h.database.db.transaction().execute((tx) => recordCrmRefund(deps, tx, input, effects))).toMatchObject({ kind: "already_recorded" });
    expect((await eventsOf("invoice.refunded")).filter((e) => e.dedupe_key === `invoice.refunded:${recorded.refund.id}`)).toHaveLength(1);
  });
});

describe("a worker killed between the commit of sent_at and the answer", () => {
  it("is in flight for a while (no lookup), then settled by lookup: the refund had reached Oen", async () => {
    const paid = await paidInvoice();
    const refund = await planned(paid, { amount: 600 });
    // What the dead worker did: committed sent_at, and its request reached Oen.
    await h.database.db.updateTable("refunds").set({ sent_at: sql<Date>`now()` }).where("id", "=", refund.id).execute();
    const made = await deps.oen.refund(paid.hid, { amount: 600 });
    expect(made.kind).toBe("succeeded");

    expect(await resolveRefund(deps, refund.id)).toMatchObject({ kind: "wait", why: "in_flight" });
    expect(await sendRefund(deps, refund.id)).toMatchObject({ kind: "not_sendable" });
    expect((await pendingRefunds(h.database.db, 1000, 7_000)).map((r) => r.id)).not.toContain(refund.id);
    expect((await pendingRefunds(h.database.db, 1000)).map((r) => r.id)).toContain(refund.id);

    await h.database.db.updateTable("refunds").set({ sent_at: sql<Date>`now() - interval '1 minute'` }).where("id", "=", refund.id).execute();
    expect((await pendingRefunds(h.database.db, 1000, 7_000)).map((r) => r.id)).toContain(refund.id);
    expect(await processRefundJob(deps, refund.id)).toBe("resolved: succeeded");
    expect(requestsFor(paid.hid)).toHaveLength(1);
    expect((await invoiceRow(paid.invoiceId)).amount_refunded).toBe(600);
  });

  it("… and settled failed when it had not reached Oen", async () => {
    const paid = await paidInvoice();
    const refund = await planned(paid, { amount: 600 });
    await h.database.db.updateTable("refunds").set({ sent_at: sql<Date>`now() - interval '1 minute'` }).where("id", "=", refund.id).execute();
    expect(await resolveRefund(deps, refund.id)).toMatchObject({ kind: "settled", verdict: "failed" });
    expect(requestsFor(paid.hid)).toHaveLength(0);
  });
});

describe("limits", () => {
  it("refuses more than the transaction, and what is not the invoice's to refund", async () => {
    const paid = await paidInvoice();
    expect(await plan(paid, { amount: AMOUNT + 1 })).toEqual({ kind: "exceeds_remaining", remaining: AMOUNT });
    await expect(plan(paid, { amount: 0 })).rejects.toThrow(RangeError);
    const open = await paidInvoice("open");
    expect(await plan(open)).toEqual({ kind: "not_refundable", why: "invoice_not_paid" });
    const other = await paidInvoice();
    expect(await plan(paid, { oenTransactionHid: other.hid })).toEqual({ kind: "not_refundable", why: "attempt_mismatch" });
    expect(await plan(paid, { invoiceId: "in_missing" })).toEqual({ kind: "not_refundable", why: "invoice_missing" });
    expect(requestsFor(paid.hid)).toHaveLength(0);
  });

  it("the invoice's remaining counts refunds in flight and recorded", async () => {
    const paid = await paidInvoice();
    // A refund made in the CRM of the invoice's own transaction leaves only the rest of the invoice.
    await h.database.db.updateTable("invoices").set({ amount_refunded: 800 }).where("id", "=", paid.invoiceId).execute();
    expect(await plan(paid, { amount: 100 })).toEqual({ kind: "exceeds_remaining", remaining: 99 });
    expect(await plan(paid, { amount: 99 })).toMatchObject({ kind: "planned" });
  });

  it("Postgres enforces one live refund per transaction, amount ≥ 1 and amount_refunded within the invoice", async () => {
    const paid = await paidInvoice();
    const row = (id: string, status: "pending" | "failed", amount = 10) => ({
      id,
      invoice_id: paid.invoiceId,
      charge_attempt_id: null,
      oen_transaction_hid: paid.hid,
      amount,
      reason: null,
      cause: "requested" as const,
      status,
      sent_at: null,
      code: null,
      message: null,
      last_lookup_at: null,
      resolved_at: null,
    });
    const db = h.database.db;
    await db.insertInto("refunds").values([row("rf_a", "failed"), row("rf_b", "failed"), row("rf_c", "pending")]).execute();
    await expect(db.insertInto("refunds").values(row("rf_d", "pending")).execute()).rejects.toThrow(/refunds_one_per_transaction/);
    await expect(db.insertInto("refunds").values(row("rf_e", "failed", 0)).execute()).rejects.toThrow(/check/);
    await expect(db.updateTable("invoices").set({ amount_refunded: AMOUNT + 1 }).where("id", "=", paid.invoiceId).execute()).rejects.toThrow(/invoices_amount_refunded/);
    await expect(db.updateTable("invoices").set({ amount_refunded: -1 }).where("id", "=", paid.invoiceId).execute()).rejects.toThrow(/invoices_amount_refunded/);
  });
});

describe("a double charge", () => {
  it("refunds the duplicate in full, not counted against the invoice, with its own event", async () => {
    const paid = await paidInvoice();
    const duplicate = await duplicateOf(paid);
    const base = { chargeAttemptId: null, oenTransactionHid: duplicate, cause: "double_charge", reason: "charged twice" } as const;
    expect(await plan(paid, { ...base, transactionAmount: AMOUNT, amount: AMOUNT + 1 })).toEqual({ kind: "exceeds_remaining", remaining: AMOUNT });
    const refund = await planned(paid, { ...base, transactionAmount: AMOUNT, amount: AMOUNT });
    expect(refund.charge_attempt_id).toBeNull();
    expect(await sendRefund(deps, refund.id)).toMatchObject({ outcome: "succeeded" });
    expect(h.simulator.ledger.refunds(duplicate)).toMatchObject([{ amount: AMOUNT, productDetails: LINES }]);
    expect(h.simulator.ledger.refunds(paid.hid)).toEqual([]);
    expect((await invoiceRow(paid.invoiceId)).amount_refunded).toBe(0);
    expect((await eventsOf("invoice.double_charge_refunded")).filter((e) => e.dedupe_key === `invoice.double_charge_refunded:${refund.id}`)).toHaveLength(1);
    expect((await eventsOf("invoice.refunded")).filter((e) => e.dedupe_key === `invoice.refunded:${refund.id}`)).toHaveLength(0);
    // The invoice's own charge can still be refunded in full.
    expect(await plan(paid, { amount: AMOUNT })).toMatchObject({ kind: "planned" });
  });

  it("a charge taken for a void invoice is refundable as a double charge only", async () => {
    const voided = await paidInvoice("void");
    expect(await plan(voided, { amount: AMOUNT })).toEqual({ kind: "not_refundable", why: "invoice_not_paid" });
    const refund = await planned(voided, { amount: AMOUNT, cause: "double_charge" });
    expect(await sendRefund(deps, refund.id)).toMatchObject({ outcome: "succeeded", settled: { invoice: { status: "void", amount_refunded: 0 } } });
  });
});
