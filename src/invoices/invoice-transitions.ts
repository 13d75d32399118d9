// The invoice lifecycle (DESIGN.md "State machines", invariant 9): open →
// paid | uncollectible | void. Every change of an invoice row is one of these
// transitions: a guarded UPDATE … WHERE status allows it, returning the row
// when it applied (undefined when the guard refused), with the events and
// jobs it causes written to the outbox in the caller's transaction.
import { sql, type Kysely, type RawBuilder } from "kysely";
import type { AttentionCode } from "../billing/charge-codes.ts";
import type { ChargeAttempt, Database, Invoice, InvoicesTable, Plan } from "../db/database.ts";
import { everyColumn } from "../db/every-column.ts";
import { compiledOnce, type Slots } from "../db/compiled-once.ts";
import { prepared } from "../db/prepared.ts";
import { newId } from "../ids.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { eventRow, type RecordEventInput } from "../events/record-event.ts";
import { invoiceEventData, type InvoiceEventFields } from "./invoice-event-data.ts";

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

/**
 * The claims of attempts (the write-ahead of invariant 1): each counted, and
 * nothing else scheduled meanwhile. An UPDATE for a claim statement to build
 * on, over the relation `claims` (a CTE with the columns invoice_id,
 * attempt_no, card_id and now, one row per invoice): it inserts the attempts
 * from what this returns, in the same statement. Each refused unless its
 * invoice is open, due, still at attempt `attempt_no - 1`, and `card_id` still
 * its subscription's active card: locked for share, so a card replaced
 * meanwhile either waits for the claim or refuses it. Returns the invoices
 * counted.
 */
export function attemptsStarted(claims: string): RawBuilder<Pick<Invoice, "id" | "subscription_id" | "attempt_count" | "next_attempt_at">> {
  return sql`update invoices i set attempt_count = c.attempt_no, next_attempt_at = null, updated_at = c.now
    from ${sql.table(claims)} c
    where i.id = c.invoice_id and i.status = 'open' and i.attempt_count + 1 = c.attempt_no and i.next_attempt_at <= c.now
      and exists (select 1 from payment_tokens t where t.id = c.card_id and t.status = 'active' for share)
    returning i.id, i.subscription_id, i.attempt_count, i.next_attempt_at`;
}

/** What an invoice paid at `now` says, for an UPDATE's SET: nothing more to collect, nothing waiting on ops. The one definition for markPaid and markPaidBySuccesses. */
const paidAssignments = (now: RawBuilder<Date>) =>
  sql`status = 'paid', paid_at = ${now}, next_attempt_at = null, dunning_deadline_at = null, attention_code = null, attention_since = null, updated_at = ${now}`;

/** open → paid, by the attempt that succeeded; `invoice.paid`. */
export async function markPaid(db: Db, effects: SideEffects, invoiceId: string, attempt: ChargeAttempt, now: Date): Promise<Invoice | undefined> {
  const {
    rows: [paid],
  } = await sql<Invoice>`update invoices set ${paidAssignments(sql<Date>`${now}::timestamptz`)} where id = ${invoiceId} and status = 'open' returning *`.execute(db);
  if (paid === undefined) return undefined;
  await effects.event(db, paidEvent(paid, attempt.order_id, attempt.oen_transaction_hid, now));
  return paid;
}

const INVOICE_COLUMNS = everyColumn<InvoicesTable>()([
  "id", "subscription_id", "kind", "plan_id", "cycle", "status", "amount", "currency", "product_details", "period_start", "period_end", "next_attempt_at", "attempt_count",
  "first_failed_at", "dunning_deadline_at", "last_failed_at", "paid_at", "attention_code", "attention_since", "amount_refunded", "created_at", "updated_at",
]);

function paidEvent(invoice: InvoiceEventFields, orderId: string, oenTransactionId: string | null, now: Date): RecordEventInput {
  return { type: "invoice.paid", dedupeKey: `invoice.paid:${invoice.id}`, data: { ...invoiceEventData(invoice), orderId, oenTransactionId }, occurredAt: now };
}

export interface SuccessInput {
  /** The invoice as its charge claimed it. */
  invoice: InvoiceEventFields;
  attemptId: string;
  orderId: string;
  transactionHid: string;
  authCode: string | null;
  /** When the answer came (wall clock), the attempt's resolved_at. */
  resolvedAt: Date;
  now: Date;
  /** Where its invoice.paid goes once recorded. */
  effects: SideEffects;
}

/**
 * The common success, for the successes answered together (group commit), in
 * one statement, each guarded on its own: the attempt, still in flight,
 * succeeded; its renewal invoice, still open, is paid (`invoice.paid`); the
 * subscription is not being dunned, so nothing else changes. Undefined for an
 * input, with nothing written for it, when any of that is not so:
 * settleAttempt then decides under the same locks. The subscriptions are
 * locked first, in id order, then the attempts and invoices in invoice order,
 * so two batches never wait on each other in a circle; a row another
 * transaction holds is skipped, and its success is one of those settleAttempt
 * decides (waiting for it alone). Answers in the inputs' order.
 */
export async function markPaidBySuccesses(db: Db, inputs: readonly SuccessInput[]): Promise<Array<Invoice | undefined>> {
  const events = inputs.map((input) => paidEvent(input.invoice, input.orderId, input.transactionHid, input.now));
  const rows = events.map(eventRow);
  const values = {
    invoiceIds: inputs.map((input) => input.invoice.id),
    subscriptionIds: inputs.map((input) => input.invoice.subscription_id),
    attemptIds: inputs.map((input) => input.attemptId),
    transactionHids: inputs.map((input) => input.transactionHid),
    authCodes: inputs.map((input) => input.authCode),
    resolvedAts: inputs.map((input) => input.resolvedAt),
    nows: inputs.map((input) => input.now),
    eventIds: rows.map((row) => row.id),
    types: rows.map((row) => row.type),
    dedupeKeys: rows.map((row) => row.dedupe_key),
    data: rows.map((row) => row.data),
  };
  const paid = new Map((await db.executeQuery(prepared(PAID_BY_SUCCESS(db, values)))).rows.map((row) => [row.id, row]));
  return inputs.map((input, index) => {
    const row = paid.get(input.invoice.id);
    if (row === undefined) return undefined;
    const { event_id: eventId, ...invoice } = row;
    if (eventId !== null) input.effects.eventRecorded(eventId, events[index]!);
    return invoice;
  });
}

interface PaidBySuccessValues {
  invoiceIds: string[];
  subscriptionIds: string[];
  attemptIds: string[];
  transactionHids: string[];
  authCodes: Array<string | null>;
  resolvedAts: Date[];
  nows: Date[];
  eventIds: string[];
  types: string[];
  dedupeKeys: string[];
  data: string[];
}

const PAID_BY_SUCCESS = compiledOnce((_db, slot: Slots<PaidBySuccessValues>) => {
  const columns = (table: string) => sql.join(INVOICE_COLUMNS.map((column) => sql.ref(`${table}.${column}`)));
  return sql<Invoice & { event_id: string | null }>`
    with input as (
      select * from unnest(${slot("invoiceIds")}::text[], ${slot("subscriptionIds")}::text[], ${slot("attemptIds")}::text[], ${slot("transactionHids")}::text[],
        ${slot("authCodes")}::text[], ${slot("resolvedAts")}::timestamptz[], ${slot("nows")}::timestamptz[],
        ${slot("eventIds")}::text[], ${slot("types")}::text[], ${slot("dedupeKeys")}::text[], ${slot("data")}::text[])
        as t(invoice_id, subscription_id, attempt_id, transaction_hid, auth_code, resolved_at, now, event_id, type, dedupe_key, data)),
    -- What another transaction holds (an API call, a dunning settle) is skipped and settled on its own, holding back no other success.
    subscription as (select id, status from subscriptions where id in (select subscription_id from input) order by id for update skip locked),
    ready as (
      select input.* from input
        join charge_attempts a on a.id = input.attempt_id
        join invoices i on i.id = a.invoice_id and i.id = input.invoice_id
      -- An uncorrelated subquery runs first: every subscription is locked before any attempt or invoice.
      where (select count(*) from subscription) > 0
        and a.status in ('sending', 'unknown') and i.status = 'open' and i.kind = 'renewal'
        and exists (select 1 from subscription s where s.id = input.subscription_id and s.status not in ('past_due', 'unpaid'))
      order by i.id
      for update of a, i skip locked),
    attempt as (
      update charge_attempts a set status = 'succeeded', oen_transaction_hid = r.transaction_hid, auth_code = r.auth_code, resolved_at = r.resolved_at
      from ready r where a.id = r.attempt_id),
    paid as (
      update invoices i set ${paidAssignments(sql.ref("r.now"))}
      from ready r where i.id = r.invoice_id returning ${columns("i")}),
    event as (
      insert into platform_events (id, type, dedupe_key, data, created_at)
      select r.event_id, r.type, r.dedupe_key, r.data::jsonb, r.now from ready r
      on conflict (dedupe_key) do nothing returning id)
    select ${columns("paid")}, event.id as event_id from paid join ready r on r.invoice_id = paid.id left join event on event.id = r.event_id`;
});

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
