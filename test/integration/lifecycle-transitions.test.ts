import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import type { Db } from "../../src/db/connect.ts";
import type { Plan, SubscriptionStatus } from "../../src/db/database.ts";
import * as invoices from "../../src/invoices/invoice-transitions.ts";
import { silentLogger } from "../../src/log.ts";
import { createSideEffects, type CollectableInvoice, type SideEffects } from "../../src/outbox/side-effects.ts";
import * as subscriptions from "../../src/subscriptions/subscription-transitions.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-services.ts";

// The transitions tested the way graphile-worker tests its SQL operations: a
// fresh database holding a known mix of rows, one transition applied, then
// what changed and, as much, what did not.

const NOW = new Date("2026-12-01T04:00:00Z");
const ZONE = "Asia/Taipei";
const STATUSES: SubscriptionStatus[] = ["incomplete", "incomplete_expired", "active", "past_due", "unpaid", "canceled"];
const config = loadConfig({ NODE_ENV: "test" });

interface Recorded extends SideEffects {
  charges: CollectableInvoice[];
}

/** The real outbox writer (notices and events go to Postgres), with its jobs recorded instead of enqueued. */
function recordingEffects(): Recorded {
  const inner = createSideEffects({ db: {} as never, queues: {} as never, config, logger: silentLogger, clock: { now: () => NOW } });
  const charges: CollectableInvoice[] = [];
  return { ...inner, charges, charge: (invoice) => charges.push(invoice), resolve: () => {}, refund: () => {}, flush: async () => {} };
}

let database: TestDatabase;
let db: Db;
let plan: Plan;

/** One subscription per status (id `sub_{status}`), each with a paid cycle 1 and an open cycle 2 (`in_{status}_1`, `in_{status}_2`). */
async function seed(): Promise<void> {
  plan = await db
    .insertInto("plans")
    .values({ id: "basic", name: "Basic", amount: 300, interval: "month", interval_count: 1, product_code: "B", description: "Basic", unit: "月" })
    .returningAll()
    .executeTakeFirstOrThrow();
  await db.insertInto("customers").values({ id: "cus", name: "王小明", email: "ming@example.com" }).execute();
  const anchor = new Date("2026-10-01T04:00:00Z");
  for (const status of STATUSES) {
    const billed = status !== "incomplete" && status !== "incomplete_expired";
    await db
      .insertInto("subscriptions")
      .values({
        id: `sub_${status}`,
        customer_id: "cus",
        plan_id: "basic",
        status,
        success_url: "https://example.com/ok",
        failure_url: "https://example.com/failed",
        billing_anchor: billed ? anchor : null,
        current_cycle: billed ? 2 : 0,
        current_period_start: billed ? new Date("2026-11-01T04:00:00Z") : null,
        current_period_end: billed ? new Date("2026-12-01T04:00:00Z") : null,
        canceled_at: status === "canceled" ? anchor : null,
        ended_at: status === "canceled" ? anchor : null,
        next_renewal_at: billed && status !== "canceled" ? new Date("2026-12-01T04:00:00Z") : null,
      })
      .execute();
    if (!billed) continue;
    // Each billed subscription's card (`pm_{status}`), active but for the canceled one's.
    await db.insertInto("checkout_sessions").values({ id: `cs_${status}`, subscription_id: `sub_${status}`, purpose: "subscribe", custom_id: `custom_${status}`, status: "completed", expires_at: anchor }).execute();
    await db.insertInto("payment_tokens").values({ id: `pm_${status}`, subscription_id: `sub_${status}`, checkout_session_id: `cs_${status}`, key_id: "k", ciphertext: "x", status: status === "canceled" ? "inactive" : "active" }).execute();
    for (const cycle of [1, 2]) {
      await db
        .insertInto("invoices")
        .values({
          id: `in_${status}_${cycle}`,
          subscription_id: `sub_${status}`,
          cycle,
          status: cycle === 1 ? "paid" : status === "canceled" ? "void" : "open",
          amount: 300,
          product_details: JSON.stringify([{ productionCode: "B", description: "Basic", quantity: 1, unit: "月", unitPrice: 300 }]),
          period_start: new Date(`2026-${cycle === 1 ? "10" : "11"}-01T04:00:00Z`),
          period_end: new Date(`2026-${cycle === 1 ? "11" : "12"}-01T04:00:00Z`),
          next_attempt_at: cycle === 2 && status !== "canceled" ? new Date("2026-11-20T00:00:00Z") : null,
          first_failed_at: null,
          paid_at: cycle === 1 ? new Date("2026-10-01T04:00:00Z") : null,
        })
        .execute();
    }
  }
}

async function snapshot() {
  return {
    subscriptions: await db.selectFrom("subscriptions").selectAll().orderBy("id").execute(),
    invoices: await db.selectFrom("invoices").selectAll().orderBy("id").execute(),
    events: await db.selectFrom("platform_events").select(["type", "dedupe_key"]).orderBy("dedupe_key").execute(),
    notices: await db.selectFrom("notices").select(["subscription_id", "cycle", "kind"]).orderBy("kind").execute(),
  };
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** Rows (by id) that differ between two snapshots, and the events and notices added. */
function changes(before: Snapshot, after: Snapshot) {
  const changed = (a: Array<{ id: string }>, b: Array<{ id: string }>) =>
    b.filter((row) => JSON.stringify(row) !== JSON.stringify(a.find((old) => old.id === row.id))).map((row) => row.id);
  return {
    subscriptions: changed(before.subscriptions, after.subscriptions),
    invoices: changed(before.invoices, after.invoices),
    events: after.events.filter((e) => !before.events.some((old) => old.dedupe_key === e.dedupe_key)).map((e) => e.type),
    notices: after.notices.length - before.notices.length,
  };
}

/** Applies one transition in a transaction and reports what it returned and what changed. */
async function apply<T>(run: (tx: Db, effects: Recorded) => Promise<T>) {
  const before = await snapshot();
  const effects = recordingEffects();
  const result = await db.transaction().execute((tx) => run(tx, effects));
  return { result, effects, changed: changes(before, await snapshot()), after: await snapshot() };
}

const subscriptionRow = (s: Snapshot, id: string) => s.subscriptions.find((row) => row.id === id)!;
const invoiceRow = (s: Snapshot, id: string) => s.invoices.find((row) => row.id === id)!;
const nothing = { subscriptions: [], invoices: [], events: [], notices: 0 };

/** attemptsStarted over the claims of one attempt, as the charge claim's statement runs it. */
async function attemptStarted(tx: Db, invoiceId: string, attemptNo: number, now: Date, cardId: string) {
  const claims = sql`select ${invoiceId}::text as invoice_id, ${attemptNo}::int as attempt_no, ${cardId}::text as card_id, ${now}::timestamptz as now`;
  return (await sql`with claims as (${claims}) ${invoices.attemptsStarted("claims")}`.execute(tx)).rows[0];
}

beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
  await seed();
});
afterEach(async () => {
  await database.drop();
});

describe("subscription transitions", () => {
  it.each(STATUSES)("activate from %s", async (status) => {
    const { result, changed, after, effects } = await apply((tx, fx) =>
      subscriptions.activate(tx, fx, { id: `sub_${status}`, plan, paymentMethod: { id: "pm_1", last4: "4242" }, now: NOW, zone: ZONE }),
    );
    if (status === "incomplete" || status === "incomplete_expired") {
      expect(result?.subscription).toMatchObject({ status: "active", current_cycle: 1, billing_anchor: NOW });
      const invoice = result!.invoice!;
      expect(changed).toEqual({ subscriptions: [`sub_${status}`], invoices: [invoice.id], events: ["subscription.activated"], notices: 0 });
      expect(invoiceRow(after, invoice.id)).toMatchObject({ cycle: 1, status: "open", amount: 300, next_attempt_at: NOW });
      expect(effects.charges.map((c) => c.id)).toEqual([invoice.id]);
    } else {
      expect(result).toBeUndefined();
      expect(changed).toEqual(nothing);
    }
  });

  it("renew opens the next cycle once, guarded by the cycle it leaves", async () => {
    const active = await db.selectFrom("subscriptions").selectAll().where("id", "=", "sub_active").executeTakeFirstOrThrow();
    const { result, changed, effects } = await apply((tx, fx) => subscriptions.renew(tx, fx, { subscription: active, plan, dueAt: NOW, now: NOW, zone: ZONE }));
    expect(result?.subscription).toMatchObject({ current_cycle: 3, current_period_start: new Date("2026-12-01T04:00:00Z"), current_period_end: new Date("2027-01-01T04:00:00Z") });
    expect(result?.invoice).toMatchObject({ cycle: 3, status: "open" });
    expect(changed).toEqual({ subscriptions: ["sub_active"], invoices: [result!.invoice!.id], events: [], notices: 0 });
    expect(effects.charges).toHaveLength(1);
    // The same snapshot of the subscription again (a second sweep) changes nothing.
    const again = await apply((tx, fx) => subscriptions.renew(tx, fx, { subscription: active, plan, dueAt: NOW, now: NOW, zone: ZONE }));
    expect(again.result).toBeUndefined();
    expect(again.changed).toEqual(nothing);
  });

  it.each(STATUSES)("markPastDue from %s", async (status) => {
    const { result, changed } = await apply((tx, fx) => subscriptions.markPastDue(tx, fx, `sub_${status}`, `in_${status}_2`, NOW));
    if (status === "active") {
      expect(result?.status).toBe("past_due");
      expect(changed).toEqual({ subscriptions: ["sub_active"], invoices: [], events: ["subscription.past_due"], notices: 0 });
    } else {
      expect(changed).toEqual(nothing);
    }
  });

  it.each(STATUSES)("markUnpaid from %s", async (status) => {
    const { result, changed } = await apply((tx, fx) => subscriptions.markUnpaid(tx, fx, `sub_${status}`, `in_${status}_2`, NOW));
    if (status === "active" || status === "past_due") {
      expect(result?.status).toBe("unpaid");
      expect(changed).toEqual({ subscriptions: [`sub_${status}`], invoices: [], events: ["subscription.unpaid"], notices: 0 });
    } else {
      expect(changed).toEqual(nothing);
    }
  });

  it.each(STATUSES)("reactivate from %s", async (status) => {
    // Months after the period ended: the periods missed are skipped, the one containing now is next.
    const later = new Date("2027-02-15T00:00:00Z");
    const { result, changed } = await apply((tx) => subscriptions.reactivate(tx, `sub_${status}`, later, ZONE));
    if (status === "past_due" || status === "unpaid") {
      expect(result).toMatchObject({ status: "active", current_cycle: 4, next_renewal_at: new Date("2027-02-01T04:00:00Z") });
      expect(changed).toEqual({ subscriptions: [`sub_${status}`], invoices: [], events: [], notices: 0 });
    } else {
      expect(result).toBeUndefined();
      expect(changed).toEqual(nothing);
    }
  });

  it.each(STATUSES)("scheduleCancel from %s", async (status) => {
    const { result, changed } = await apply((tx, fx) => subscriptions.scheduleCancel(tx, fx, `sub_${status}`, NOW));
    if (subscriptions.BILLING_STATES.includes(status)) {
      expect(result).toMatchObject({ status, cancel_at_period_end: true });
      expect(changed).toEqual({ subscriptions: [`sub_${status}`], invoices: [], events: ["subscription.cancel_scheduled"], notices: 0 });
    } else {
      expect(changed).toEqual(nothing);
    }
  });

  it.each(STATUSES.flatMap((status) => (["requested", "period_end", "dunning"] as const).map((cause) => [status, cause] as const)))(
    "cancel from %s with cause %s",
    async (status, cause) => {
      const { result, changed, after } = await apply((tx, fx) => subscriptions.cancel(tx, fx, { id: `sub_${status}`, cause, now: NOW }));
      if (status === "canceled" || status === "incomplete_expired") {
        expect(result).toBeUndefined();
        expect(changed).toEqual(nothing);
        return;
      }
      expect(result).toMatchObject({ status: "canceled", ended_at: NOW, next_renewal_at: null, cancel_at_period_end: false });
      const voided = status === "incomplete" ? [] : [`in_${status}_2`];
      expect(changed).toEqual({ subscriptions: [`sub_${status}`], invoices: voided, events: ["subscription.canceled"], notices: 0 });
      for (const id of voided) expect(invoiceRow(after, id)).toMatchObject({ status: "void", next_attempt_at: null });
      // The paid invoice is history: never touched.
      if (status !== "incomplete") expect(invoiceRow(after, `in_${status}_1`).status).toBe("paid");
    },
  );

  it("expireIncomplete touches only incomplete subscriptions among those named", async () => {
    const { result, changed, after } = await apply((tx) => subscriptions.expireIncomplete(tx, STATUSES.map((s) => `sub_${s}`), NOW));
    expect(result).toEqual(["sub_incomplete"]);
    expect(changed).toEqual({ subscriptions: ["sub_incomplete"], invoices: [], events: [], notices: 0 });
    expect(subscriptionRow(after, "sub_incomplete")).toMatchObject({ status: "incomplete_expired", ended_at: NOW });
  });
});

describe("invoice transitions", () => {
  const open = "in_active_2";
  const paid = "in_active_1";

  it("createRenewal makes one invoice per cycle", async () => {
    const input = { subscriptionId: "sub_active", plan, cycle: 2, periodStart: NOW, periodEnd: NOW, dueAt: NOW, now: NOW };
    const existing = await apply((tx, fx) => invoices.createRenewal(tx, fx, input));
    expect(existing.result).toBeUndefined();
    expect(existing.changed).toEqual(nothing);
    expect(existing.effects.charges).toEqual([]);
    const fresh = await apply((tx, fx) => invoices.createRenewal(tx, fx, { ...input, cycle: 3 }));
    expect(fresh.result).toMatchObject({ cycle: 3, status: "open", amount: 300, next_attempt_at: NOW });
    expect(fresh.changed.invoices).toEqual([fresh.result!.id]);
  });

  it.each([
    ["scheduleCollection", (tx: Db, fx: Recorded, id: string) => invoices.scheduleCollection(tx, fx, id, NOW, NOW)],
    ["attemptStarted", (tx: Db, _fx: Recorded, id: string) => attemptStarted(tx, id, 1, NOW, "pm_active")],
    ["recordDecline", (tx: Db, fx: Recorded, id: string) => invoices.recordDecline(tx, fx, id, { nextRetryAt: NOW, deadline: null, now: NOW })],
    ["markUncollectible", (tx: Db, _fx: Recorded, id: string) => invoices.markUncollectible(tx, id, NOW)],
    ["holdForAttention", (tx: Db, fx: Recorded, id: string) => invoices.holdForAttention(tx, fx, id, "K0001", NOW, NOW)],
  ] as const)("%s changes only the open invoice it names, and never a paid or void one", async (_name, transition) => {
    for (const id of [paid, "in_canceled_2"]) {
      const refused = await apply((tx, fx) => transition(tx, fx, id));
      expect(refused.result).toBeUndefined();
      expect(refused.changed).toEqual(nothing);
    }
    const applied = await apply((tx, fx) => transition(tx, fx, open));
    expect(applied.result).toMatchObject({ id: open, subscription_id: "sub_active" });
    expect(applied.changed.subscriptions).toEqual([]);
    expect(applied.changed.invoices).toEqual([open]);
  });

  it("attemptStarted is guarded by the attempt count it leaves, by the invoice being due, and by the card being the active one", async () => {
    const start = (attemptNo: number, now: Date, card = "pm_active") => apply((tx) => attemptStarted(tx, open, attemptNo, now, card));
    expect((await start(1, NOW, "pm_canceled")).result).toBeUndefined(); // replaced (inactive)
    expect((await start(2, NOW)).result).toBeUndefined();
    expect((await start(1, new Date("2026-11-19T00:00:00Z"))).result).toBeUndefined(); // due on the 20th
    const first = await start(1, NOW);
    expect(first.result).toMatchObject({ attempt_count: 1, next_attempt_at: null });
    expect((await start(1, NOW)).result).toBeUndefined();
  });

  it("recordDecline keeps the first failure and schedules the retry; holdForAttention writes its event once per code", async () => {
    const first = await apply((tx, fx) => invoices.recordDecline(tx, fx, open, { nextRetryAt: new Date("2026-12-02T00:00:00Z"), deadline: null, now: NOW }));
    expect(first.result).toMatchObject({ first_failed_at: NOW, last_failed_at: NOW, next_attempt_at: new Date("2026-12-02T00:00:00Z") });
    expect(first.effects.charges.map((c) => c.id)).toEqual([open]);
    const later = new Date("2026-12-02T00:00:00Z");
    const second = await apply((tx, fx) => invoices.recordDecline(tx, fx, open, { nextRetryAt: null, deadline: new Date("2026-12-08T00:00:00Z"), now: later }));
    expect(second.result).toMatchObject({ first_failed_at: NOW, last_failed_at: later, next_attempt_at: null, dunning_deadline_at: new Date("2026-12-08T00:00:00Z") });

    const held = await apply((tx, fx) => invoices.holdForAttention(tx, fx, open, "V0002", later, NOW));
    expect(held.result).toMatchObject({ attention_code: "V0002", attention_since: NOW, status: "open" });
    expect(held.changed.events).toEqual(["invoice.needs_attention"]);
    const again = await apply((tx, fx) => invoices.holdForAttention(tx, fx, open, "V0002", later, later));
    expect(again.result).toMatchObject({ attention_since: NOW });
    expect(again.changed.events).toEqual([]);
  });

  it("markPaid pays an open invoice once, clears what dunning and ops had marked, and writes invoice.paid", async () => {
    await db.updateTable("invoices").set({ attention_code: "K0001", attention_since: NOW, dunning_deadline_at: NOW }).where("id", "=", open).execute();
    const attempt = { order_id: `${open}-1`, oen_transaction_hid: "P20261201AAAAAAAA" } as never;
    const first = await apply((tx, fx) => invoices.markPaid(tx, fx, open, attempt, NOW));
    expect(first.result).toMatchObject({ status: "paid", paid_at: NOW, next_attempt_at: null, dunning_deadline_at: null, attention_code: null });
    expect(first.changed).toEqual({ subscriptions: [], invoices: [open], events: ["invoice.paid"], notices: 0 });
    const twice = await apply((tx, fx) => invoices.markPaid(tx, fx, open, attempt, NOW));
    expect(twice.result).toBeUndefined();
    expect(twice.changed).toEqual(nothing);
  });

  it("collectWithNewCard and voidOpenInvoices act on the open invoices of one subscription only", async () => {
    await db.updateTable("invoices").set({ dunning_deadline_at: NOW }).where("id", "=", "in_past_due_2").execute();
    const collected = await apply((tx, fx) => invoices.collectWithNewCard(tx, fx, "sub_past_due", NOW));
    expect(collected.result.map((i) => i.id)).toEqual(["in_past_due_2"]);
    expect(collected.changed.invoices).toEqual(["in_past_due_2"]);
    expect(invoiceRow(collected.after, "in_past_due_2")).toMatchObject({ next_attempt_at: NOW, dunning_deadline_at: null });
    const voided = await apply((tx) => invoices.voidOpenInvoices(tx, "sub_unpaid", NOW));
    expect(voided.result).toEqual(["in_unpaid_2"]);
    expect(voided.changed).toEqual({ subscriptions: [], invoices: ["in_unpaid_2"], events: [], notices: 0 });
  });
});

describe("recordRefund", () => {
  it("adds to a paid invoice's refunded amount, never past its amount, and never on an open or void one", async () => {
    for (const id of ["in_active_2", "in_canceled_2"]) {
      const refused = await apply((tx) => invoices.recordRefund(tx, id, 100));
      expect(refused.result).toBeUndefined();
      expect(refused.changed).toEqual(nothing);
    }
    const first = await apply((tx) => invoices.recordRefund(tx, "in_active_1", 200));
    expect(first.result).toMatchObject({ amount_refunded: 200, status: "paid" });
    expect(first.changed).toEqual({ subscriptions: [], invoices: ["in_active_1"], events: [], notices: 0 });
    expect((await apply((tx) => invoices.recordRefund(tx, "in_active_1", 101))).result).toBeUndefined();
    expect((await apply((tx) => invoices.recordRefund(tx, "in_active_1", 100))).result).toMatchObject({ amount_refunded: 300 });
  });
});
