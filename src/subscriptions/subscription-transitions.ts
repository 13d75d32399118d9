// The subscription lifecycle (DESIGN.md "State machines", invariant 9).
//
// Glossary
// - cycle: the number of a billed period, from 1. Cycle N bills the period
//   whose index is N - 1; `current_cycle` is the latest cycle opened.
// - period index: the position of a period counted from the anchor (0 is the
//   first); period N's boundaries come from the anchor and N, never from the
//   previous period, so calendar errors never accumulate.
// - anchor: the moment the first period starts (the card's binding, or the
//   trial's end); monthly periods keep its day of the month.
// - attempt: one charge request to Oen for one invoice, with its own orderId,
//   committed as `sending` before the request leaves.
// - settle: record what an attempt's answer means for its invoice and
//   subscription, in one transaction under their row locks.
// - resolve: settle an attempt whose answer is unknown by looking its orderId
//   up at Oen; never by sending again.
// - sweep: the scheduler's tick, which rebuilds every due job from Postgres.
//
// Every change of a subscription's status or period is one transition here:
// a guarded UPDATE … WHERE status allows it, returning the row when it applied
// (undefined when the guard refused), with the events, notices and jobs it
// causes written to the outbox in the caller's transaction.
import { sql, type Kysely } from "kysely";
import { periodBounds, periodIndexAt } from "../billing/periods.ts";
import type { Database, Plan, Subscription, SubscriptionStatus } from "../db/database.ts";
import { createRenewal, voidOpenInvoices } from "../invoices/invoice-transitions.ts";
import type { SideEffects } from "../outbox/side-effects.ts";

type Db = Kysely<Database>;

/** States in which a subscription has a card and runs periods. */
export const BILLING_STATES: readonly SubscriptionStatus[] = ["active", "past_due", "unpaid"];
/** States with a card on file: the ones a cancel can be scheduled in, a card replaced, a plan changed. */
export const CARD_STATES: readonly SubscriptionStatus[] = ["trialing", ...BILLING_STATES];
const ENDABLE: readonly SubscriptionStatus[] = ["incomplete", ...CARD_STATES];

const cadence = (plan: Pick<Plan, "interval" | "interval_count">) => ({ interval: plan.interval, intervalCount: plan.interval_count });

/**
 * incomplete | incomplete_expired → active, when the first card arrives: the
 * anchor is `now`, cycle 1 opens and is charged at once. A token that reaches
 * us after the subscription was marked expired still activates it: the card
 * was bound within Oen's 10 minutes, the delay was ours.
 */
export async function activate(db: Db, effects: SideEffects, input: { id: string; plan: Plan; paymentMethod: { id: string; last4: string | null }; now: Date; zone: string }) {
  const { id, plan, now } = input;
  const first = periodBounds(now, cadence(plan), 0, input.zone);
  const subscription = await db
    .updateTable("subscriptions")
    .set({ status: "active", billing_anchor: now, current_cycle: 1, current_period_start: first.start, current_period_end: first.end, next_renewal_at: first.end, ended_at: null, updated_at: now })
    .where("id", "=", id)
    .where("status", "in", ["incomplete", "incomplete_expired"])
    .returningAll()
    .executeTakeFirst();
  if (subscription === undefined) return undefined;
  await effects.event(db, { type: "subscription.activated", dedupeKey: `subscription.activated:${id}`, data: { subscriptionId: id, paymentMethod: input.paymentMethod }, occurredAt: now });
  const invoice = await createRenewal(db, effects, { subscriptionId: id, plan, cycle: 1, periodStart: first.start, periodEnd: first.end, dueAt: now, now });
  return { subscription, invoice };
}

/**
 * incomplete | incomplete_expired → trialing, when the first card arrives and
 * a trial applies: nothing is charged until `trial_end`, when the sweep ends
 * the trial (endTrial). The trial runs whole days on the billing calendar.
 */
export async function startTrial(db: Db, effects: SideEffects, input: { id: string; trialDays: number; paymentMethod: { id: string; last4: string | null }; now: Date; zone: string }) {
  const { id, now } = input;
  const trialEnd = periodBounds(now, { interval: "day", intervalCount: input.trialDays }, 0, input.zone).end;
  const subscription = await db
    .updateTable("subscriptions")
    .set({ status: "trialing", trial_start: now, trial_end: trialEnd, next_renewal_at: trialEnd, ended_at: null, updated_at: now })
    .where("id", "=", id)
    .where("status", "in", ["incomplete", "incomplete_expired"])
    .returningAll()
    .executeTakeFirst();
  if (subscription !== undefined) {
    await effects.event(db, {
      type: "subscription.trial_started",
      dedupeKey: `subscription.trial_started:${id}`,
      data: { subscriptionId: id, trialEnd: trialEnd.toISOString(), paymentMethod: input.paymentMethod },
      occurredAt: now,
    });
  }
  return subscription;
}

/**
 * trialing → active at the trial's end: the anchor is `trial_end`, cycle 1
 * opens and is charged now; renewals follow a period after the anchor.
 */
export async function endTrial(db: Db, effects: SideEffects, input: { subscription: Subscription; plan: Plan; now: Date; zone: string }) {
  const { subscription, plan, now } = input;
  const anchor = subscription.trial_end!;
  const first = periodBounds(anchor, cadence(plan), 0, input.zone);
  const ended = await db
    .updateTable("subscriptions")
    .set({ status: "active", billing_anchor: anchor, current_cycle: 1, current_period_start: first.start, current_period_end: first.end, next_renewal_at: first.end, updated_at: now })
    .where("id", "=", subscription.id)
    .where("status", "=", "trialing")
    .where("cancel_at_period_end", "=", false)
    .returningAll()
    .executeTakeFirst();
  if (ended === undefined) return undefined;
  await effects.event(db, { type: "subscription.activated", dedupeKey: `subscription.activated:${subscription.id}`, data: { subscriptionId: subscription.id, trialEnded: anchor.toISOString() }, occurredAt: now });
  const invoice = await createRenewal(db, effects, { subscriptionId: subscription.id, plan, cycle: 1, periodStart: first.start, periodEnd: first.end, dueAt: now, now });
  return { subscription: ended, invoice };
}

/**
 * active → active, cycle + 1: the period that just ended is followed by the
 * next, and its invoice opens (charged at `dueAt`). Guarded by the cycle it
 * leaves, so two sweeps cannot both open it. `plan` is the plan the new
 * period bills: a pending downgrade's, which takes effect here.
 */
export async function renew(db: Db, effects: SideEffects, input: { subscription: Subscription; plan: Plan; dueAt: Date; now: Date; zone: string }) {
  const { subscription, plan, now } = input;
  const cycle = subscription.current_cycle + 1;
  const bounds = periodBounds(subscription.billing_anchor!, cadence(plan), cycle - 1, input.zone);
  const renewed = await db
    .updateTable("subscriptions")
    .set({ plan_id: plan.id, pending_plan_id: null, current_cycle: cycle, current_period_start: bounds.start, current_period_end: bounds.end, next_renewal_at: bounds.end, updated_at: now })
    .where("id", "=", subscription.id)
    .where("status", "=", "active")
    .where("cancel_at_period_end", "=", false)
    .where("current_cycle", "=", subscription.current_cycle)
    .returningAll()
    .executeTakeFirst();
  if (renewed === undefined) return undefined;
  if (plan.id !== subscription.plan_id) await planChangedEvent(db, effects, subscription.id, subscription.plan_id, plan.id, now);
  const invoice = await createRenewal(db, effects, { subscriptionId: subscription.id, plan, cycle, periodStart: bounds.start, periodEnd: bounds.end, dueAt: input.dueAt, now });
  return { subscription: renewed, invoice };
}

/** What a bulk renewal opened: each new invoice, ready to enqueue. */
export interface RenewedInvoice {
  id: string;
  attempt_count: number;
  next_attempt_at: Date;
}

/**
 * `renew` for many at once (month start): every plain active subscription
 * whose period ended (no cancel, downgrade or trial to apply) goes to its
 * next cycle and gets that cycle's invoice, in one statement. Rows locked by
 * another sweep are skipped. Periods are computed by Postgres from the
 * anchor and the cycle, in the billing time zone, exactly as periodBounds
 * does (calendar units added to the local time, month ends clamped; a test
 * holds the two to each other). Each invoice is due within `jitterMs`.
 */
export async function renewDue(db: Db, input: { now: Date; limit: number; jitterMs: number; zone: string }): Promise<RenewedInvoice[]> {
  const { now, zone } = input;
  const result = await sql<RenewedInvoice>`
    with due as (
      select s.id, s.current_cycle, s.billing_anchor at time zone ${zone} as local_anchor,
             p.amount, p.product_code, p.description, p.unit, p.interval_count,
             case p.interval when 'day' then interval '1 day' when 'week' then interval '7 days'
                             when 'month' then interval '1 month' else interval '1 year' end as step
      from subscriptions s join plans p on p.id = s.plan_id
      where s.next_renewal_at <= ${now} and s.status = 'active' and not s.cancel_at_period_end and s.pending_plan_id is null
      order by s.next_renewal_at
      limit ${input.limit}
      for update of s skip locked
    ), next as (
      select due.*, due.current_cycle + 1 as cycle,
             (local_anchor + step * (interval_count * current_cycle)) at time zone ${zone} as period_start,
             (local_anchor + step * (interval_count * (current_cycle + 1))) at time zone ${zone} as period_end
      from due
    ), renewed as (
      update subscriptions s
      set current_cycle = n.cycle, current_period_start = n.period_start, current_period_end = n.period_end,
          next_renewal_at = n.period_end, updated_at = ${now}
      from next n where s.id = n.id
      returning s.id
    )
    insert into invoices (id, subscription_id, cycle, status, amount, product_details, period_start, period_end, next_attempt_at, created_at, updated_at)
    select 'in_' || replace(gen_random_uuid()::text, '-', ''), n.id, n.cycle, 'open', n.amount,
           jsonb_build_array(jsonb_build_object('productionCode', n.product_code, 'description', n.description, 'quantity', 1, 'unit', n.unit, 'unitPrice', n.amount)),
           n.period_start, n.period_end,
           ${now}::timestamptz + floor(random() * (${input.jitterMs}::int + 1)) * interval '1 millisecond', ${now}, ${now}
    from next n join renewed r on r.id = n.id
    on conflict (subscription_id, cycle) where kind = 'renewal' do nothing
    returning id, attempt_count, next_attempt_at`.execute(db);
  return result.rows;
}

/** active → past_due: a charge was declined and dunning runs. */
export async function markPastDue(db: Db, effects: SideEffects, id: string, invoiceId: string, now: Date): Promise<Subscription | undefined> {
  const subscription = await db.updateTable("subscriptions").set({ status: "past_due", updated_at: now }).where("id", "=", id).where("status", "=", "active").returningAll().executeTakeFirst();
  if (subscription !== undefined) {
    await effects.event(db, { type: "subscription.past_due", dedupeKey: `subscription.past_due:${invoiceId}`, data: { subscriptionId: id, invoiceId }, occurredAt: now });
  }
  return subscription;
}

/** active | past_due → unpaid: dunning gave up, the subscription stays (a new card can still pay its invoice). */
export async function markUnpaid(db: Db, effects: SideEffects, id: string, invoiceId: string, now: Date): Promise<Subscription | undefined> {
  const subscription = await db
    .updateTable("subscriptions")
    .set({ status: "unpaid", updated_at: now })
    .where("id", "=", id)
    .where("status", "in", ["active", "past_due"])
    .returningAll()
    .executeTakeFirst();
  if (subscription !== undefined) {
    await effects.event(db, { type: "subscription.unpaid", dedupeKey: `subscription.unpaid:${invoiceId}`, data: { subscriptionId: id, invoiceId, cause: "dunning" }, occurredAt: now });
  }
  return subscription;
}

/**
 * past_due | unpaid → active, when the invoice is paid after all. Periods
 * still come from the anchor; whole periods that went by meanwhile are not
 * billed in a burst (which would spend the card's attempt budget and look
 * like fraud to the issuer): they are skipped, and the period that contains
 * now is renewed at once.
 */
export async function reactivate(db: Db, id: string, now: Date, zone: string): Promise<Subscription | undefined> {
  const row = await db
    .selectFrom("subscriptions")
    .innerJoin("plans", "plans.id", "subscriptions.plan_id")
    .select(["subscriptions.billing_anchor", "subscriptions.current_cycle", "subscriptions.next_renewal_at", "plans.interval", "plans.interval_count"])
    .where("subscriptions.id", "=", id)
    .executeTakeFirstOrThrow();
  let period = {};
  if (row.billing_anchor !== null && row.next_renewal_at !== null && row.next_renewal_at <= now) {
    // Cycle k bills period index k-1; the period containing now has index `current`.
    const current = periodIndexAt(row.billing_anchor, cadence(row), now, zone);
    if (current > row.current_cycle) {
      const last = periodBounds(row.billing_anchor, cadence(row), current - 1, zone);
      period = { current_cycle: current, current_period_start: last.start, current_period_end: last.end, next_renewal_at: last.end };
    }
  }
  return db
    .updateTable("subscriptions")
    .set({ status: "active", ...period, updated_at: now })
    .where("id", "=", id)
    .where("status", "in", ["past_due", "unpaid"])
    .returningAll()
    .executeTakeFirst();
}

/**
 * A scheduled cancel is cleared while the period still runs: the
 * subscription renews as before. `subscription.resumed`.
 */
export async function resume(db: Db, effects: SideEffects, id: string, now: Date): Promise<Subscription | undefined> {
  const subscription = await db
    .updateTable("subscriptions")
    .set({ cancel_at_period_end: false, canceled_at: null, updated_at: now })
    .where("id", "=", id)
    .where("status", "in", CARD_STATES)
    .where("cancel_at_period_end", "=", true)
    .where("next_renewal_at", ">", now)
    .returningAll()
    .executeTakeFirst();
  if (subscription !== undefined) {
    await effects.event(db, { type: "subscription.resumed", dedupeKey: `subscription.resumed:${id}:${now.getTime()}`, data: { subscriptionId: id }, occurredAt: now });
  }
  return subscription;
}

/** The plan billed from now on becomes `toPlanId` (an upgrade paid, a change without proration); guarded by the plan it leaves. */
export async function changePlan(db: Db, effects: SideEffects, input: { id: string; fromPlanId: string; toPlanId: string; now: Date }): Promise<Subscription | undefined> {
  const subscription = await db
    .updateTable("subscriptions")
    .set({ plan_id: input.toPlanId, pending_plan_id: null, updated_at: input.now })
    .where("id", "=", input.id)
    .where("plan_id", "=", input.fromPlanId)
    .where("status", "in", CARD_STATES)
    .returningAll()
    .executeTakeFirst();
  if (subscription !== undefined) await planChangedEvent(db, effects, input.id, input.fromPlanId, input.toPlanId, input.now);
  return subscription;
}

/** A change that waits for the period's end (a downgrade): the next renewal bills `toPlanId`; null clears it. */
export async function schedulePlanChange(db: Db, id: string, toPlanId: string | null, now: Date): Promise<Subscription | undefined> {
  return db
    .updateTable("subscriptions")
    .set({ pending_plan_id: toPlanId, updated_at: now })
    .where("id", "=", id)
    .where("status", "in", CARD_STATES)
    .returningAll()
    .executeTakeFirst();
}

async function planChangedEvent(db: Db, effects: SideEffects, id: string, oldPlanId: string, newPlanId: string, now: Date): Promise<void> {
  await effects.event(db, {
    type: "subscription.plan_changed",
    dedupeKey: `subscription.plan_changed:${id}:${now.getTime()}:${newPlanId}`,
    data: { subscriptionId: id, oldPlanId, newPlanId },
    occurredAt: now,
  });
}

/** Card states → the same state, ending at the period's (or trial's) end; the sweep then cancels it with cause `period_end`. */
export async function scheduleCancel(db: Db, effects: SideEffects, id: string, now: Date): Promise<Subscription | undefined> {
  const subscription = await db
    .updateTable("subscriptions")
    .set({ cancel_at_period_end: true, canceled_at: now, updated_at: now })
    .where("id", "=", id)
    .where("status", "in", CARD_STATES)
    .where("cancel_at_period_end", "=", false)
    .returningAll()
    .executeTakeFirst();
  if (subscription !== undefined) {
    await effects.event(db, {
      type: "subscription.cancel_scheduled",
      dedupeKey: `subscription.cancel_scheduled:${id}:${now.getTime()}`,
      data: { subscriptionId: id, endsAt: subscription.current_period_end?.toISOString() ?? null },
      occurredAt: now,
    });
  }
  return subscription;
}

export type CancelCause = "requested" | "period_end" | "dunning";

/**
 * incomplete | active | past_due | unpaid → canceled: the one way a
 * subscription ends, its cause as data. Open invoices are voided (dunning
 * marks the invoice it gave up on uncollectible first). A charge already in
 * flight still settles; money taken for a void invoice is refunded.
 */
export async function cancel(db: Db, effects: SideEffects, input: { id: string; cause: CancelCause; now: Date; endedAt?: Date }): Promise<Subscription | undefined> {
  const { id, cause, now } = input;
  const endedAt = input.endedAt ?? now;
  const subscription = await db
    .updateTable("subscriptions")
    .set((eb) => ({ status: "canceled", canceled_at: eb.fn.coalesce("canceled_at", eb.val(now)), ended_at: endedAt, next_renewal_at: null, cancel_at_period_end: false, updated_at: now }))
    .where("id", "=", id)
    .where("status", "in", ENDABLE)
    .returningAll()
    .executeTakeFirst();
  if (subscription === undefined) return undefined;
  const voided = await voidOpenInvoices(db, id, now);
  await effects.event(db, {
    type: "subscription.canceled",
    dedupeKey: `subscription.canceled:${id}`,
    data: { subscriptionId: id, cause, endedAt: endedAt.toISOString(), voidedInvoiceIds: voided },
    occurredAt: now,
  });
  return subscription;
}

/** incomplete → incomplete_expired for every subscription of `ids` still waiting for its first card. */
export async function expireIncomplete(db: Db, ids: readonly string[], now: Date): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable("subscriptions")
    .set({ status: "incomplete_expired", ended_at: now, updated_at: now })
    .where("id", "in", ids)
    .where("status", "=", "incomplete")
    .returning("id")
    .execute();
  return rows.map((r) => r.id);
}
