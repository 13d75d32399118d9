// The invoice lifecycle (DESIGN.md "State machines", invariant 9): open →
// paid | uncollectible | void. Every change of an invoice row is one of these
// transitions: a guarded UPDATE … WHERE status allows it, returning the row
// when it applied (undefined when the guard refused), with the events and
// jobs it causes written to the outbox in the caller's transaction.
import { sql, type Kysely } from "kysely";
import type { AttentionCode } from "../billing/charge-codes.ts";
import type { ChargeAttempt, Database, Invoice, Plan } from "../db/database.ts";
import { newId } from "../ids.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { invoiceEventData } from "./invoice-event-data.ts";

type Db = Kysely<Database>;

export interface RenewalInput {
  subscriptionId: string;
  plan: Plan;
  cycle: number;
  periodStart: Date;
  periodEnd: Date;
  /** When the charge may run (renewals at month start are spread over a jitter window). */
  dueAt: Date;
  now: Date;
}

/**
 * Opens the invoice of one cycle and enqueues its charge. Undefined when that
 * cycle already has one: the unique (subscription, cycle) key is what makes a
 * period billable only once, however many sweeps race (invariant 1).
 */
export async function createRenewal(db: Db, effects: SideEffects, input: RenewalInput): Promise<Invoice | undefined> {
  const { plan } = input;
  const invoice = await db
    .insertInto("invoices")
    .values({
      id: newId("in"),
      subscription_id: input.subscriptionId,
      cycle: input.cycle,
      status: "open",
      amount: plan.amount,
      product_details: JSON.stringify([
        { productionCode: plan.product_code, description: plan.description, quantity: 1, unit: plan.unit, unitPrice: plan.amount },
      ]),
      period_start: input.periodStart,
      period_end: input.periodEnd,
      next_attempt_at: input.dueAt,
      first_failed_at: null,
      paid_at: null,
      created_at: input.now,
    })
    .onConflict((oc) => oc.columns(["subscription_id", "cycle"]).where("kind", "=", "renewal").doNothing())
    .returningAll()
    .executeTakeFirst();
  if (invoice !== undefined) effects.charge(invoice);
  return invoice;
}

/**
 * Opens the proration invoice of an upgrade: the difference for the rest of
 * the period, due now. The caller charges it at once, waiting for the answer
 * (no job is enqueued to race it; the sweep's due-invoice step is the
 * backstop). The switch to `plan` takes effect when it is paid. Undefined
 * while another proration of the subscription is still open.
 */
export async function createProration(db: Db, input: { subscriptionId: string; cycle: number; plan: Plan; amount: number; periodStart: Date; periodEnd: Date; now: Date }): Promise<Invoice | undefined> {
  const { plan } = input;
  return db
    .insertInto("invoices")
    .values({
      id: newId("in"),
      subscription_id: input.subscriptionId,
      kind: "proration",
      plan_id: plan.id,
      cycle: input.cycle,
      status: "open",
      amount: input.amount,
      product_details: JSON.stringify([
        { productionCode: plan.product_code, description: `${plan.description} (prorated)`, quantity: 1, unit: plan.unit, unitPrice: input.amount },
      ]),
      period_start: input.periodStart,
      period_end: input.periodEnd,
      next_attempt_at: input.now,
      first_failed_at: null,
      paid_at: null,
      created_at: input.now,
    })
    .onConflict((oc) => oc.columns(["subscription_id"]).where("kind", "=", "proration").where("status", "=", "open").doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** open → void for one invoice (a declined proration: the plan change it paid for does not happen). */
export async function voidInvoice(db: Db, invoiceId: string, now: Date): Promise<Invoice | undefined> {
  return closeUnpaid(db, invoiceId, "void", now);
}

/** open → an end that is not paid: nothing more is collected on it. */
async function closeUnpaid(db: Db, invoiceId: string, status: "void" | "uncollectible", now: Date): Promise<Invoice | undefined> {
  return db
    .updateTable("invoices")
    .set({ status, next_attempt_at: null, dunning_deadline_at: null, updated_at: now })
    .where("id", "=", invoiceId)
    .where("status", "=", "open")
    .returningAll()
    .executeTakeFirst();
}

/** open → open with the next charge at `at` (null: none scheduled); `deadline` replaces the new-card deadline when given. */
export async function scheduleCollection(db: Db, effects: SideEffects, invoiceId: string, at: Date | null, now: Date, deadline?: Date | null): Promise<Invoice | undefined> {
  const invoice = await db
    .updateTable("invoices")
    .set({ next_attempt_at: at, ...(deadline === undefined ? {} : { dunning_deadline_at: deadline }), updated_at: now })
    .where("id", "=", invoiceId)
    .where("status", "=", "open")
    .returningAll()
    .executeTakeFirst();
  if (invoice !== undefined) effects.charge(invoice);
  return invoice;
}

/**
 * A new card is on file: every open invoice of the subscription is charged on
 * it now, and no longer waits for a new-card deadline.
 */
export async function collectWithNewCard(db: Db, effects: SideEffects, subscriptionId: string, now: Date): Promise<Invoice[]> {
  const invoices = await db
    .updateTable("invoices")
    .set({ next_attempt_at: now, dunning_deadline_at: null, updated_at: now })
    .where("subscription_id", "=", subscriptionId)
    .where("status", "=", "open")
    .returningAll()
    .execute();
  for (const invoice of invoices) effects.charge(invoice);
  return invoices;
}

/** The claim of attempt `attemptNo` (the write-ahead of invariant 1): counted, and nothing else scheduled meanwhile. */
export async function recordAttemptStarted(db: Db, invoiceId: string, attemptNo: number, now: Date): Promise<Invoice | undefined> {
  return db
    .updateTable("invoices")
    .set({ attempt_count: attemptNo, next_attempt_at: null, updated_at: now })
    .where("id", "=", invoiceId)
    .where("status", "=", "open")
    .where("attempt_count", "=", attemptNo - 1)
    .returningAll()
    .executeTakeFirst();
}

/** open → paid, by the attempt that succeeded; `invoice.paid`. */
export async function markPaid(db: Db, effects: SideEffects, invoiceId: string, attempt: ChargeAttempt, now: Date): Promise<Invoice | undefined> {
  const paid = await db
    .updateTable("invoices")
    .set({ status: "paid", paid_at: now, next_attempt_at: null, dunning_deadline_at: null, attention_code: null, attention_since: null, updated_at: now })
    .where("id", "=", invoiceId)
    .where("status", "=", "open")
    .returningAll()
    .executeTakeFirst();
  if (paid === undefined) return undefined;
  await effects.event(db, {
    type: "invoice.paid",
    dedupeKey: `invoice.paid:${paid.id}`,
    data: { ...invoiceEventData(paid), orderId: attempt.order_id, oenTransactionId: attempt.oen_transaction_hid },
    occurredAt: now,
  });
  return paid;
}

export interface DeclineRecord {
  nextRetryAt: Date | null;
  /** When the invoice gives up waiting for a new card; null when it waits for a retry instead. */
  deadline: Date | null;
  now: Date;
}

/** A decline on the dunning schedule: the next retry or the new-card deadline, and when the failures began. */
export async function recordDecline(db: Db, effects: SideEffects, invoiceId: string, record: DeclineRecord): Promise<Invoice | undefined> {
  const invoice = await db
    .updateTable("invoices")
    .set((eb) => ({
      next_attempt_at: record.nextRetryAt,
      dunning_deadline_at: record.deadline,
      first_failed_at: eb.fn.coalesce("first_failed_at", eb.val(record.now)),
      last_failed_at: record.now,
      updated_at: record.now,
    }))
    .where("id", "=", invoiceId)
    .where("status", "=", "open")
    .returningAll()
    .executeTakeFirst();
  if (invoice !== undefined) effects.charge(invoice);
  return invoice;
}

/**
 * Oen refused the merchant, not the card (configuration, K0001): the invoice
 * stays open, marked for ops, and is tried again at `retryAt`; the customer is
 * never dunned for it. `invoice.needs_attention` once per invoice and code.
 */
export async function holdForAttention(db: Db, effects: SideEffects, invoiceId: string, code: AttentionCode, retryAt: Date, now: Date): Promise<Invoice | undefined> {
  const invoice = await db
    .updateTable("invoices")
    .set((eb) => ({ attention_code: code, attention_since: eb.fn.coalesce("attention_since", eb.val(now)), next_attempt_at: retryAt, updated_at: now }))
    .where("id", "=", invoiceId)
    .where("status", "=", "open")
    .returningAll()
    .executeTakeFirst();
  if (invoice === undefined) return undefined;
  effects.charge(invoice);
  await effects.event(db, {
    type: "invoice.needs_attention",
    dedupeKey: `invoice.needs_attention:${invoice.id}:${code}`,
    data: { ...invoiceEventData(invoice), code, nextAttemptAt: retryAt.toISOString() },
    occurredAt: now,
  });
  return invoice;
}

/** open → uncollectible: dunning gave up on it. */
export async function markUncollectible(db: Db, invoiceId: string, now: Date): Promise<Invoice | undefined> {
  return closeUnpaid(db, invoiceId, "uncollectible", now);
}

/** open → void for every open invoice of an ended subscription: nothing of it is collected any more. */
export async function voidOpenInvoices(db: Db, subscriptionId: string, now: Date): Promise<string[]> {
  const voided = await db
    .updateTable("invoices")
    .set({ status: "void", next_attempt_at: null, dunning_deadline_at: null, updated_at: now })
    .where("subscription_id", "=", subscriptionId)
    .where("status", "=", "open")
    .returning("id")
    .execute();
  return voided.map((row) => row.id);
}

/**
 * Money given back of a paid invoice's own charge: `amount_refunded` grows,
 * never past the invoice's amount (the guard, and a check constraint behind
 * it). Undefined when the guard refused (not paid, or more than is left),
 * which the caller must report: the refund happened at Oen. A double
 * charge's refund is not the invoice's money and never comes here.
 */
export async function recordRefund(db: Db, invoiceId: string, amount: number): Promise<Invoice | undefined> {
  return db
    .updateTable("invoices")
    .set((eb) => ({ amount_refunded: eb("amount_refunded", "+", amount), updated_at: sql<Date>`now()` }))
    .where("id", "=", invoiceId)
    .where("status", "=", "paid")
    .where(sql<boolean>`amount_refunded + ${amount} <= amount`)
    .returningAll()
    .executeTakeFirst();
}
