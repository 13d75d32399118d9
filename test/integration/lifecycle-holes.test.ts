import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimAttempt } from "../../src/charges/claim-attempt.ts";
import { sendClaimed } from "../../src/charges/charge-invoice.ts";
import { createSideEffects } from "../../src/outbox/side-effects.ts";
import { TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { checkoutIdOf } from "../support/webhook-capture.ts";

// Holes a review found in the lifecycle; each of these failed before the lifecycle got one owner.
describe("lifecycle holes", () => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await startHarness({ env: { OEN_REQUEST_TIMEOUT: "4s", RENEWAL_SWEEP_INTERVAL: "1s" } });
    await h.api("PUT", "/v1/plans/premium", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  const attemptsOf = async (subscriptionId: string) => {
    const invoices = (await h.api("GET", `/v1/subscriptions/${subscriptionId}/invoices`)).json().data;
    return { invoice: invoices[0], attempts: (invoices[0]?.attempts ?? []) as Array<{ outcome: string; code: string | null }> };
  };

  it("a card replaced while a charge on the old card is in flight: the old card's hard decline does not count against the new card, which is charged", async () => {
    // The old card's answer (T0003, expired) takes 2.5 s; the new card is bound meanwhile.
    h.simulator.faults.set([{ on: "charge", kind: "latency", latencyMs: 2_500, times: 1 }]);
    const subscription = await subscribeWithCard(h, "premium", `cus_${n++}`, { number: TEST_CARDS.declineExpired });
    await eventually(() => h.database.db.selectFrom("charge_attempts").select("id").where("status", "=", "sending").executeTakeFirst(), 10_000, "the first charge to be in flight");
    const update = (await h.api("POST", `/v1/subscriptions/${subscription.id}/payment-method`, {
      successUrl: "https://platform.example.com/ok",
      failureUrl: "https://platform.example.com/failed",
    })).json();
    h.simulator.bindCard(checkoutIdOf(update.checkoutUrl), { cardNumber: TEST_CARDS.success, expiry: "12/39", cvc: "123", email: "ming@example.com" });

    const paid = await eventually(async () => {
      const { invoice, attempts } = await attemptsOf(subscription.id);
      return invoice.status === "paid" && attempts;
    }, 20_000, "the invoice to be paid on the new card");
    expect(paid.map((a) => [a.outcome, a.code])).toEqual([
      ["declined", "T0003"],
      ["succeeded", null],
    ]);
    const view = (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json();
    expect(view).toMatchObject({ status: "active", card: { last4: "4242" } });
    // No new-card deadline is left behind that could cancel the subscription later.
    const invoice = await h.database.db.selectFrom("invoices").select("dunning_deadline_at").where("subscription_id", "=", subscription.id).executeTakeFirstOrThrow();
    expect(invoice.dunning_deadline_at).toBeNull();
  });

  it("a cancel during a charge does not keep the money: the success on the void invoice is refunded, once, with invoice.double_charge_refunded", async () => {
    h.simulator.faults.set([{ on: "charge", kind: "latency", latencyMs: 1_500, times: 1 }]);
    const subscription = await subscribeWithCard(h, "premium", `cus_${n++}`);
    const attempt = await eventually(
      () => h.database.db.selectFrom("charge_attempts as a").innerJoin("invoices as i", "i.id", "a.invoice_id").select(["a.id", "a.invoice_id"]).where("i.subscription_id", "=", subscription.id).where("a.status", "=", "sending").executeTakeFirst(),
      10_000,
      "the charge in flight",
    );
    expect((await h.api("POST", `/v1/subscriptions/${subscription.id}/cancel`, { atPeriodEnd: false })).json()).toMatchObject({ status: "canceled" });
    const refund = await eventually(async () => {
      const row = await h.database.db.selectFrom("refunds").selectAll().where("invoice_id", "=", attempt.invoice_id).executeTakeFirst();
      return row?.status === "succeeded" && row;
    }, 20_000, "the double charge refunded");
    const charged = await h.database.db.selectFrom("charge_attempts").selectAll().where("id", "=", attempt.id).executeTakeFirstOrThrow();
    expect(charged.status).toBe("succeeded");
    expect(refund).toMatchObject({ cause: "double_charge", amount: charged.amount, oen_transaction_hid: charged.oen_transaction_hid });
    expect(h.simulator.ledger.refunds(charged.oen_transaction_hid!)).toHaveLength(1);
    const invoice = await h.database.db.selectFrom("invoices").select(["status", "amount_refunded"]).where("id", "=", attempt.invoice_id).executeTakeFirstOrThrow();
    expect(invoice).toEqual({ status: "void", amount_refunded: 0 });
    const events = await h.database.db.selectFrom("platform_events").select("type").where("dedupe_key", "like", `%${refund.id}%`).execute();
    expect(events.map((e) => e.type)).toEqual(["invoice.double_charge_refunded"]);
  });

  it("an attempt whose outcome stays unknown keeps exactly one lookup job however many sweeps pass", async () => {
    h.simulator.faults.set([
      { on: "charge", kind: "gateway_timeout" },
      { on: "lookup", kind: "lookup_5xx" },
    ]);
    try {
      const subscription = await subscribeWithCard(h, "premium", `cus_${n++}`);
      const attempt = await eventually(
        () => h.database.db.selectFrom("charge_attempts as a").innerJoin("invoices as i", "i.id", "a.invoice_id").select(["a.id", "a.lookup_count"]).where("i.subscription_id", "=", subscription.id).where("a.status", "=", "unknown").executeTakeFirst(),
        10_000,
        "an unknown attempt",
      );
      // Several sweeps (1 s apart) and several failed lookups later…
      await eventually(async () => {
        const row = await h.database.db.selectFrom("charge_attempts").select("lookup_count").where("id", "=", attempt.id).executeTakeFirstOrThrow();
        return row.lookup_count >= 3;
      }, 30_000, "three lookups");
      await new Promise((r) => setTimeout(r, 2_500));
      const jobs = await h.service.deps.queues.lookups.getJobs(["waiting", "delayed", "active", "prioritized", "failed", "completed"]);
      expect(jobs.filter((j) => j.data.attemptId === attempt.id)).toHaveLength(1);
      const chargeQueueLookups = (await h.service.deps.queues.charges.getJobs(["waiting", "delayed", "active", "failed"])).filter((j) => j.name === "resolve");
      expect(chargeQueueLookups).toEqual([]);
    } finally {
      h.simulator.faults.clear();
    }
  });

  it("a worker paused past the abandon threshold between claim and send does not send the stale attempt", async () => {
    const subscription = await subscribeWithCard(h, "premium", `cus_${n++}`);
    const invoice = await eventually(async () => {
      const row = await h.database.db.selectFrom("invoices").selectAll().where("subscription_id", "=", subscription.id).executeTakeFirst();
      return row?.status === "paid" && row;
    });
    // A second invoice for the same card, due only on a far-off day (so no sweep takes it), claimed by
    // a worker whose clock is there and which then sleeps for an hour before sending.
    const farOff = new Date("2100-01-01T00:00:00Z");
    const { id: _id, created_at: _c, updated_at: _u, ...rest } = invoice;
    const second = await h.database.db
      .insertInto("invoices")
      .values({ ...rest, id: `${invoice.id}x`, cycle: 2, status: "open", paid_at: null, attempt_count: 0, next_attempt_at: farOff, product_details: JSON.stringify(invoice.product_details) })
      .returningAll()
      .executeTakeFirstOrThrow();
    const worker = { ...h.service.deps, clock: { now: () => farOff } };
    const claim = await claimAttempt(worker, second.id, createSideEffects(worker));
    expect(claim.kind).toBe("claimed");
    if (claim.kind !== "claimed") return;
    await sql`update charge_attempts set created_at = now() - interval '1 hour' where id = ${claim.attempt.id}`.execute(h.database.db);
    const result = await sendClaimed(worker, { ...claim, startedAt: { monotonic: claim.startedAt.monotonic - 3_600_000, wall: claim.startedAt.wall - 3_600_000 } });
    expect(result).toEqual({ kind: "stale", orderId: claim.attempt.order_id });
    expect(h.simulator.ledger.byOrder(claim.attempt.order_id)).toEqual([]);
  });
});
